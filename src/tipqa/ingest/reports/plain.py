"""Plain text and Markdown: decode, then find the report's own headings."""
from __future__ import annotations

import re

from ...errors import ReportError
from ...text import clean_whitespace
from .base import register_loader
from .headings import Block, find_date, opening_text, sections_from_blocks

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# A closing mark, perhaps with a note's number after it ('... in these territories.22').
_SENTENCE_END = re.compile(r"""[.!?;,…]["'”’»)\]]*$|(?<=[^\W\d_])[.!?…]["'”’»)\]]*\d{1,3}$""")
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)  # a line with a web address is a note or text, never a heading
_PAGE_NUMBER = re.compile(r"^[-–\s]*\d{1,4}[-–\s]*$")


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM), else Windows-1252, else Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise ReportError(f"{name}: this looks like a binary file, not text. Check the file type and add it again.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


@register_loader(".txt", ".text")
def load_text(data: bytes, name: str):
    text = decode_text(data, name)
    lines = [clean_whitespace(line) for line in text.splitlines()]
    blocks = _text_blocks(lines)
    title = _first_title(blocks)
    return title, find_date(opening_text(blocks)), sections_from_blocks(blocks, default_heading=title or "Text")


@register_loader(".md", ".markdown")
def load_markdown(data: bytes, name: str):
    text = decode_text(data, name)
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("para", " ".join(paragraph)))
            paragraph.clear()

    for raw in text.splitlines():
        line = clean_whitespace(raw)
        match = _MD_HEADING.match(line)
        if _SETEXT.fullmatch(line) and len(paragraph) == 1:  # 'Title' underlined with '===' (level 1) or '---' (2)
            blocks.append(Block("heading", paragraph.pop(), level=1 if line[0] == "=" else 2))
        elif _RULE.fullmatch(line):  # a thematic break ('---', '* * *') is no text
            flush()
        elif match:
            flush()
            blocks.append(Block("heading", _strip_md(match.group(2)), level=len(match.group(1))))
        elif not line:
            flush()
        elif re.match(r"^([-*+•]|\d+[.)]|[a-z][.)])\s", line) or line.startswith("|"):
            flush()
            paragraph.append(_strip_md(line))
            flush()
        else:
            paragraph.append(_strip_md(line))
    flush()
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    if title is None and blocks and blocks[0].kind == "heading":  # no level-1 heading: the one it opens with
        title = blocks[0].text
    return title, find_date(opening_text(blocks)), sections_from_blocks(blocks, default_heading=title or "Text")


_SETEXT = re.compile(r"=+|-+")
_RULE = re.compile(r"(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}")


