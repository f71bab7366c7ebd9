"""Split a report's sections into chunks that never cross a section, with stable readable ids."""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from ..text import sentence_spans, slugify
from .reports import Report, Section

# Bump when chunk boundaries change: a refresh re-chunks, reusing equal passages' vectors. 3: sentences end after a
# word ending in an accented letter ('Asunción.'). 4: not after a symbol's part ('AG/RES. 2551');
# a list item's sentence starts after its bullet ('• '). 5: a footnote mark glued to a full stop ends the sentence
# ('population.3 Alongside'), 'etc.' before a capital too; a list item's number does not ('1. This Protocol').
# 6: a text file's line that continues a sentence wrapped at the line above joins its paragraph ('Between 2021' /
# 'and 2022, about 2,000 children ...'; ingest/reports/plain.py). 7: the meeting facts read at ingestion gained the
# meeting's officers and the report's opening words (ingest/meeting.py), so every report is read again. 8: the report's
# title is part of every passage's embedded (and BM25) text, before its section path (Chunk.context_text). 9: Markdown
# headings underlined with '===' or '---' are headings (a thematic break is no text), and a Markdown file without a
# level-1 heading takes the heading it opens with as its title. 10: a text file's line after a line ending on a
# function word, a comma or a semicolon continues it, a line with a web address is no heading, and a note's number
# after a closing mark ends a sentence ('territories.22'): a PDF text's wrapped lines and endnotes are no headings.
# 11: the gazetteer knows every state's demonyms ('Senegalese', 'eritreo') and no longer reads 'Reunión' (a meeting)
# as Réunion; the speakers and meeting facts read at ingestion use it, so every report is read again. 12: a report
# without a title of its own is titled by its file name's words as its text writes them ('OAS ... Guatemala 2012',
# not 'Oas ... guatemala 2012 en'), and the title is embedded with every passage.
CHUNKER_VERSION = 12


@dataclass
class Chunk:
    chunk_id: str  # "<report-id>/<section-slug>/<n>"
    report_id: str
    report_title: str
    section: str  # the section's own heading
    section_path: list[str]
    text: str
    sentences: list[tuple[int, int]]  # character spans inside text
    content_hash: str  # of the text the embedder sees
    page: int | None = None
    position: int = 0  # order of the chunk inside its report

    @property
    def context_text(self) -> str:
        """What the passage is read in: its report's title, then its section path (the title once where the path
        opens with it; 'Text', the section of a file without headings or title, says nothing and is left out).
        A question names the report as often as the passage's words ('at the seventh meeting', 'the 2006 press
        release', 'the UNODC chapter on Africa'), and most passages do not say which report they are from."""
        path = [p for p in self.section_path if p != "Text"]
        head = [self.report_title] if self.report_title and (not path or path[0] != self.report_title) else []
        return " › ".join(head + path)

    def embedding_text(self) -> str:
        """What the embedder (and BM25) sees: the report's title and the section path as context, then the passage."""
        return f"{self.context_text}\n{self.text}"

    def to_record(self) -> dict:
        # By hand, not dataclasses.asdict: its deep copy was a third of writing an index of 60k passages.
        record = {name: getattr(self, name) for name in self.__dataclass_fields__}
        record["section_path"] = list(self.section_path)
        record["sentences"] = [list(span) for span in self.sentences]
        return record

    @classmethod
    def from_record(cls, record: dict) -> "Chunk":
        fields = dict(record)
        fields["sentences"] = [tuple(span) for span in fields["sentences"]]
        return cls(**fields)


def chunk_report(report: Report, max_chars: int = 700) -> list[Chunk]:
    chunks: list[Chunk] = []
    used_slugs: dict[str, int] = {}
    for section in report.sections:
        slug = slugify(section.heading)
        used_slugs[slug] = used_slugs.get(slug, 0) + 1
        if used_slugs[slug] > 1:
            slug = f"{slug}-{used_slugs[slug]}"
        for n, (text, page) in enumerate(chunk_section(section, max_chars), start=1):
            chunk = Chunk(
                chunk_id=f"{report.report_id}/{slug}/{n:03d}", report_id=report.report_id,
                report_title=report.title, section=section.heading, section_path=list(section.path or [section.heading]),
                text=text, sentences=sentence_spans(text), content_hash="", page=page, position=len(chunks),
            )
            chunk.content_hash = hashlib.sha256(chunk.embedding_text().encode()).hexdigest()[:16]
            chunks.append(chunk)
    return chunks


def chunk_section(section: Section, max_chars: int) -> list[tuple[str, int | None]]:
    """Pack whole paragraphs up to max_chars; a longer paragraph is cut between sentences.

    Returns:
        (text, page) pairs; page is the page the chunk starts on, where the format has pages.
    """
    paragraphs = list(section.paragraphs)
    pages = list(section.paragraph_pages or [section.page] * len(paragraphs))
    if section.subtitle:  # 'PART ONE' / 'Review of the progress ...': the subtitle is report text too
        paragraphs.insert(0, section.subtitle)
        pages.insert(0, section.page)
    pieces: list[tuple[str, int | None]] = []
    for paragraph, page in zip(paragraphs, pages):
        for piece in _split_long(paragraph.strip(), max_chars):
            pieces.append((piece, page))
    out: list[tuple[str, int | None]] = []
    for piece, page in pieces:
        if out and _joins(out[-1][0], piece, max_chars):
            out[-1] = (out[-1][0] + "\n" + piece, out[-1][1])
        else:
            out.append((piece, page))
    return out


def _joins(previous: str, piece: str, max_chars: int) -> bool:
    """Join short neighbours (list items, one-line paragraphs) so a chunk has enough context; a lead-in
    such as 'For the purposes of this Protocol:' always stays with what it introduces."""
    combined = len(previous) + 1 + len(piece)
    if combined <= max_chars // 2:
        return True
    lead_in = previous.rstrip().endswith(":") or len(previous) < max_chars // 5
    return lead_in and combined <= max_chars * 1.25


_CONTINUES = re.compile(r"^(It|Its|They|Their|This|That|These|He|She|Also|However|In addition)\b")


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    """Cut between sentences into pieces of balanced length, never before 'It also ...' when avoidable."""
    if len(paragraph) <= max_chars:
        return [paragraph] if paragraph else []
    target = len(paragraph) / math.ceil(len(paragraph) / max_chars)
    pieces: list[str] = []
    current = ""
    for start, end in sentence_spans(paragraph):
        sentence = paragraph[start:end]
        full = len(current) + 1 + len(sentence) > max_chars
        ready = len(current) >= target * 0.9 and not _CONTINUES.match(sentence)
        if current and (full or ready):
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        if pieces and len(current) < target / 3 and len(pieces[-1]) + len(current) <= max_chars * 1.25:
            current = pieces.pop() + " " + current  # no orphan 'It also ...' tail
        pieces.append(current)
    # A single sentence longer than the limit is kept whole: cutting it would break the evidence.
    return pieces
