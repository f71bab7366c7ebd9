"""Plain-text helpers shared by loaders, chunking and answering: slugs, normalisation, sentence spans.

Sentences are split by tipqa's own rules, not by a library: on 121 hand-labelled paragraphs of the real reports
(tests/data/sentences_gold.jsonl; python bench/sentences.py) boundary F1 English/Spanish is 0.959/0.971 with these
rules, 0.876/0.786 with pysbd 0.3.4 (quotes missed; 'AG/RES. 2019', 'Inc. b)', '24hs. los' split) at 1/90 of the
speed (47 % of a build), 0.834/0.985 with blingfire 0.1.8 (0.830/0.971 with the line and length rules below; PDF
footnote marks and list numbers missed). The same rules serve both languages: the abbreviations of either are
never sentence ends in the other.
"""
from __future__ import annotations

import re
import unicodedata

# Abbreviations after which a period does not end a sentence (lower-cased, without the period).
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof amb sr sra srta st jr inc ltd corp co no nos vs etc al e.g i.e cf fig figs art arts "
    "para paras rev corr doc vol pp p op ed eds gen lt col capt hon rep sen gov dept univ approx est jan feb mar "
    "apr jun jul aug sep sept oct nov dec u.s u.n d.c i.d a.m p.m ph.d "
    "dra dres lic ing excmo excma sres srs núm pág págs cap ej ee.uu gral cnel tte emb av aprox tel ud uds res "
    "mtro mtra sta sto".split()  # Spanish
)
# Abbreviations that also end sentences: 'on the street, etc. They felt ...' (the next word must start a sentence).
_CLOSING_ABBREVIATIONS = frozenset({"etc"})
# A sentence end, with the closing quotes and brackets that follow it and a footnote mark glued to it (PDF text:
# 'population.3 Alongside', 'activities.”29 Smugglers', 'armed groups.57Al-Shabab', 'per cent.g This').
_SENT_END = re.compile(r"""(?P<stop>[.!?…]+)["'”’»)\]]*(?:(?=\s|$)|(?P<note>\d{1,3}|[a-z])"""
                       r"""(?=\s+["'“‘«(\[]?[A-ZÁÉÍÓÚÑÜ]|[A-Z][a-z]))""")
# A list item's number or letter opening a line: '1. This Protocol ...', 'iii. The impact ...', 'b. ...'.
_ITEM_NUMBER = re.compile(r"(?:^|\n)[\s•◦▪●‣⁃*-]*(?:\d{1,3}|[ivxlc]{1,5}|[IVXLC]{1,5}|[a-zA-Z])\.$")
_NEXT_START = re.compile(r"""\s+(?=["'“‘«(\[]?[A-ZÁÉÍÓÚÑÜ0-9¿¡•\-–])""")
# The whole word before a period, letters of any script ('Asunción.' is not the initial 'n.'), dots inside ('U.S.').
_WORD_BEFORE = re.compile(r"(?<![^\W\d_])([^\W\d_][^\W\d_.]*(?:\.[^\W\d_]+)*)\.$")
# A run of text with no sentence end (a table dumped as one line, a file built to hang parsers) is cut into
# pieces of at most this many characters, at a space where there is one: every later stage (chunking, entities,
# attribution, the encoder) then works on bounded pieces and stays linear in the report's size.
MAX_SENTENCE_CHARS = 1000


def slugify(text: str, max_len: int = 48) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_len:
        slug = slug[:max_len].rsplit("-", 1)[0] or slug[:max_len]
    return slug or "section"


class _StripTable(dict):
    """str.translate table: a character -> its NFKD decomposition without combining marks, filled on first sight."""

    def __missing__(self, code: int) -> str:
        stripped = self[code] = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        return stripped


_STRIP_TABLE = _StripTable()


