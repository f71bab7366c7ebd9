"""PDF, DOCX and HTML loaders: the document's own headings, title, date and (PDF) page numbers."""
from __future__ import annotations

import io
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser

from ...errors import ReportError
from ...text import clean_whitespace
from .base import register_loader
from .headings import Block, find_date, opening_text, sections_from_blocks
from .plain import decode_text

# ---- dates --------------------------------------------------------------------------------------------------
# ---- PDF ------------------------------------------------------------------------------------------------------
@dataclass
class _Line:
    text: str
    x: float
    y: float
    size: float
    bold: bool
    column: int
    page: int  # index of the page in the file
    rel: float = 0.5  # height on the page: 0 = bottom edge, 1 = top edge


_BOLD = re.compile(r"bold|semibold|black|heavy", re.I)
_HEADER_BAND = 0.07  # running headers and footers live in the top and bottom 7% of the page


@register_loader(".pdf")
def load_pdf(data: bytes, name: str):
    """Sections from the outline when the PDF has one, else from font size and weight; pages from page labels."""
    reader = _open_pdf(data, name)
    lines = _pdf_lines(reader, name)
    if not lines:
        return None, None, []
    body = _body_size(lines)
    lines = _drop_running_lines([ln for ln in lines if ln.size >= body * 0.8], len(reader.pages))
    labels = _page_numbers(reader)
    outline = _outline_titles(reader)
    blocks = _pdf_blocks(lines, body, outline, labels)
    title = _pdf_title(reader, lines)
    date = find_date(opening_text(blocks)) or _pdf_metadata_date(reader)
    return title, date, sections_from_blocks(blocks, default_heading=title or "Text")


def _open_pdf(data: bytes, name: str):
    import pypdf
    from pypdf.errors import PyPdfError
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files log a warning per object
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ReportError(f"{name}: this is not a PDF (no %PDF header). Check the file and its extension.")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReportError(f"{name}: the PDF is password-protected. Remove the password (or print it to a new PDF) "
                              f"and add it again.")
        len(reader.pages)
    except ReportError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise ReportError(f"{name}: the PDF is damaged or incomplete ({type(error).__name__}: {error}). "
                          f"Download or export it again.") from None
    return reader


def _pdf_lines(reader, name: str) -> list[_Line]:
    from pypdf.errors import PyPdfError
    lines: list[_Line] = []
    for index, page in enumerate(reader.pages):
        try:
            lines.extend(_page_lines(page, index))
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            raise ReportError(f"{name}: page {index + 1} of the PDF is damaged ({type(error).__name__}: {error}). "
                              f"Download or export it again.") from None
    return lines


def _page_lines(page, index: int) -> list[_Line]:
    """Text fragments of one page grouped into lines, in reading order (left column, then right column)."""
    width = float(page.mediabox.width) or 612.0
    frags: list[tuple[float, float, float, str, str]] = []

    def visit(text, cm, tm, font, size):
        if not text.strip():
            return
        a, b, c, d, e, f = _multiply(tm, cm)
        if abs(b) > 1e-3 or abs(c) > 1e-3:
            return  # rotated text: chart axes and margin notes, not reading text
        font_name = str(font.get("/BaseFont", "")) if font else ""
        frags.append((e, f, abs(size * d), text, font_name))

    page.extract_text(visitor_text=visit)
    def column(x: float, text: str) -> int:
        # A lone hyphen ends a line of the left column even when it sits just past the middle of the page.
        return 0 if x - (20 if len(text.strip()) <= 2 else 0) < width * 0.48 else 1

    frags.sort(key=lambda fr: (column(fr[0], fr[3]), -round(fr[1]), fr[0]))
    lines: list[_Line] = []
    for x, y, size, text, font in frags:
        column_no = column(x, text)
        last = lines[-1] if lines else None
        if last and last.column == column_no and abs(last.y - y) <= max(size, last.size) * 0.5:
            last.text += text.replace("\n", " ")
            last.bold = last.bold and bool(_BOLD.search(font))
            last.size = max(last.size, size) if size >= last.size * 0.8 else last.size
            continue
        lines.append(_Line(text.replace("\n", " "), x, y, size, bool(_BOLD.search(font)), column_no, index))
    for line in lines:
        # A soft hyphen at the end of a line marks a word cut in two; elsewhere it is invisible.
        line.text = clean_whitespace(re.sub(r"\u00ad\s*$", "-", line.text).replace("\u00ad", ""))
    height = float(page.mediabox.height) or 792.0
    for line in lines:
        line.rel = line.y / height
    return [ln for ln in lines if re.search(r"[^\W\d_]{2}", ln.text)]


