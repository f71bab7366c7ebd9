import re

import pytest

from tipqa.errors import ReportError
from tipqa.ingest.chunking import chunk_report
from tipqa.ingest.reports import load_report
from tipqa.ingest.reports.plain import is_text_heading, load_text
from tipqa.text import split_sentences

from .conftest import EXTRA, SEED

NINE = [
    "OPENING CEREMONY",
    "ELECTION OF OFFICERS OF THE MEETING",
    "PART ONE",
    "PART TWO (Inputs for Technical Working Groups 1 and 2)",
    "Establishment of the Technical Working Groups",
    "Technical Working Group 1: Prosecution of the crime of trafficking in persons, administration of justice, "
    "and international cooperation and institution-strengthening strategies",
    "Technical Working Group 2: Prevention of the crime of trafficking in persons, comprehensive assistance and "
    "protection for victims, with a particular focus on the situation of women, children, and adolescents, "
    "including international cooperation strategies",
    "PART FOUR - Dialogue of National Authorities: Consideration and adoption of the final document",
    "CLOSING CEREMONY",
]


def test_seed_has_exactly_the_nine_sections_in_order():
    report = load_report(SEED)
    assert [s.heading for s in report.sections] == NINE
    assert report.sections[2].subtitle.startswith("Review of the progress made by OAS member states")
    assert report.title.startswith("Report of the Second Meeting of National Authorities")
    assert report.date == "2009-03-27"


def test_chunks_never_cross_a_section_and_ids_are_stable():
    report = load_report(SEED)
    chunks = chunk_report(report, 700)
    by_section = {s.heading: " ".join([s.subtitle, *s.paragraphs]) for s in report.sections}
    for chunk in chunks:
        assert chunk.section in by_section
        for sentence in (chunk.text[a:b] for a, b in chunk.sentences):
            assert sentence in by_section[chunk.section]
        assert chunk.chunk_id.startswith(f"{report.report_id}/")
        assert chunk.report_title == report.title
        assert len(chunk.content_hash) == 16
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in chunk_report(load_report(SEED), 700)]
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    brazil = next(c for c in chunks if "Brazil proposed" in c.text)
    assert brazil.section.startswith("Technical Working Group 1")
    assert brazil.chunk_id.split("/")[1] == "technical-working-group-1-prosecution-of-the"


def test_it_also_sentences_stay_with_their_subject():
    chunks = chunk_report(load_report(SEED), 700)
    road_maps = next(c for c in chunks if "road maps" in c.text)
    assert "Ecuador underscored its concern" in road_maps.text


@pytest.mark.parametrize("text, expected", [
    ("Mr. Felipe de la Torre spoke. Then Mrs. Smith left.", 2),
    ("Working Group No.1 met. Working Group No. 2 heard a talk.", 2),
    ("It met in Washington, D.C., on March 3. It ended.", 2),
    ("Uruguay recognized the need to provide I.D.s for all newly born children. Next.", 2),
    ("It adopted RTP-II/doc.5/09 rev. 9, by consensus. Done.", 2),
    ("Argentina “illustrates a dual scenario.” It functions as a receiving country.", 2),
    ("Items:\n• first item;\n• second item", 3),
    # Words ending in an accented letter end sentences too (they were read as an initial: 'n.' of 'Asunción.').
    ("La Reunión se celebró en Asunción. Costa Rica presentó su informe.", 2),
    ("Lo propuso el país. El Perú y Panamá lo apoyaron. Así lo señaló Ramón.", 3),
    ("Sra. María Pérez, Directora, habló. Luego la Dra. Gómez cerró.", 2),
    # Real text of tests/data/corpus-extra/oea_discurso_septima_reunion_autoridades_trata_2024_es.txt
    ("Por todas estas personas, y por sus derechos, hoy reforzamos nuestro compromiso de cooperar, colaborar e "
     "intercambiar experiencias para estudiar la dinámica de las redes criminales y enfrentar este execrable delito. "
     "En esta Séptima Reunión de Autoridades Nacionales, abordaremos cuatro temas clave en este sentido:", 2),
    # A symbol's part is no sentence end: 'AG/RES. 2019' (oea_ag_res_2551_plan_de_trabajo_trata_2010_es.txt)
    ("TENIENDO PRESENTE las resoluciones AG/RES. 2019 (XXXIV-O/04) y AG/RES. 2026 (XXXIV-O/04). Fin.", 2),
])
def test_sentence_splitting_handles_abbreviations_quotes_and_lists(text, expected):
    assert len(split_sentences(text)) == expected, split_sentences(text)


