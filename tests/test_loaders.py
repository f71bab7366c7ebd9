"""Loaders on real and test-generated files: PDF, DOCX, HTML, Markdown and noisy plain text."""
import io
import json
import re

import pytest

from tipqa.assistant import Assistant
from tipqa.ingest.chunking import chunk_report
from tipqa.ingest.reports import load_report
from tipqa.ingest.reports.rich import find_date

from .conftest import EXTRA, SEED
from .docgen import sample_pdf, seed_as_docx, seed_as_html
from .test_reports import NINE

REAL_PDF = EXTRA / "raw" / "GLOTIP2024_Chapter_2.pdf"


def test_seed_as_docx_gives_the_same_nine_sections(tmp_path):
    seed = load_report(SEED)
    report = load_report(seed_as_docx(seed, tmp_path / "seed.docx"))
    assert [s.heading for s in report.sections] == NINE
    assert report.title == seed.title
    assert report.sections[-1].paragraphs[-2:] == ["Country | Proposal", "Brazil | joint investigation teams"]


def test_seed_as_html_gives_the_same_nine_sections_without_page_furniture(tmp_path):
    seed = load_report(SEED)
    report = load_report(seed_as_html(seed, tmp_path / "seed.html"))
    assert [s.heading for s in report.sections] == NINE
    assert report.title == seed.title
    assert report.sections[0].path == [seed.title, "OPENING CEREMONY"]
    text = json.dumps(report.to_dict())
    assert "MUST NOT BE INDEXED" not in text and "font-family" not in text
    assert "Brazil proposed" in " ".join(report.sections[5].paragraphs)


def test_generated_pdf_headings_pages_hyphenation_and_running_headers(tmp_path):
    path = tmp_path / "annual.pdf"
    path.write_bytes(sample_pdf())
    report = load_report(path)
    assert report.title == "Annual Report on Trafficking"
    assert report.date == "2009-03-27"
    assert [s.heading for s in report.sections] == ["Annual Report on Trafficking", "Introduction", "Findings",
                                                    "Recommendations"]
    assert [s.page for s in report.sections] == [1, 1, 2, 3]
    intro = report.sections[1].paragraphs
    assert intro == ["The meeting reviewed how states fight trafficking in persons across the hemisphere."]
    every = " ".join(p for s in report.sections for p in s.paragraphs)
    assert "Annual Report on Trafficking 2009" not in every  # the running header is gone
    chunks = chunk_report(report, 700)
    assert {c.section: c.page for c in chunks}["Findings"] == 2


def test_pdf_outline_decides_the_sections(tmp_path):
    from pypdf import PdfReader, PdfWriter
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample_pdf())))
    writer.add_outline_item(title="Findings", page_number=1)
    path = tmp_path / "outlined.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    report = load_report(path)
    assert "Findings" in [s.heading for s in report.sections]
    assert "Recommendations" not in [s.heading for s in report.sections]  # not in the outline: plain text


@pytest.fixture(scope="module")
def real_pdf_report():
    if not REAL_PDF.exists():
        pytest.skip("../shared/corpus-extra is absent")
    return load_report(REAL_PDF)


def test_real_unodc_pdf_sections_pages_and_clean_text(real_pdf_report):
    report = real_pdf_report
    assert report.title == "Trafficking in persons in and from Africa; a global responsibility"
    assert report.date == "2024-12-10"
    by_heading = {s.heading: s for s in report.sections}
    for heading, page in [("Trafficking of African youth: traffickers and poverty", 68),
                          ("Enduring and expanding conflicts", 74),
                          ("Climate change and lost livelihoods", 80),
                          ("Conclusions and policy recommendations", 94)]:
        assert by_heading[heading].page == page, heading
    assert 20 <= len(report.sections) <= 80
    text = " ".join(p for s in report.sections for p in s.paragraphs)
    assert "Global Report on Trafficking in Persons 2024 " not in text  # running header dropped
    assert len(re.findall(r"traf-? ficking|method ologies", text)) <= 1  # hyphenation undone (was 4)
    assert "Child trafficking appears as one of the main challenges" in text
    assert all(p is not None for s in report.sections for p in s.paragraph_pages or [])


def test_real_pdf_answer_cites_the_page(tmp_path, real_embedder, real_pdf_report):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / REAL_PDF.name).write_bytes(REAL_PDF.read_bytes())
    assistant = Assistant.open(corpus_dir=corpus, index_dir=tmp_path / "index", embedder=real_embedder)
    answer = assistant.ask("How many Africans are under the age of 30?", k=5)
    passage = next(p for p in answer.passages if "990 million" in p.text)
    assert passage.page == 67 and "p. 67" in answer.to_text()


def test_palermo_protocol_article_defining_trafficking(tmp_path, real_embedder):
    source = EXTRA / "un_palermo_protocol_2000_en.md"
    if not source.exists():
        pytest.skip("../shared/corpus-extra is absent")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / source.name).write_bytes(source.read_bytes())
    assistant = Assistant.open(corpus_dir=corpus, index_dir=tmp_path / "index", embedder=real_embedder)
    answer = assistant.ask("Which article of the Palermo Protocol defines trafficking in persons?", k=3)
    assert answer.answer == "Article 3" and answer.answer_type == "section"
    assert answer.evidence.sentence.startswith('a) "Trafficking in persons" shall mean the recruitment')
    assert "Article 3" in answer.passages[0].section_path


def test_noisy_pdf_text_no_longer_splits_into_chart_labels():
    source = EXTRA / "unodc_glotip2024_ch2_africa_en.txt"
    if not source.exists():
        pytest.skip("../shared/corpus-extra is absent")
    headings = [s.heading for s in load_report(source).sections]
    assert len(headings) < 80  # was 189, most of them chart labels and country names
    for real in ("Trafficking of African youth: traffickers and poverty", "Enduring and expanding conflicts",
                 "Climate change and lost livelihoods", "Conclusions and policy recommendations"):
        assert real in headings
    for label in ("North America", "Sierra Leone", "The Middle", "Total Boys Girls"):
        assert label not in headings


@pytest.mark.parametrize("text, iso", [
    ("held on 27 March 2009 in Buenos Aires", "2009-03-27"),
    ("Washington, D.C., March 27, 2009", "2009-03-27"),
    ("Guatemala, 12 de noviembre de 2012", "2012-11-12"),
    ("created 2024-12-10 at noon", "2024-12-10"),
    ("no date here, only 2009", None),
])
def test_dates_stated_in_the_document(text, iso):
    assert find_date(text) == iso
