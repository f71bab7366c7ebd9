"""Questions about "the meeting" a report records: answered from that meeting's facts (its text, else its metadata,
cited as such), never from another meeting it mentions; the real seed report with the real model."""
from __future__ import annotations

import shutil

import pytest

from tipqa.answering.meeting_questions import meeting_question
from tipqa.assistant import Assistant
from tipqa.ingest.chunking import chunk_report
from tipqa.ingest.meeting import meeting_facts
from tipqa.ingest.reports import load_report

from .conftest import SEED


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