def test_a_list_items_sentence_starts_after_its_bullet():
    assert split_sentences("Cuatro temas:\n\n• el uso de la tecnología;\n•\tla movilidad") == [
        "Cuatro temas:", "el uso de la tecnología;", "la movilidad"]


@pytest.mark.parametrize("line, heading", [
    ("OPENING CEREMONY", True),
    ("PART FOUR - Dialogue of National Authorities: Consideration and adoption of the final document", True),
    ("Establishment of the Technical Working Groups:", True),
    ("The candidate was elected by acclamation.", False),
    ("12", False),
    ("Review of the progress made by OAS member states in implementing", False),
    ("Center for Human Trafficking Research and Outreach, available at https://cenhtro.uga.edu/", False),
])
def test_heading_detection(line, heading):
    assert is_text_heading(line) is heading


def test_a_pdf_texts_wrapped_lines_and_notes_are_not_headings():
    """The UNODC chapter's lines cut mid-sentence ('... documented in the' / 'Sahel, usually ...') and its endnotes
    wrapped over lines ('... Secretariat,' / 'Working Group on ...') had been read as section headings: their text
    left the passages and the passages after them were cited under a wrong section. Its titles after a sentence
    closed by a note's number ('... territories.22') are headings."""
    chunks = chunk_report(load_report(EXTRA / "unodc_glotip2024_ch2_africa_en.txt"))
    sections = {c.section for c in chunks}
    assert {"Armed groups engaging in sexual slavery and forced marriage", "Forced labour by armed groups",
            "Trafficking in agriculture: the case of cocoa industry", "CHILD TRAFFICKING IN EASTERN DRC"} <= sections
    wrong = [s for s in sections if s.startswith(("Sahel, usually", "Europe.", "Working Group on Trafficking in Persons (",
                                                  "Case ", "Delina Goxho", "Member States also agreed"))
             or "http" in s]
    assert not wrong
    text = " ".join(c.text for c in chunks)
    assert "documented in the Sahel, usually perpetrated by armed groups" in text
    # a line in capitals after a comma still opens a section: a resolution's 'RESUELVE:' after its last 'CONSIDERANDO'
    resolution = ("LA ASAMBLEA GENERAL,\n\nCONSIDERANDO que la trata de personas es un delito grave que afecta a todos "
                  "los Estados Miembros,\nRESUELVE:\n1. Aprobar el Plan de Trabajo contra la Trata de Personas en el "
                  "Hemisferio Occidental.\n").encode()
    _, _, sections = load_text(resolution, "resolucion.txt")
    assert [s.heading for s in sections][-1] == "RESUELVE"


def test_lines_wrapped_mid_sentence_join_their_paragraph():
    """The UNODC chapter is text taken from a PDF: its sentences run over line breaks. Each must be one sentence
    of one chunk, not a fragment per line; the reports written a paragraph per line keep every paragraph."""
    chunks = chunk_report(load_report(EXTRA / "unodc_glotip2024_ch2_africa_en.txt"))
    sentences = [c.text[a:b] for c in chunks for a, b in c.sentences]
    for whole in ("Between 2021 and 2022, about 2,000 children were recruited by force.",
                  "In 2023, the UN Organization Stabilization Mission in the Democratic Republic of the Congo "
                  "(MONUSCO) reported sustained clashes between Coopérative pour le développement du Congo (CODECO) "
                  "factions and Zaire militias for the control over illegal mining sites in the Ituri province of the "
                  "DRC."):
        assert any(s.startswith(whole.rstrip(".")) for s in sentences), whole
    assert any("Report of the Secretary-General (S/2024/384)" in s for s in sentences)  # cut after its hyphen
    # a heading in capitals and a figure's source line are never glued to the text above them
    assert "CHILD TRAFFICKING IN EASTERN DRC" in {c.section for c in chunks}
    assert not any(re.search(r"\w Source: ", s) for s in sentences)
    seed = load_report(SEED)
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert sum(len(s.paragraphs) for s in seed.sections) + len(seed.sections) >= len(lines) - 2


