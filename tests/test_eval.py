"""tipqa eval: the scoring rules, and the command on a small real question file."""
from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from tipqa.cli import cli
from tipqa.evaluate import _score, answer_matches, contains_evidence, load_items, summarise

from .conftest import SEED


def test_answer_matching_rules():
    assert answer_matches("Ambassador Raúl Ricardes", ["Raúl Ricardes"])
    assert answer_matches("the Argentine Republic", ["Argentina"])
    assert answer_matches("27 de marzo de 2009", ["March 27, 2009"])
    assert answer_matches("Paraguayan, Dominicans, Bolivians", ["Paraguay, Dominican Republic and Bolivia"])
    assert answer_matches("ACNUR", ["UNHCR"])
    assert not answer_matches("Brazil", ["Argentina"])
    assert not answer_matches(None, ["Argentina"])
    assert not answer_matches("Paraguayan, Dominicans", ["Paraguayan, Dominicans, Bolivians"])


def test_evidence_in_passage():
    assert contains_evidence("For its part, Brazil proposed disseminating ...", "brazil proposed")
    assert not contains_evidence("Chile acknowledged ...", "Brazil proposed")


def test_evidence_cut_by_the_passage_boundary_or_written_as_a_markdown_link():
    evidence = "approximately 30–35\nsituations of armed conflict have been identified in\nAfrica as of 2023"
    # the report's text runs on in the next passage: this one holds most of the evidence, up to its end
    assert contains_evidence("Depending on the criteria used, approximately 30–35 situations of armed conflict have "
                             "been identified in", evidence)
    assert contains_evidence("situations of armed conflict have been identified in Africa as of 2023, against 20.",
                             evidence)
    # a few of its words at the end are not the evidence, nor its words elsewhere
    assert not contains_evidence("Conflicts were identified in", evidence)
    assert not contains_evidence("Africa as of 2023, as opposed to around 20 in Asia", evidence)
    # a link in a Markdown report is matched by its text, as the passage shows it
    assert contains_evidence("asignada por Resolución 74/2011, en el Boletín Oficial el día 7 de Julio de 2011.",
                             "por [Resolución 74/2011](http://servicios.infoleg.gob.ar/norma.htm), en el Boletín Oficial")


def test_summary_counts_abstention_both_ways():
    rows = [
        {"answerable": True, "rank": 1, "has_evidence": True, "sentence_ok": True, "answer_ok": True, "abstained": False,
         "not_found": False},
        {"answerable": True, "rank": None, "has_evidence": True, "sentence_ok": False, "answer_ok": False,
         "abstained": True, "not_found": True},
        {"answerable": True, "rank": 2, "has_evidence": True, "sentence_ok": True, "answer_ok": False, "abstained": True,
         "not_found": False},  # the closest sentence, no short answer: not "not in the reports"
        {"answerable": False, "rank": None, "has_evidence": False, "sentence_ok": None, "answer_ok": True, "abstained": True,
         "not_found": True},
    ]
    summary = summarise(rows)
    assert summary["hit@1"] == round(1 / 3, 4) and summary["abstain_answerable"] == round(2 / 3, 4) and summary["abstain_unanswerable"] == 1.0
    assert summary["not_found_answerable"] == round(1 / 3, 4) and summary["not_found_unanswerable"] == 1.0


def test_a_question_that_needs_two_reports_lists_both_evidence_texts(tmp_path):
    """A passage holding either evidence text is a hit; the sentence is right when it is either one."""
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps({"question": "Where were the two meetings held?", "answer": "Buenos Aires; Guatemala",
                                "evidence": ["held in Buenos Aires", "held in Guatemala City"]}) + "\n")
    item = load_items(path)[0]
    assert item.evidence == ["held in Buenos Aires", "held in Guatemala City"]

    class Reply:
        answer, evidence = None, None
        answer_type, confidence = None, 0.0
        passages = [type("P", (), {"rank": 1, "text": "The third meeting was held in Guatemala City in 2012."})()]

    scored = _score(item, Reply())
    assert scored["rank"] == 1 and scored["not_found"] and not scored["sentence_ok"]


def test_bad_eval_file_is_one_line_error(tmp_path):
    bad = tmp_path / "qa.jsonl"
    bad.write_text('{"answer": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", str(bad)])
    assert result.exit_code == 1
    assert "qa.jsonl:1" in result.output and "Traceback" not in result.output


def test_eval_command_json(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    shutil.copy(SEED, corpus / SEED.name)
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(r) for r in [
        {"question": "Which country proposed joint investigation teams?", "answer": "Brazil",
         "evidence": "Brazil proposed disseminating a Directory"},
        {"question": "What budget did the OAS assign to its anti-trafficking programmes?", "answer": None},
    ]), encoding="utf-8")
    assert len(load_items(qa)) == 2
    result = CliRunner().invoke(cli, ["eval", str(qa), "--json", "--corpus", str(corpus),
                                      "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["overall"]["hit@1"] == 1.0
    assert report["overall"]["answer_accuracy"] == 1.0
    assert report["overall"]["abstain_unanswerable"] == 1.0
    assert set(report["by_language"]) == {"en"}
