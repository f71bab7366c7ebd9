"""Questions about "the meeting" a report records: answered from that meeting's facts (its text, else its metadata,
cited as such), never from another meeting it mentions; the real seed report with the real model."""
from __future__ import annotations

import shutil

import pytest

from tipqa.answering.meeting_questions import held_question, meeting_question, officer_question
from tipqa.answering.questions import analyse
from tipqa.assistant import Assistant
from tipqa.ingest.chunking import chunk_report
from tipqa.ingest.meeting import meeting_facts, officers
from tipqa.ingest.reports import load_report

from .conftest import EXTRA, SEED, assert_answered_from_its_sentence, open_seed_and


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, real_embedder):
    from tipqa.config import load_settings
    root = tmp_path_factory.mktemp("meeting")
    (root / "corpus").mkdir()
    for path in (SEED, SEED.with_name(SEED.name + ".meta.json")):
        shutil.copy(path, root / "corpus" / path.name)
    settings = load_settings(corpus_dir=root / "corpus", index_dir=root / "index")
    return Assistant.open(settings=settings, embedder=real_embedder, progress=lambda *_: None)


@pytest.mark.parametrize("question", ["Who chaired the meeting?", "¿Quién presidió la reunión?",
                                      "Who presided over the meeting?", "Who was the president of the meeting?"])
def test_who_chaired_the_meeting_is_its_elected_president_not_a_working_group_chair(assistant, question):
    answer = assistant.ask(question)
    assert "Raúl Ricardes" in answer.answer and answer.answer_type == "person"
    assert "President of this meeting" in answer.evidence.sentence  # cited to the sentence that says so
    assert answer.passages[0].chunk_id == answer.evidence.chunk_id


@pytest.mark.parametrize("question, expected", [
    ("Where was the meeting held?", "Buenos Aires"), ("¿Dónde se celebró la reunión?", "Buenos Aires"),
    ("When was the meeting held?", "March 27, 2009"), ("¿Cuándo se celebró la reunión?", "March 27, 2009"),
])
def test_where_and_when_come_from_the_report_not_from_the_preparatory_meeting(assistant, question, expected):
    answer = assistant.ask(question)
    assert expected in answer.answer
    assert "Washington" not in answer.answer and "March 3" not in answer.answer
    assert answer.evidence.section == "Report metadata" and "metadata" in answer.evidence.sentence


def test_another_meeting_named_in_the_question_is_an_ordinary_question(assistant):
    assert meeting_question("Where was the preparatory meeting held?") is None
    assert meeting_question("When was the first meeting held?") is None
    answer = assistant.ask("Where was the civil society preparatory meeting held?")
    assert answer.answer is None or "Washington" in answer.answer


def test_facts_skip_sentences_about_another_meeting_and_say_where_they_come_from(tmp_path):
    report = tmp_path / "made-up.txt"
    report.write_text("OPENING\nThe Preparatory Meeting was held in Lima and chaired by Ambassador Ana Ruiz, "
                      "President of the meeting.\nELECTION\nThe delegation of Peru proposed Minister Jorge Soto "
                      "to serve as President of this meeting. He was elected.\n", encoding="utf-8")
    loaded = load_report(report)
    facts = meeting_facts(loaded, chunk_report(loaded, 700))
    assert facts["presiding"]["value"] == "Minister Jorge Soto" and facts["presiding"]["source"] == "text"
    assert "place" not in facts  # only the preparatory meeting's place is in the text, and no metadata
    report.with_name(report.name + ".meta.json").write_text('{"place": "Quito", "date": "2011-05-04"}')
    loaded = load_report(report)
    facts = meeting_facts(loaded, chunk_report(loaded, 700))
    assert facts["place"] == {"value": "Quito", "source": "metadata"} and facts["date"]["value"] == "2011-05-04"


# ---- the meeting's officers -----------------------------------------------------------------------------

GUATEMALA = EXTRA / "oas_rtp3_rapporteurs_report_guatemala_2012_en.txt"
MARGARITA = EXTRA / "oas_press_release_E-063-06_rtp1_closing_margarita_2006_en.txt"


def _officers(path):
    loaded = load_report(path)
    return {(o["role"], o["rank"]): o for o in officers(chunk_report(loaded, 700))}


