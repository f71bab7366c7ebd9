"""End to end with the real bundled model on the real seed report."""
import pytest

from tipqa.assistant import Assistant
from tipqa.errors import QuestionError, ReportNotFound

from .conftest import CANONICAL, SEED_ID


@pytest.fixture
def assistant(settings, counting_real):
    return Assistant.open(settings=settings, embedder=counting_real)


def test_canonical_question_puts_the_brazil_passage_first(assistant):
    answer = assistant.ask(CANONICAL)
    top = answer.passages[0]
    assert "Brazil proposed" in top.text and "joint judicial investigation teams" in top.text
    assert top.section.startswith("Technical Working Group 1: Prosecution of the crime")
    assert top.report_title.startswith("Report of the Second Meeting of National Authorities")
    assert answer.evidence.sentence.startswith("For its part, Brazil proposed")
    passage = answer.passages[0].text
    assert passage[answer.evidence.start:answer.evidence.end] == answer.evidence.sentence


def test_answer_json_has_the_contract_fields(assistant):
    record = assistant.ask(CANONICAL, k=3).to_dict()
    assert set(record) >= {"question", "answer", "answer_type", "confidence", "evidence", "passages"}
    assert set(record["evidence"]) >= {"sentence", "report_id", "report_title", "section", "chunk_id"}
    assert [p["rank"] for p in record["passages"]] == [1, 2, 3]
    assert set(record["passages"][0]) >= {"rank", "text", "report_id", "report_title", "section", "chunk_id",
                                          "score", "page"}


def test_adding_a_report_embeds_only_its_chunks(assistant, counting_real, second_report):
    counting_real.reset()
    result = assistant.add([second_report])
    new_chunks = [c for c in assistant.data.chunks if c.report_id == "rtp-iii-2012-guatemala"]
    assert result.added == ["rtp-iii-2012-guatemala"]
    assert len(counting_real.texts) == result.embedded == len(new_chunks) > 0
    hits = assistant.ask("Which delegation nominated the chair of the third meeting?", k=3).passages
    assert any("Nicaragua nominated" in p.text for p in hits)
    assert assistant.ask(CANONICAL, report=SEED_ID).passages[0].report_id == SEED_ID


def test_report_filter(assistant, second_report):
    assistant.add([second_report])
    answer = assistant.ask("opening ceremony", report="rtp-iii-2012-guatemala")
    assert {p.report_id for p in answer.passages} == {"rtp-iii-2012-guatemala"}
    with pytest.raises(ReportNotFound, match="tipqa reports"):
        assistant.ask("opening ceremony", report="no-such-report")


@pytest.mark.parametrize("question, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("x" * 20_000, "20,000 characters"),
    ("どの国が合同捜査チームを提案しましたか", "English or Spanish"),
    ("?!", "no words"),
])
def test_bad_questions_are_refused_clearly(assistant, question, message):
    with pytest.raises(QuestionError, match=message):
        assistant.ask(question)


def test_open_refreshes_when_the_corpus_changed(settings, counting_real, second_report):
    Assistant.open(settings=settings, embedder=counting_real)
    # A file dropped into the corpus folder is picked up by the next open, and only it is embedded.
    (settings.corpus_dir / second_report.name).write_bytes(second_report.read_bytes())
    counting_real.reset()
    assistant = Assistant.open(settings=settings, embedder=counting_real)
    assert "rtp-iii-2012-guatemala" in assistant.data.reports
    assert len(counting_real.texts) == assistant.data.reports["rtp-iii-2012-guatemala"]["chunks"]


def test_answer_sentences_are_encoded_once(assistant, counting_real):
    first = assistant.ask(CANONICAL)
    counting_real.reset()
    again = assistant.ask(CANONICAL)
    assert counting_real.texts == []  # the candidate sentences' vectors came from the cache
    assert again.to_dict() == first.to_dict()