def _multiply(m, n):
    a, b, c, d, e, f = (float(v) for v in m)
    p, q, r, s, t, u = (float(v) for v in n)
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _body_size(lines: list[_Line]) -> float:
    counts: Counter = Counter()
    for line in lines:
        counts[round(line.size, 1)] += len(line.text)
    return counts.most_common(1)[0][0]


def _drop_running_lines(lines: list[_Line], pages: int) -> list[_Line]:
    """Headers and footers: lines near the top or bottom edge repeated (digits aside) on several pages."""
    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    def at_edge(line: _Line) -> bool:
        return line.rel > 1 - _HEADER_BAND or line.rel < _HEADER_BAND

    edge = [ln for ln in lines if at_edge(ln)]
    seen = Counter(key(ln) for ln in edge)
    repeated = {k for k, n in seen.items() if n >= max(3, pages // 5)}
    return [ln for ln in lines if not (at_edge(ln) and key(ln) in repeated)]


def _page_numbers(reader) -> list[int]:
    """The printed page number of each page (page labels such as '67'), else its position in the file."""
    try:
        labels = list(reader.page_labels)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        labels = []
    return [int(labels[i]) if i < len(labels) and labels[i].isdigit() else i + 1 for i in range(len(reader.pages))]


def _outline_titles(reader) -> dict[str, int]:
    """Folded outline (bookmark) titles -> depth (1 = top level); empty when the PDF has no outline."""
    titles: dict[str, int] = {}

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            elif getattr(item, "title", None):
                titles.setdefault(_fold(item.title), min(depth, 6))

    try:
        walk(reader.outline, 1)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return {}
    return titles


def _fold(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def _heading_levels(lines: list[_Line], body: float) -> dict[float, int]:
    """Font sizes used for headings, largest first: 1, 2, ...

    Only sizes that recur on several pages count: a size seen on one page is a cover, a chart title or an
    infographic label, and would otherwise nest the whole document under it.
    """
    pages: dict[float, set[int]] = {}
    for line in lines:
        if _is_heading_style(line, body):
            pages.setdefault(round(line.size, 1), set()).add(line.page)
    recurring = sorted((size for size, seen in pages.items() if len(seen) > 1), reverse=True)
    return {size: min(level, 6) for level, size in enumerate(recurring, start=1)}


def _is_heading_style(line: _Line, body: float) -> bool:
    if len(line.text) > 200:
        return False
    return line.size >= body * 1.15 or (line.size >= body * 1.02 and line.bold)


def _pdf_blocks(lines: list[_Line], body: float, outline: dict[str, int], labels: list[int]) -> list[Block]:
    """Headings and paragraphs: lines join while the spacing and size stay those of running text."""
    levels = _heading_levels(lines, body)
    blocks: list[Block] = []
    previous: _Line | None = None
    for line in lines:
        page = labels[line.page]
        level = _outline_level(line, outline) if outline else levels.get(round(line.size, 1))
        last = blocks[-1] if blocks else None
        if level:
            if last and last.kind == "heading" and previous and _same_run(previous, line) and last.level == level:
                last.text = _join(last.text, line.text)  # a heading wrapped over two lines
            else:
                blocks.append(Block("heading", line.text, level=level, page=page))
        elif last and last.kind == "para" and previous and _continues(previous, line, last.text):
            last.text = _join(last.text, line.text)
        else:
            blocks.append(Block("para", line.text, page=page))
        previous = line
    return [b for b in blocks if b.kind == "heading" or len(b.text) > 2]


def _outline_level(line: _Line, outline: dict[str, int]) -> int | None:
    folded = _fold(line.text)
    return outline.get(folded) if len(folded) > 2 else None


def _same_run(above: _Line, line: _Line) -> bool:
    """The next line of the same block: same page and column, right below, same size."""
    gap = above.y - line.y
    return (above.page == line.page and above.column == line.column and abs(above.size - line.size) < 0.6
            and 0 < gap <= line.size * 1.9)


def _continues(above: _Line, line: _Line, paragraph: str) -> bool:
    if _same_run(above, line):
        return True
    # A paragraph cut at the foot of a column or page goes on at the top of the next one.
    return (abs(above.size - line.size) < 0.6 and not re.search(r"[.!?:;”\"]$", paragraph)
            and line.text[:1].islower())


def _join(text: str, more: str) -> str:
    """Join two lines of a paragraph, undoing end-of-line hyphenation ('traffick-' + 'ing')."""
    if re.search(r"[^\W\d_]-\s*$", text) and more[:1].islower():
        return text.rstrip()[:-1] + more
    return f"{text} {more}"


def _pdf_title(reader, lines: list[_Line]) -> str | None:
    meta = reader.metadata or {}
    title = clean_whitespace(str(meta.get("/Title") or ""))
    if len(title) > 5 and not re.search(r"untitled|microsoft word|\.(pdf|docx?|indd)$", title, re.I):
        return title
    first = [ln for ln in lines if ln.page == min(l.page for l in lines)]
    largest = max(ln.size for ln in first)
    return clean_whitespace(" ".join(ln.text for ln in first if ln.size >= largest * 0.95)) or None


def _pdf_metadata_date(reader) -> str | None:
    raw = str((reader.metadata or {}).get("/CreationDate") or "")
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})", raw)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


# ---- DOCX -----------------------------------------------------------------------------------------------------
_MAX_UNZIPPED = 512 * 1024 * 1024  # a Word report never needs more; beyond this it is a zip bomb
_MAX_RATIO = 200


def check_zip(data: bytes, name: str) -> None:
    """Refuse zip bombs from the declared sizes, before anything is decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ReportError(f"{name}: not a valid Word document ({error}). Open it in Word or LibreOffice and save it "
                          f"again as .docx.") from None
    total = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    if total > _MAX_UNZIPPED or (total > 50 * 1024 * 1024 and total / packed > _MAX_RATIO):
        raise ReportError(f"{name}: the document unpacks to {total / 2**20:,.0f} MB from {len(data) / 2**20:,.1f} MB "
                          f"(a zip bomb or a damaged file). It was not opened; save a clean copy and add that.")


@register_loader(".docx")
def load_docx(data: bytes, name: str):
    """Heading styles ('Heading 1'...'Heading 9', 'Title') make sections; table rows become text lines."""
    check_zip(data, name)
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _docx_blocks(document)
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ReportError(f"{name}: not a readable Word document ({error}). Open it in Word or LibreOffice and save "
                          f"it again as .docx.") from None
    title = clean_whitespace(document.core_properties.title or "") or next(
        (b.text for b in blocks if b.kind == "heading"), None)
    return title, find_date(opening_text(blocks)), sections_from_blocks(blocks, default_heading=title or "Text")


def _docx_blocks(document) -> list[Block]:
    from docx.table import Table
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(Block("para", row) for row in _table_rows(item))
            continue
        text = clean_whitespace(item.text)
        if not text:
            continue
        level = _docx_heading_level(item.style.name if item.style is not None else "")
        blocks.append(Block("heading", text, level=level) if level else Block("para", text))
    return blocks


def _docx_heading_level(style: str) -> int | None:
    if style == "Title":
        return 1
    match = re.match(r"^(?:Heading|Título|Titulo)\s*(\d)$", style, re.I)
    return min(int(match.group(1)), 6) if match else None


def _table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = clean_whitespace(cell.text)
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


# ---- HTML -----------------------------------------------------------------------------------------------------
_SKIP = {"script", "style", "nav", "header", "footer", "noscript", "template", "svg", "aside", "form", "button",
         "iframe", "select", "canvas", "menu"}
_BREAK = {"p", "div", "li", "td", "th", "tr", "br", "section", "article", "blockquote", "pre", "dd", "dt", "table",
          "ul", "ol", "main", "figcaption", "caption", "hr", "body"}


class _HTMLBlocks(HTMLParser):
    """A streaming (non-recursive) walk: deep nesting costs a counter, not a stack frame."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.buffer: list[str] = []
        self.skip = 0
        self.heading: int | None = None
        self.in_title = False
        self.title = ""
        self.date: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _SKIP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "meta" and (attrs.get("name") or attrs.get("property") or "").lower() in (
                "date", "dc.date", "dcterms.date", "article:published_time", "citation_date"):
            self.date = self.date or find_date(attrs.get("content") or "")
        elif tag == "time" and attrs.get("datetime"):
            self.date = self.date or find_date(attrs["datetime"])
        elif re.fullmatch(r"h[1-6]", tag):
            self.flush()
            self.heading = int(tag[1])
        elif tag in _BREAK:
            self.flush()

    def handle_startendtag(self, tag, attrs):
        if tag not in _SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self.in_title = False
        elif re.fullmatch(r"h[1-6]", tag) or tag in _BREAK:
            self.flush()

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif not self.skip:
            self.buffer.append(data)

    def flush(self) -> None:
        text = clean_whitespace(" ".join(self.buffer))
        self.buffer.clear()
        if text:
            self.blocks.append(Block("heading", text, level=self.heading) if self.heading else Block("para", text))
        self.heading = None


@register_loader(".html", ".htm", ".xhtml")
def load_html(data: bytes, name: str):
    """Headings h1-h6 make sections; scripts, styles, navigation, headers and footers are dropped."""
    parser = _HTMLBlocks()
    parser.feed(decode_text(data, name))
    parser.close()
    parser.flush()
    blocks = parser.blocks
    title = clean_whitespace(parser.title) or next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    date = parser.date or find_date(opening_text(blocks))
    return title, date, sections_from_blocks(blocks, default_heading=title or "Text")