def test_officers_of_the_real_reports_with_who_nominated_them_their_post_and_country():
    buenos_aires = _officers(SEED)
    assert {k: (o["person"], o["nominated_by"], o["country"]) for k, o in buenos_aires.items()} == {
        ("president", None): ("Raúl Ricardes", "Brazil", "Argentina"),
        ("vice_president", 1): ("Felipe Michelini", "Dominican Republic", "Uruguay"),
        ("vice_president", 2): ("Víctor Hugo Peña", "United States", "Paraguay"),
        ("rapporteur", None): ("Frank Soto", "Canada", "Dominican Republic")}
    assert buenos_aires["rapporteur", None]["post"] == "Deputy Attorney General of the Dominican Republic"
    assert buenos_aires["vice_president", 1]["post"].startswith("Undersecretary of the Ministry of Education")
    guatemala = _officers(GUATEMALA)
    assert {k: (o["person"], o["nominated_by"], o["country"]) for k, o in guatemala.items()} == {
        ("interim_chair", None): ("Bayney Karran", None, "Guyana"),
        ("president", None): ("Zulma Subillaga Dubón", "Nicaragua", "Guatemala"),
        ("vice_president", None): ("Luz Gamelia Ibarra Madana", "United States", "Paraguay"),
        ("rapporteur", None): ("Sandra Chávez", "Chile", "Costa Rica")}
    # the name list of a post keeps its commas; the title in the interim chair's appositive is not a person
    assert guatemala["president", None]["post"].endswith("Sexual Violence, Exploitation, and Human Trafficking")
    assert "Sandra Chávez" in guatemala["rapporteur", None]["sentence"]
    assert _officers(MARGARITA) == {}  # a press release that names no officers


def test_officers_in_a_spanish_report_and_posts_of_other_bodies_are_not_the_meetings(tmp_path):
    report = tmp_path / "informe.txt"
    report.write_text(
        "ELECCIÓN DE AUTORIDADES\nLa delegación de Perú propuso a la Ministra Ana Ruiz Vega, Directora General de "
        "Migraciones, para ocupar la Presidencia de la reunión. La delegación de Chile propuso al señor Luis Mora "
        "Paz como Relator. El grupo de trabajo 1 fue presidido por el Embajador Juan Soto Díaz, como Presidente "
        "del grupo.\n", encoding="utf-8")
    found = _officers(report)
    assert set(found) == {("president", None), ("rapporteur", None)}
    assert found["president", None]["person"] == "Ana Ruiz Vega" and found["president", None]["nominated_by"] == "Peru"
    assert found["president", None]["post"] == "Directora General de Migraciones"
    rapporteur = found["rapporteur", None]
    assert rapporteur["person"] == "Luis Mora Paz" and rapporteur["nominated_by"] == "Chile"


@pytest.mark.parametrize("question, asked", [
    ("Who acted as rapporteur at the Buenos Aires meeting?", ("rapporteur", None, "person")),
    ("¿Qué delegación propuso al relator de la reunión de 2009?", ("rapporteur", None, "nominated_by")),
    ("¿Quién fue elegido segundo vicepresidente en la reunión de Buenos Aires?", ("vice_president", 2, "person")),
    ("What office did the 2012 chair hold in her own government?", ("president", None, "post")),
    ("The interim presiding officer in 2012 was the envoy of which country?", ("interim_chair", None, "country")),
    ("Who chaired the first working group?", None),
    ("¿Qué comité presidía el embajador Karran?", None),
    ("Who chaired the opening ceremony?", None),
    ("What is the symbol of the rapporteur's report?", None),
])
def test_which_questions_ask_about_an_officer(question, asked):
    q = analyse(question)
    found = officer_question(question, q.english, q.expected)
    assert (found and (found["role"], found["rank"], found["asked"])) == asked or (found is None and asked is None)


@pytest.fixture(scope="module")
def two_meetings(tmp_path_factory, real_embedder):
    """The 2009 report, the 2012 rapporteur's report and the 2006 press release, with the real model."""
    return open_seed_and(tmp_path_factory.mktemp("officers"), real_embedder, GUATEMALA, MARGARITA)


