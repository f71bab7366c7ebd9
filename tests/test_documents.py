"""The document step (answering/documents.py): which of the documents a passage cites answers 'which resolution /
what symbol ...?', read from what each is said to be; glosses from the real reports, answers with the real model."""
from __future__ import annotations

import pytest

from tipqa.answering import documents
from tipqa.answering.documents import gloss

from .conftest import EXTRA, SEED, open_seed_and

WORK_PLAN = EXTRA / "oea_ag_res_2551_plan_de_trabajo_trata_2010_es.txt"
PROTOCOL = EXTRA / "un_palermo_protocol_2000_en.md"


def _glosses(path, marker: str) -> dict[str, str]:
    line = next(line for line in path.read_text(encoding="utf-8").splitlines() if marker in line)
    return {symbol: gloss(line, a, b) for symbol, a, b in documents._symbols(line)}


def test_each_resolution_of_a_list_is_read_with_its_own_title():
    glosses = _glosses(WORK_PLAN, "AG/RES. 2019")
    assert glosses["AG/RES. 2026 (XXXIV-O/04)"] == ("Lucha contra la delincuencia organizada transnacional en el "
                                                    "Hemisferio")
    assert glosses["AG/RES. 2511 (XXXIX-O/09)"].startswith("La protección de los solicitantes")
    # two resolutions that share one title both get it
    assert glosses["AG/RES. 2432 (XXXVIII-O/08)"] == glosses["AG/RES. 2486 (XXXIX-O/09)"]
    assert glosses["AG/RES. 2432 (XXXVIII-O/08)"].startswith("Prevención y erradicación")


def test_a_document_named_before_its_symbol_or_in_its_clause():
    glosses = _glosses(SEED, "adopted its agenda")
    assert glosses["RTP-II/doc.3/09 rev. 4"] == "annotated schedule"
    assert glosses["RTP-II/doc.2/09 rev. 3 corr. 1"].endswith("adopted its agenda")
    outcome = _glosses(SEED, "RTP-II/doc.5/09")
    assert outcome["RTP-II/doc.5/09 rev. 9"].startswith("Conclusions and Recommendations of the Second Meeting")
    assert "ad hoc committee" in _glosses(PROTOCOL, "53/111")["resolution 53/111"]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, real_embedder):
    return open_seed_and(tmp_path_factory.mktemp("documents"), real_embedder, WORK_PLAN, PROTOCOL)


@pytest.mark.parametrize("question, symbol", [
    # one of nine resolutions in one sentence, two of them of 2004
    ("¿Qué resolución de 2004 se ocupa de la lucha contra la delincuencia organizada transnacional en el Hemisferio?",
     "AG/RES. 2026 (XXXIV-O/04)"),
    # the second of two documents of one sentence, both of 2009
    ("What is the symbol of the annotated schedule adopted in 2009?", "RTP-II/doc.3/09 rev. 4"),
])
def test_the_document_whose_gloss_means_the_question_answers(assistant, question, symbol):
    kind, ranked = assistant.documents_considered(question)
    assert kind == "document" and ranked[0][1].symbol == symbol and len(ranked) > 1
    answer = assistant.ask(question)
    assert answer.outcome == "answer" and answer.answer_type == "document" and answer.answer == symbol
    assert answer.confidence == documents.precision() > 0  # the document step's answer, with its measured precision
    assert answer.answer in answer.evidence.sentence  # cited to the sentence that names it
    assert answer.passages[0].chunk_id == answer.evidence.chunk_id


def test_without_fitted_settings_for_the_model_the_step_stands_aside(monkeypatch, assistant):
    monkeypatch.setattr(documents, "_settings", lambda: {"model": "another-model", "floor": 0.0, "margin": 0.0,
                                                         "precision": 1.0})
    answer = assistant.ask("What is the symbol of the annotated schedule adopted in 2009?")
    assert answer.confidence != 1.0  # the usual answer step, not the document step
