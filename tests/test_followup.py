"""Follow-up rewriting as a plain function: no model, no server."""
import pytest

from tipqa.answering.followup import rewrite_followup, subject_of, topic_of

from .conftest import CANONICAL


def test_chain_of_followups_keeps_the_topic():
    chile = rewrite_followup("And what did Chile say?", CANONICAL)
    assert chile == "What did Chile say about joint investigation teams?"
    assert rewrite_followup("what about Mexico?", chile) == "What did Mexico say about joint investigation teams?"


@pytest.mark.parametrize("followup, expected", [
    ("what about Mexico?", "What did Mexico say about joint investigation teams?"),
    ("And how about the United States?", "What did the United States say about joint investigation teams?"),
    ("Mexico?", "What did Mexico say about joint investigation teams?"),
    ("And Chile?", "What did Chile say about joint investigation teams?"),
])
def test_entity_only_followups(followup, expected):
    assert rewrite_followup(followup, CANONICAL) == expected


def test_entity_is_swapped_in_a_question_that_names_one():
    previous = "Who did the delegation of Nicaragua nominate?"
    assert rewrite_followup("what about Chile?", previous) == "Who did the delegation of Chile nominate?"


def test_spanish_followups():
    previous = "¿Qué país propuso equipos conjuntos de investigación?"
    assert rewrite_followup("¿Y México?", previous) == "¿Qué dijo México sobre equipos conjuntos de investigación?"
    assert rewrite_followup("¿y qué dijo Chile?", previous) == "¿Qué dijo Chile sobre equipos conjuntos de investigación?"


@pytest.mark.parametrize("question", [
    "Who chaired the meeting?",
    "Which country proposed a Directory of National Authorities?",
    "When was the meeting held in Buenos Aires?",
])
def test_standalone_questions_are_left_alone(question):
    assert rewrite_followup(question, CANONICAL) == question


def test_no_previous_question_means_no_rewrite():
    assert rewrite_followup("  what about   Mexico? ", None) == "what about Mexico?"


def test_subject_and_topic():
    assert subject_of("What did the United States say about victims?") == "United States"
    assert subject_of("Did Trinidad and Tobago sign the protocol?") == "Trinidad and Tobago"
    assert subject_of(CANONICAL) is None
    assert topic_of(CANONICAL) == "joint investigation teams"
    assert topic_of("Who chaired the drafting group?") == "the drafting group"