@pytest.mark.parametrize("question, expected", [
    ("Who was elected rapporteur of the 2012 Guatemala meeting?", "Sandra Chávez"),
    ("Which delegation nominated the rapporteur of the 2009 meeting?", "Canada"),
    ("¿Qué delegación propuso a la relatora de la Tercera Reunión de Autoridades Nacionales?", "Chile"),
    ("¿Quién fue elegido segundo vicepresidente en la reunión de Buenos Aires?", "Víctor Hugo Peña"),
    ("Which delegation put forward Zulma Subillaga Dubón to chair the meeting?", "Nicaragua"),
    ("What post did the 2009 rapporteur hold in his country?", "Deputy Attorney General of the Dominican Republic"),
])
def test_officer_questions_are_answered_from_the_meeting_they_name(two_meetings, question, expected):
    answer = two_meetings.ask(question)
    assert_answered_from_its_sentence(answer, expected)  # cited to the sentence that names the officer
    assert answer.passages[0].chunk_id == answer.evidence.chunk_id


@pytest.mark.parametrize("question", [
    "Who was the rapporteur of the first meeting, in Margarita in 2006?",  # a meeting whose officers are not given
    "Who was elected second vice chair at the 2012 Guatemala meeting?",  # 2012 had one vice chair
    "Who chaired the fourth meeting of national authorities?",  # a meeting no report records
])
def test_officers_of_one_meeting_never_answer_for_another(two_meetings, question):
    answer = two_meetings.ask(question)
    officers_named = ("Frank Soto", "Sandra Chávez", "Luz Gamelia", "Subillaga", "Ricardes", "Peña", "Michelini")
    assert not any(name in (answer.answer or "") for name in officers_named)


@pytest.mark.parametrize("question", [
    "Who chaired the fourth meeting of national authorities?",
    "¿Quién presidió la quinta reunión de autoridades nacionales en materia de trata?",
])
def test_an_officer_of_a_meeting_no_report_records_is_not_in_the_reports(two_meetings, question):
    answer = two_meetings.ask(question)
    assert (answer.outcome, answer.answer, answer.evidence) == ("not_found", None, None)
    assert answer.passages  # the closest passages are still shown


def test_an_officer_question_naming_two_meetings_is_read_in_the_reports_of_both(two_meetings):
    answer = two_meetings.ask("Which delegation proposed a Paraguayan official for a vice-chair post at both the "
                              "2009 and the 2012 meetings?")
    reports = {"oas-rtp-ii-2009-buenos-aires-report", "oas-rtp3-rapporteurs-report-guatemala-2012-en"}
    assert {p.report_id for p in answer.passages} <= reports
    assert answer.evidence is not None and answer.evidence.report_id in reports


def test_the_title_page_gives_the_meetings_dates_and_place_not_the_reports_own_date():
    loaded = load_report(GUATEMALA)
    facts = meeting_facts(loaded, chunk_report(loaded, 700))
    assert (facts["date"]["value"], facts["date"]["source"]) == ("October 15 to 16, 2012", "text")
    assert (facts["place"]["value"], facts["place"]["source"]) == ("Guatemala City, Guatemala", "text")
    assert loaded.date == "2012-11-12"  # the report's own date, above the meeting's name: not the meeting's


def test_when_the_meeting_of_a_report_was_held_comes_from_its_title_page(two_meetings):
    answer = two_meetings.ask("When was the meeting held?", report="oas-rtp3-rapporteurs-report-guatemala-2012-en")
    assert answer.answer == "October 15 to 16, 2012" and answer.evidence.sentence == "October 15 to 16, 2012"


@pytest.mark.parametrize("question, expected", [
    ("On what dates did the third meeting of national authorities take place?", "October 15 to 16, 2012"),
    ("¿En qué ciudad se celebró la tercera reunión de autoridades nacionales?", "Guatemala City"),
])
def test_where_and_when_a_named_meeting_was_held_come_from_its_reports_text(two_meetings, question, expected):
    answer = two_meetings.ask(question)
    assert answer.outcome == "answer" and expected in answer.answer
    assert answer.evidence.report_id == "oas-rtp3-rapporteurs-report-guatemala-2012-en"


def test_a_meeting_held_before_the_named_one_is_an_ordinary_question(two_meetings):
    q = analyse("Where was the preparatory session ahead of the third meeting held?")
    assert held_question(q.text, q.english, q.expected) is None
    q = analyse("When did the 2012 meeting adopt its agenda?")
    assert held_question(q.text, q.english, q.expected) is None  # something done at it, not its being held