def fold(text: str) -> str:
    """Lower-case and strip accents: 'México' -> 'mexico'."""
    if text.isascii():
        return text.lower()  # NFKD leaves ASCII alone and it has no combining marks
    # NFKD decomposes character by character and only reorders combining marks, which are dropped: per-character
    # decomposition gives the same string. Lower-casing stays on the whole text (final sigma depends on context).
    return text.translate(_STRIP_TABLE).lower()


def clean_whitespace(text: str) -> str:
    return re.sub(r"[ \t\u00a0\u2000-\u200b]+", " ", text).strip()


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period at text[end-1] closes an abbreviation or an initial, not a sentence."""
    window = max(0, end - 64)
    match = _WORD_BEFORE.search(text[window:end])  # a window: the whole prefix made long texts quadratic
    if not match:
        return False
    word = match.group(1).lower()
    at = window + match.start()
    if at > 0 and text[at - 1] == "/" and match.group(1)[:1].isupper():
        return True  # a document symbol's part: 'AG/RES. 2551', 'OEA/Ser. G'
    if word in _CLOSING_ABBREVIATIONS:
        return False
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return True
    # A single capital initial ("John F. Kennedy") or a dotted acronym ("U.S.", "I.D.").
    return len(word) == 1 or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]?", word))


def _after_word(text: str, at: int) -> bool:
    """True when text[at-1] ends a word or closes a quote or bracket (a footnote mark may follow its stop)."""
    before = text[at - 1: at]
    return bool(before) and (before.isalpha() or before in "”’\")]")


def _is_item_number(text: str, end: int) -> bool:
    """True when the period at text[end-1] closes a list item's number at the start of a line ('2. Each State')."""
    return bool(_ITEM_NUMBER.search(text, max(0, end - 12), end))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of text, robust to 'Mr.', 'No.1', 'D.C.', quotes and lists.

    Returns:
        (start, end) pairs with text[start:end] a stripped sentence, in order, covering all non-space text.
    """
    spans: list[tuple[int, int]] = []
    start, last = 0, len(text.rstrip())  # once: rstrip at every candidate stop made 1 MB of 'end. lower' quadratic
    for match in _SENT_END.finditer(text):
        end, punct_end, note = match.end(), match.end("stop"), match.group("note")
        if note and not _after_word(text, match.start()):
            continue  # '26.364 Título', '2022.46 Other': a number's decimals, not a footnote mark
        if text[punct_end - 1] == "." and (_is_abbreviation(text, punct_end) or _is_item_number(text, punct_end)):
            continue
        if not (_NEXT_START.match(text, end) or (note and text[end:end + 1].isupper())) and end < last:
            continue
        _append_span(text, start, end, spans)
        start = end
    _append_span(text, start, len(text), spans)
    return _cap_length(text, _split_lines(text, spans))


def _cap_length(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans longer than MAX_SENTENCE_CHARS cut at the last space before the limit (or at the limit)."""
    if all(end - start <= MAX_SENTENCE_CHARS for start, end in spans):
        return spans
    out: list[tuple[int, int]] = []
    for start, end in spans:
        while end - start > MAX_SENTENCE_CHARS:
            cut = text.rfind(" ", start + MAX_SENTENCE_CHARS // 2, start + MAX_SENTENCE_CHARS)
            cut = cut if cut > start else start + MAX_SENTENCE_CHARS
            _append_span(text, start, cut, out)
            start = cut
        _append_span(text, start, end, out)
    return out


def _append_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    if piece.strip():
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + len(piece.rstrip())))


_BULLETS = " \t\r\n•◦▪●‣⁃"


def _split_lines(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Line breaks inside a span (list items, table rows) also end a sentence."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        offset = start
        for line in text[start:end].split("\n"):
            if line.strip(_BULLETS):
                lead = len(line) - len(line.lstrip(_BULLETS))  # a list's bullet is no part of its item's sentence
                out.append((offset + lead, offset + len(line.rstrip())))
            offset += len(line) + 1
    return out


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]
