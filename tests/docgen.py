"""Test documents generated on the fly: a hand-written PDF, the seed report as DOCX and as HTML."""
from __future__ import annotations

import html
import io
from pathlib import Path

from tipqa.ingest.reports import Report


def make_pdf(pages: list[list[tuple[float, float, float, str, bool]]]) -> bytes:
    """A real PDF with a text layer: each page is a list of (x, y, font size, text, bold) lines in Helvetica."""
    objects: list[bytes] = []
    kids = []
    page_ids = [5 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids)
                   + b"] /Count %d >>" % len(pages))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    for page_id, lines in zip(page_ids, pages):
        stream = b"".join(
            b"BT /%s %.1f Tf 1 0 0 1 %.1f %.1f Tm (%s) Tj ET\n" % (
                b"F2" if bold else b"F1", size, x, y,
                text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)"))
            for x, y, size, text, bold in lines)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
                       b"/F2 4 0 R >> >> /Contents %d 0 R >>" % (page_id + 1))
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
        kids.append(page_id)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def sample_pdf() -> bytes:
    """Three pages: a title, a running header and footer, headings at 14 pt, a word hyphenated across lines."""
    def page(number: int, lines):
        furniture = [(72, 770, 8, "Annual Report on Trafficking 2009", False), (300, 30, 8, str(number), False)]
        return furniture + lines

    body = 10
    return make_pdf([
        page(1, [(72, 700, 20, "Annual Report on Trafficking", True),
                 (72, 670, body, "Published in Buenos Aires on 27 March 2009.", False),
                 (72, 630, 14, "Introduction", True),
                 (72, 610, body, "The meeting reviewed how states fight traf-", False),
                 (72, 597, body, "ficking in persons across the hemisphere.", False)]),
        page(2, [(72, 700, 14, "Findings", True),
                 (72, 680, body, "Brazil proposed joint investigation teams to the other", False),
                 (72, 667, body, "delegations, and Peru supported the proposal.", False)]),
        page(3, [(72, 700, 14, "Recommendations", True),
                 (72, 680, body, "States should share data on victims every year.", False)]),
    ])


def seed_as_docx(report: Report, path: Path) -> Path:
    """The seed report's own sections as a Word file: 'Heading 1' per section, subtitles and paragraphs as text."""
    import docx
    document = docx.Document()
    document.core_properties.title = report.title
    for section in report.sections:
        document.add_heading(section.heading, level=1)
        if section.subtitle:
            document.add_paragraph(section.subtitle)
        for paragraph in section.paragraphs:
            document.add_paragraph(paragraph)
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Country", "Proposal"), ("Brazil", "joint investigation teams")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.save(path)
    return path


def seed_as_html(report: Report, path: Path) -> Path:
    """The seed report as a web page, with the script, style and navigation a real page carries."""
    parts = [f"<!DOCTYPE html><html><head><title>{html.escape(report.title)}</title>",
             "<style>body { font-family: serif } .secret { color: red }</style>",
             "<script>var tracker = 'SCRIPT TEXT MUST NOT BE INDEXED';</script></head><body>",
             "<nav><ul><li><a href='/'>Home</a></li><li>NAVIGATION MUST NOT BE INDEXED</li></ul></nav>",
             f"<main><h1>{html.escape(report.title)}</h1>"]
    for section in report.sections:
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        if section.subtitle:
            parts.append(f"<p><em>{html.escape(section.subtitle)}</em></p>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
    parts.append("</main><footer>FOOTER MUST NOT BE INDEXED</footer></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