def _strip_md(text: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(\*\*|__|`)", "", text).strip()


def is_text_heading(line: str) -> bool:
    """A line the report uses as a heading: all capitals, 'PART ONE - ...', or a short unpunctuated title."""
    if not line or _PAGE_NUMBER.match(line) or len(line) > 260 or _LINK.search(line):
        return False
    words = re.findall(r"[^\W\d_]+", line)
    if not words:
        return False
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters[: max(4, len(letters) // 2)]):
        # All capitals (or a capitalised lead such as 'PART FOUR - Dialogue ...').
        lead = re.match(r"^[^a-z]*", line).group(0)
        return sum(c.isalpha() for c in lead) >= 4 and len(words) <= 40
    if line.endswith(":") and len(words) <= 12 and line[0].isupper():
        return True
    if _SENTENCE_END.search(line) or not line[0].isupper() or len(words) > 40:
        return False
    # Title-like: at least half of the first words capitalised ('Technical Working Group 1: ...').
    head = words[:4]
    return len(words) >= 2 and sum(w[0].isupper() for w in head) * 2 > len(head)


def _text_blocks(lines: list[str]) -> list[Block]:
    """One block per line: headings (with a subtitle line folded in) and paragraphs; a line that continues the
    sentence a wrapped line above it left open (PDF-derived text) joins that paragraph."""
    lines = drop_repeated_lines(lines)
    headings = _confirmed_headings(lines)
    blocks: list[Block] = []
    joined: dict[int, list[str]] = {}  # block index -> the lines that continue it (joined once, at the end)
    previous_line = -2  # the index of the line the last paragraph block ends with
    for index, line in enumerate(lines):
        if not line or _PAGE_NUMBER.match(line):
            continue
        if index not in headings and previous_line == index - 1 and _wrapped(lines[index - 1], line):
            # a word or a link cut after a hyphen joins without a space: 'Secretary-' / 'General (S/2024/384)'
            joined.setdefault(len(blocks) - 1, []).append(("" if _HYPHEN_END.search(lines[index - 1]) else " ") + line)
            previous_line = index
            continue
        if index in headings:
            previous = blocks[-1] if blocks else None
            if previous and previous.kind == "heading" and _is_subtitle(previous, line):
                previous.subtitle = line
                continue
            blocks.append(Block("heading", line.rstrip(":").strip(), level=1))
        elif blocks and blocks[-1].kind == "heading" and not blocks[-1].subtitle and _is_subtitle(blocks[-1], line) \
                and not (index + 1 < len(lines) and _wrapped(line, lines[index + 1])):
            blocks[-1].subtitle = line  # unless the sentence runs on below: '... Congo (MONUSCO)' / 'reported ...'
        else:
            blocks.append(Block("para", line))
            previous_line = index
    for at, more in joined.items():
        blocks[at].text += "".join(more)
    return blocks


# A sentence ends a line; so does a heading-like colon. A comma does not: the sentence runs on.
_LINE_CLOSED = re.compile(r"""[.!?:;…]["'”’»)\]]*$""")
_HYPHEN_END = re.compile(r"\w-$")
_ITEM_START = re.compile(r"^(?:[-*+•◦▪–—]|\(?\d{1,3}[.)]|\(?[a-z][.)]|\(?[ivxlc]{1,5}[.)])\s")


def _wrapped(above: str, line: str) -> bool:
    """Whether line continues a sentence that the long line above left open: 'Between 2021' / 'and 2022, about
    2,000 children were recruited ...', '... (MONUSCO)' / 'reported sustained clashes ...'. The line above must
    be long and end without a sentence's closing mark; this line must open in lower case, or the line above end
    on a lower-case word, a comma or a hyphen after a letter ('Secretary-' / 'General'); a list item, a bullet, a
    caption ('Source: ...') or a line in capitals starts something new."""
    letters = [c for c in line if c.isalpha()]
    if len(above) < 40 or _LINE_CLOSED.search(above) or _ITEM_START.match(line) or _CAPTION.match(line) \
            or (len(letters) >= 4 and all(c.isupper() for c in letters)):
        return False
    if _HYPHEN_END.search(above):
        return line[0].isalnum()
    return line[0].islower() or (above[-1].islower() or above[-1] == ",") and (line[0].isalpha() or line[0] in "(“\"")


def drop_repeated_lines(lines: list[str]) -> list[str]:
    """Blank out running headers and footers: short lines repeated on many pages of a PDF-derived text."""
    counts: dict[str, int] = {}
    for line in lines:
        if line and len(line) <= 120:
            key = re.sub(r"\d+", "#", line)
            counts[key] = counts.get(key, 0) + 1
    repeated = {key for key, n in counts.items() if n >= 3 and re.search(r"[^\W\d_]{3}", key)}
    return ["" if line and re.sub(r"\d+", "#", line) in repeated else line for line in lines]


def _confirmed_headings(lines: list[str]) -> set[int]:
    """Indexes of heading-like lines that open real text.

    A short title-like line is only a heading when real prose follows it (after an optional subtitle, or
    through a chain of further headings such as 'CHAPTER 2' / 'TITLE'); chart labels, country lists and
    wrapped lines of a sentence look like titles but are followed by more fragments, not by a paragraph.
    """
    present = [i for i, line in enumerate(lines) if line and not _PAGE_NUMBER.match(line)]
    confirmed: set[int] = set()
    for pos in range(len(present) - 1, -1, -1):
        index = present[pos]
        line = lines[index]
        if _CAPTION.match(line) or _continues_sentence(lines, present, pos):
            continue
        if not (is_text_heading(line) or _is_sentence_case_title(lines, present, pos)):
            continue
        following = present[pos + 1:pos + 4]
        if not following:
            continue
        nxt = following[0]
        if _WRAPPED_END.search(line):
            continue
        if _is_prose(lines[nxt]) or nxt in confirmed:
            confirmed.add(index)
        elif len(following) > 1 and _is_subtitle(Block("heading", line), lines[nxt]) and _is_prose(lines[following[1]]):
            confirmed.add(index)
    return confirmed


# A line ending on a function word was wrapped mid-sentence; it is not a title.
_WRAPPED_END = re.compile(r"\b(a|an|the|of|and|or|in|on|for|to|with|by|from|at|as|that|de|la|el|los|las|y|en|del)$",
                          re.IGNORECASE)
_OPEN_END = re.compile(r"""[,;]["'”’»)\]]*$|["'”’»)\]][,;]$""")
_CAPTION = re.compile(r"^(fig\.?|figure|table|map|chart|box|source|sources|note|notes)\b", re.IGNORECASE)


def _is_prose(line: str) -> bool:
    """A line of running text: long, or a full sentence of several words."""
    words = len(line.split())
    starts = line[0].isupper() or line[0].isdigit() or line[0] in "\"'“‘(¿¡•-–"
    return starts and ((len(line) >= 80 and words >= 10) or (words >= 6 and bool(_SENTENCE_END.search(line))))


def _continues_sentence(lines: list[str], present: list[int], pos: int) -> bool:
    """The line right above (no blank line between) was cut mid-sentence, so this line continues it: a long
    line without a closing mark, or a line ending on a function word ('... documented in the' / 'Sahel, ...') or
    on a comma or semicolon ('... Secretariat,' / 'Working Group on ...', a note wrapped over lines). A line in
    capitals still opens something new after a comma ('... of its Member States,' / 'RESOLVES:')."""
    if pos == 0 or present[pos - 1] != present[pos] - 1:
        return False
    above, line = lines[present[pos - 1]], lines[present[pos]]
    if len(above) >= 50 and not _SENTENCE_END.search(above):
        return True
    letters = [c for c in line if c.isalpha()]
    capitals = len(letters) >= 4 and all(c.isupper() for c in letters)
    return len(above) >= 20 and not capitals and bool(_WRAPPED_END.search(above) or _OPEN_END.search(above))


def _is_sentence_case_title(lines: list[str], present: list[int], pos: int) -> bool:
    """'Climate change and lost livelihoods': a short capitalised line right after a finished sentence."""
    line = lines[present[pos]]
    words = re.findall(r"[^\W\d_]+", line)
    if not (2 <= len(words) <= 12 and len(line) <= 100 and line[0].isupper()) or _SENTENCE_END.search(line):
        return False
    above = lines[present[pos - 1]] if pos else ""
    return not above or len(above) < 50 or bool(_SENTENCE_END.search(above)) or is_text_heading(above)


def _is_subtitle(heading: Block, line: str) -> bool:
    """An unpunctuated line right under an all-caps heading ('PART ONE' / 'Review of the progress ...')."""
    letters = [c for c in heading.text if c.isalpha()]
    return (
        bool(letters) and all(c.isupper() for c in letters)
        and not _SENTENCE_END.search(line) and not line.isupper() and len(line) < 300
    )


def _first_title(blocks: list[Block]) -> str | None:
    return None
