"""The kind of answer read from a question's meaning (answering/kinds.py) where the question rules find none, and the
candidates named by their form that the gazetteer does not know (spans._named_by_form)."""
from __future__ import annotations

import numpy as np
import pytest

from tipqa.answering import kinds, spans
from tipqa.answering.questions import analyse

from .conftest import open_seed_assistant


def test_opening_keeps_the_words_that_ask_for_the_kind():
    assert kinds.opening("¿Desde cuándo se registran las denuncias en el sistema?") == "Desde cuándo se registran las"
    assert kinds.opening("Which armed movement is named?") == "Which armed movement is named"


def test_a_model_fitted_for_another_embedding_model_is_not_used():
    q = analyse("What did the chapter find about it?")
    assert q.expected == "other"
    called = []
    out = kinds.refine(q, "some/other-model", np.ones(384), lambda texts, sources: called.append(texts))
    assert out is q and not called


def test_the_fitted_model_is_for_the_default_embedding_model():
    from tipqa.config import load_settings
    record = kinds._load()
    assert record is not None and record["model"] == load_settings().model
    assert record["labels"] == list(kinds.LABELS) and 0 < record["threshold"] < 1


@pytest.mark.parametrize("text, kind, named", [
    ("asignada por la Comisión Nacional de Comunicaciones, dependiente del Ministerio", "organisation",
     "Comisión Nacional de Comunicaciones"),
    ("las denuncias pasan a PROTEX, salvo urgencias", "organisation", "PROTEX"),
    ("mediante Resolución Nº 187 del Ministerio de Justicia, del 9 de Marzo de 2018", "document", "Resolución Nº 187"),
    ("por Resolución 74/2011.", "document", "Resolución 74/2011"),
    ("Article 9, paragraph 4 of the United Nations Protocol requires", "document", "Article 9, paragraph 4"),
])
def test_names_read_from_their_form(text, kind, named):
    found = spans._named_by_form(text, (0, len(text)), (kind,))
    assert named in [e.text for e in found if e.kind == kind]


def test_a_name_in_title_case_stops_where_the_word_does():
    text = "dependiente del Ministerio de Planificación Federal, Inversión Pública y Servicios"
    found = [e.text for e in spans._named_by_form(text, (0, len(text)), ("organisation",))]
    assert found == ["Ministerio de Planificación Federal"]  # not 'Inversión Pública y Servicio'


def test_an_article_named_in_the_sentence_answers_which_article():
    text = "Anonimato: según lo establece el artículo 17 de la Ley 26.842 las denuncias podrán ser anónimas."
    q = analyse("¿Qué artículo de la Ley 26.842 permite denunciar sin identificarse?")
    assert q.expected == "section"
    assert spans.article_in(q, text, (0, len(text))) == "artículo 17"


@pytest.mark.parametrize("question, expected", [
    ("From which part of Bolivia do most recruits come?", "place"),  # a part of a place is a place
    ("What part of the country are the victims taken from?", "place"),
    ("Which part of Asia reported the most cases?", "place"),
    ("Which part of the Convention covers extradition?", "section"),  # a part of a text is its heading
])
def test_a_part_of_a_place_is_a_place_and_a_part_of_a_text_a_section(question, expected):
    assert analyse(question).expected == expected


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, real_embedder):
    return open_seed_assistant(tmp_path_factory.mktemp("kinds"), real_embedder)


# Wordings written for this test, before it was first run (in no question set): the rules find no kind in any of
# them. The model is right on ~0.78 of such questions in cross-validation (bench/fit_kinds.py); it must get most.
FRESH = [
    ("Which militia has abducted the most children?", "organisation"),
    ("What was the final day on which the treaty could be signed?", "date"),
    ("¿Desde cuándo funciona la línea telefónica?", "date"),
    ("¿Qué ente público recibe las denuncias?", "organisation"),
    ("Which resolution set up the hotline?", "document"),
    ("Under what legal act was the offence made a crime?", "document"),
    ("Who is in charge of keeping the protocol's original text?", "person"),
    ("What share of the detected victims were girls?", "number"),
    ("¿Cuántos casos se registraron ese año?", "number"),
    ("In what year did the programme start?", "date"),
]


def test_the_kind_is_read_from_the_meaning_with_the_real_model(assistant):
    right = []
    for question, kind in FRESH:
        q = analyse(question)
        if q.expected != "other":
            continue  # the rules already know; the model is not asked
        query = assistant.question_embedder.embed_query(question)
        sentences, query = assistant._answer_inputs(assistant.data, query)
        right.append(kinds.refine(q, assistant.settings.model, query, sentences).expected == kind)
    assert len(right) >= 5 and sum(right) >= 0.6 * len(right), right


@pytest.mark.parametrize("question, expected", [
    ("What share of the recruited girls were held as sex slaves?", "26 per cent"),
    ("How many girls were held as sex slaves?", "138"),
    ("¿Cuántas niñas fueron sometidas a esclavitud sexual?", "138"),
])
def test_a_share_asked_for_takes_the_percentage_a_count_the_count(question, expected):
    text = ("In 2022 it is estimated that 26 per cent of girls recruited by armed groups were subjected to sexual "
            "slavery (for a total of 138 girls).")
    q = analyse(question)
    assert q.expected == "number"
    numbers = [e for e in spans.chunk_entities(text) if e.kind == "number"]
    assert spans._by_measure(q, numbers)[0].text == expected


@pytest.mark.parametrize("question, sentence, expected", [
    # written for this test: the answer is the piece of the clause the question does not already say
    ("Which two priorities did the minister name for the plan?",
     "The minister said the plan rests on two pillars, early warning and shelter for survivors.",
     "early warning and shelter for survivors"),
    ("What is the new category called?",
     'The field formerly named "Otros" is now reported as "Explotación laboral" from March onwards.',
     "Explotación laboral"),
])
def test_an_other_answer_is_what_the_question_does_not_already_say(question, sentence, expected):
    q = analyse(question)
    assert q.expected == "other"
    assert spans._other(q, sentence, (0, len(sentence))) == expected


def test_quadratic_features_and_their_model_round_trip():
    from tipqa.answering.scoring import Logistic, fit_logistic, quadratic
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    assert quadratic(x).tolist() == [[1, 2, 1, 2, 4], [3, 5, 9, 15, 25]]
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(400, 2))
    labels = (rows[:, 0] * rows[:, 1] > 0).astype(float)  # an interaction no linear model separates
    model = fit_logistic(rows, labels, ("a", "b"), expand=True)
    assert ((model.logit(rows) > 0) == labels.astype(bool)).mean() > 0.9
    again = Logistic.from_dict(model.to_dict())
    assert again.expand and np.allclose(again.logit(rows), model.logit(rows), atol=1e-3)


def test_a_fragment_inside_the_evidence_is_not_its_sentence():
    from tipqa.evaluate import sentence_matches
    evidence = "Between 2019 and 2023, some 15,000 victims from Africa were officially detected outside the continent"
    assert not sentence_matches("2023.", evidence)
    assert sentence_matches("some 15,000 victims from Africa were officially detected", evidence)
    assert sentence_matches(evidence + ", particularly in Europe.", evidence)