def test_markdown_headings_nest(tmp_path):
    path = tmp_path / "protocol.md"
    path.write_text("# Protocol\n\n## Part I\n\n### Article 3\n\n#### Use of terms\n\nTrafficking shall mean ...\n")
    report = load_report(path)
    assert report.title == "Protocol"
    assert report.sections[-1].path == ["Protocol", "Part I", "Article 3", "Use of terms"]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_headings_underlined_are_headings_and_a_rule_is_no_text(tmp_path):
    path = tmp_path / "dataset.md"
    path.write_text("Hotline calls - Complaints\n--------------------------\n\nCalls answered by the hotline.\n\n"
                    "Resources\n---------\n\nOne file per month.\n\n---\n\n- a list item\n- ---\n")
    report = load_report(path)
    assert report.title == "Hotline calls - Complaints"  # no level-1 '#': the heading it opens with
    assert [s.heading for s in report.sections][-1] == "Resources"
    underlined = load_report(_write(tmp_path / "plan.md", "Work Plan\n=========\n\nAdopted in 2010.\n"))
    assert underlined.title == "Work Plan" and underlined.sections[0].paragraphs == ["Adopted in 2010."]
    assert not any("---" in p or "===" in p for s in report.sections for p in s.paragraphs)
    assert any("a list item" in p for s in report.sections for p in s.paragraphs)


def test_encodings_are_detected(tmp_path):
    text = "OPENING CEREMONY\nThe meeting was opened by Aníbal Fernández in Asunción.\nCLOSING\nEnd.\n"
    for encoding in ("utf-16", "cp1252", "utf-8-sig"):
        path = tmp_path / f"r-{encoding}.txt"
        path.write_bytes(text.encode(encoding))
        assert "Aníbal Fernández" in load_report(path).sections[0].paragraphs[0]


@pytest.mark.parametrize("name, data, message", [
    ("empty.txt", b"", "empty"),
    ("blank.md", b"   \n\n", "empty"),
    ("notes.xyz", b"hello", "unsupported file type"),
    ("binary.txt", b"\x00\x01\x02" * 100, "binary"),
])
def test_bad_files_get_clear_errors(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ReportError, match=message):
        load_report(path)


def test_a_text_without_a_title_is_named_by_its_file_as_the_text_writes_those_words(tmp_path):
    speech = _write(tmp_path / "oea_discurso_septima_reunion_autoridades_2024_es.txt",
                    "Bienvenidos a la Séptima Reunión de Autoridades Nacionales de la OEA.\n\n"
                    "La OEA agradece a las autoridades su trabajo.\n")
    assert load_report(speech).title == "OEA discurso Séptima Reunión Autoridades 2024"
    # a heading in capitals does not make a word an acronym; a word the text lacks stays as the name has it;
    # a code of hyphens stays one word where underscores part the name
    report = _write(tmp_path / "oas_rtp3_rapporteurs_report_E-063-06_en.txt",
                    "RAPPORTEUR’S REPORT\n\nThe OAS report was adopted by the Member States of the OAS.\n")
    assert load_report(report).title == "OAS rtp3 rapporteurs report E-063-06"
    assert load_report(_write(tmp_path / "annual-review-2020.txt", "Nothing here names it.\n")).title \
        == "Annual review 2020"
    # a name in hyphens takes its words' forms from the text's hyphenated ones ('RTP-III/doc.2/12')
    assert load_report(_write(tmp_path / "rtp-iii-2012-report.txt", "It adopted its agenda (RTP-III/doc.2/12).\n")) \
        .title == "RTP III 2012 report"


def test_a_title_the_report_gives_wins_over_its_file_name(tmp_path):
    sidecar = _write(tmp_path / "notes_2024_en.txt", "The notes of the meeting.\n")
    _write(tmp_path / "notes_2024_en.txt.meta.json", '{"title": "Notes of the Seventh Meeting"}')
    assert load_report(sidecar).title == "Notes of the Seventh Meeting"
    assert load_report(_write(tmp_path / "plan_es.md", "# Plan de Trabajo\n\nAprobado.\n")).title == "Plan de Trabajo"
