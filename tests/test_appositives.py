"""A named person's post or body, read from how the report introduces them (answering/appositives.py): unit tests on
sentences written for these tests, then the real seed report through Assistant.ask with the real model (wordings in
no question set)."""
from __future__ import annotations

import pytest

from tipqa.answering.appositives import asked, described
from tipqa.answering.questions import analyse

from .conftest import assert_answered_from_its_sentence, open_seed_assistant


def _described(question: str, sentence: str):
    return described(analyse(question), sentence, (0, len(sentence)))


@pytest.mark.parametrize("question, sentence, expected", [
    # the post after the name runs on past commas in Title Case, and ends at a lower-case word
    ("What post did Marta Quiroga hold?",
     "The session was opened by Marta Quiroga, Minister of Labour, Employment, and Social Security of the Republic of "
     "Chile, who welcomed the delegations.",
     ("Minister of Labour, Employment, and Social Security of the Republic of Chile", "other")),
    # the post before the name
    ("¿Qué cargo ocupaba Tomás Ilves?",
     "The debate closed with remarks by the Director of Border Control of the Ministry of Interior, Tomás Ilves, on "
     "data sharing.", ("Director of Border Control of the Ministry of Interior", "other")),
    # the body in parentheses: the named person's, not the one before them
    ("Which organisation did Lidia Ferraro speak for?",
     "Statements were made by Joan Mbeki (Southern Shelter Network) and Lidia Ferraro (Red Andina de Refugios).",
     ("Red Andina de Refugios", "organisation")),
    # the body after 'of', without the country it belongs to; with a title before the name, the title with it
    ("¿A qué ministerio pertenecía Rosa Ibáñez?",
     "Deputy Minister Rosa Ibáñez of the Ministry of Health and Welfare of the Republic of Paraguay to serve as "
     "Rapporteur.", ("Ministry of Health and Welfare", "organisation")),
    ("What was Rosa Ibáñez's job?",
     "Deputy Minister Rosa Ibáñez of the Ministry of Health and Welfare of the Republic of Paraguay to serve as "
     "Rapporteur.", ("Deputy Minister of the Ministry of Health and Welfare", "other")),
])
def test_the_post_or_body_of_the_person_the_question_names(question, sentence, expected):
    assert _described(question, sentence) == expected


@pytest.mark.parametrize("question, sentence", [
    # a list of people after the name is no post
    ("What post did Joan Mbeki hold?", "Statements were made by Joan Mbeki, Lidia Ferraro and Tomás Ilves."),
    # the person named is not in the sentence
    ("What post did Joan Mbeki hold?", "The session was opened by Marta Quiroga, Minister of Labour."),
    # a question about what the person said or did, not their post
    ("What did Marta Quiroga say about victims?", "The session was opened by Marta Quiroga, Minister of Labour."),
    # no person named
    ("Which ministry opened the session?", "The session was opened by Marta Quiroga, Minister of Labour."),
])
def test_nothing_when_the_question_or_sentence_does_not_call_for_it(question, sentence):
    assert _described(question, sentence) is None


def test_which_questions_ask_for_a_post_or_a_body():
    assert asked(analyse("Which NGO was Joan Mbeki representing?")) == "body"
    assert asked(analyse("¿Qué puesto tenía Tomás Ilves?")) == "post"
    assert asked(analyse("Who nominated Tomás Ilves?")) is None


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, real_embedder):
    return open_seed_assistant(tmp_path_factory.mktemp("appositives"), real_embedder)


@pytest.mark.parametrize("question, expected", [
    ("What post did Christopher Hernández-Roy hold at the OAS?", "Director of the Department of Public Security"),
    ("Which organisation was Felipe de la Torre from?", "United Nations Office on Drugs and Crime"),
    ("Which body was Ana Salvadó speaking for?", "Alianza por tus Derechos"),
    ("¿Qué puesto tenía Pablo Tettamanti?", "Director of International Organizations"),
])
def test_the_real_report_answers_with_how_it_introduces_the_person(assistant, question, expected):
    assert_answered_from_its_sentence(assistant.ask(question), expected)  # the sentence that introduces them
