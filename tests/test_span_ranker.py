"""The learned choice of the short answer among the sentence's candidate spans (answering/span_ranker.py), with
the shipped model, on sentences and wordings written for these tests (in no question set)."""
from __future__ import annotations

import functools
import json
from dataclasses import replace

import numpy as np
import pytest

from tipqa.answering import scoring, span_ranker
from tipqa.answering.questions import analyse


def _choose(question: str, sentence: str, rule: str | None = None, rule_kind: str | None = None,
            kind: str | None = None):
    q = analyse(question)
    q = replace(q, expected=kind) if kind else q  # the kind as kinds.refine reads it from the question's meaning
    return span_ranker.choose(q, sentence, (0, len(sentence)), rule, rule_kind or q.expected, scoring.models().span)


def _texts(question: str, sentence: str, rule: str | None = None) -> list[str]:
    return [s.text for s in span_ranker.candidates(analyse(question), sentence, (0, len(sentence)), rule)]


def test_the_shipped_weights_have_a_span_model_over_its_features():
    model = scoring.models().span
    assert model is not None and model.names == span_ranker.SPAN_FEATURES
    assert scoring.models().answer.names == scoring.ANSWER_FEATURES
    assert scoring.models().sentence.names == scoring.SENTENCE_FEATURES


def test_trees_are_read_as_scikit_learn_reads_them():
    """The sentence model's trees are evaluated with numpy alone (scoring.Trees); here against scikit-learn's own
    decision function, on interactions of three features, after a round trip through the stored form."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    rng = np.random.default_rng(7)
    x = rng.normal(size=(12000, 5))
    y = (x[:, 0] * x[:, 1] * np.sign(x[:, 2]) + 0.3 * rng.normal(size=len(x)) > 0).astype(int)
    model = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, random_state=0).fit(x, y)
    trees = scoring.model_from_dict(scoring.Trees.from_sklearn(model, tuple("abcde")).to_dict())
    fresh = rng.normal(size=(500, 5))
    assert np.allclose(trees.logit(fresh), model.decision_function(fresh), atol=1e-5)
    assert isinstance(scoring.models().sentence, scoring.Blend)  # the shipped sentence model holds trees
    stored = json.loads(scoring.WEIGHTS.read_text(encoding="utf-8"))
    assert json.loads(scoring._dumps(stored)) == stored  # how save_models writes it: a tree's array on one line


def test_trees_of_several_seeds_read_as_the_mean_of_their_logits():
    """The sentence trees are fitted with several seeds (their early stopping holds out other rows, and keeps other
    numbers of trees) and stored as one Trees: its logit is the mean of the seeds' own decision functions, after a
    round trip through the stored form; one model is itself."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    rng = np.random.default_rng(11)
    x = rng.normal(size=(12000, 4))  # past 10,000 rows: early stopping on, seeded
    y = (x[:, 0] * x[:, 1] + 0.5 * x[:, 2] + rng.normal(size=len(x)) > 0).astype(int)
    models = [HistGradientBoostingClassifier(max_iter=200, learning_rate=0.5, max_leaf_nodes=7,
                                             random_state=seed).fit(x, y) for seed in range(3)]
    bag = [scoring.Trees.from_sklearn(m, tuple("abcd")) for m in models]
    assert len({t.feature.shape for t in bag}) > 1  # the seeds kept different numbers of trees
    mean = scoring.model_from_dict(scoring.Trees.mean(bag).to_dict())
    fresh = rng.normal(size=(300, 4))
    expected = np.mean([m.decision_function(fresh) for m in models], axis=0)
    assert np.allclose(mean.logit(fresh), expected, atol=1e-5)
    assert not np.allclose(bag[0].logit(fresh), expected, atol=1e-3)  # the mean, not one of them
    assert scoring.Trees.mean(bag[:1]) is bag[0]
    with pytest.raises(ValueError, match="at least one"):
        scoring.Trees.mean([])


def test_trees_fitted_on_a_grid_read_their_features_on_it():
    """Trees fitted on features rounded to 4 decimals read them so (stored form included): values 1e-6 apart, as
    two encoders give them, get the same logit however close they lie to a value met in fitting; the shipped
    sentence model's trees are such trees."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    rng = np.random.default_rng(3)
    x = rng.random(size=(6000, 2))
    x[:3000, 0] = 0.5258532  # many rows at one value: a raw fit puts a split right beside it
    y = ((x[:, 0] > 0.5258535) ^ (rng.random(len(x)) < 0.1)).astype(int)
    x[3000:3100, 0] = 0.5258538
    y[3000:3100] = 1
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(np.round(x, 4), y)
    trees = scoring.model_from_dict(scoring.Trees.from_sklearn(model, ("a", "b"), decimals=4).to_dict())
    near = np.array([[0.5258532, 0.5], [0.5258543, 0.5]])
    assert trees.decimals == 4 and trees.logit(near)[0] == trees.logit(near)[1]
    raw = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y)
    raw_trees = scoring.Trees.from_sklearn(raw, ("a", "b"))
    assert raw_trees.logit(near)[0] != raw_trees.logit(near)[1]  # what the grid prevents
    assert scoring.models().sentence.second.decimals == 4


def test_the_answer_model_knows_when_question_and_sentence_differ_in_language():
    from tipqa.answering.extract import cross_lingual
    english = "Brazil proposed the establishment of joint investigation teams."
    spanish = "Brasil propuso la creación de equipos conjuntos de investigación para los casos de trata."
    assert cross_lingual(analyse("¿Qué país propuso equipos conjuntos?"), english)
    assert not cross_lingual(analyse("¿Qué país propuso equipos conjuntos?"), spanish)
    assert not cross_lingual(analyse("Which country proposed joint teams?"), english)
    assert cross_lingual(analyse("Which country proposed joint teams?"), spanish)


def test_numbers_are_offered_with_the_noun_they_count_and_ordinals_with_theirs():
    sentence = "The rule applies on the sixtieth day after filing, and appeals close three weeks later."
    texts = _texts("How many days after filing does the rule apply?", sentence)
    assert "sixtieth day" in texts and "three weeks" in texts
    assert "three weeks later" in texts or "three" in texts


def test_titles_in_quotation_marks_are_not_places_or_bodies():
    sentence = "Ms. Rivera presented “Routes to Southern Europe” before victims were taken to Western Asia."
    texts = _texts("Where were the victims taken?", sentence)
    assert "Western Asia" in texts and not any("Southern Europe" in t for t in texts)


def test_the_rules_pick_from_the_sentence_before_is_kept_as_a_candidate():
    text = "The delegation of Paraguay spoke next. It also proposed a shared registry of shelters."
    span = (text.index("It also"), len(text))
    spans = span_ranker.candidates(analyse("Which country proposed a shared registry of shelters?"), text, span, "Paraguay")
    assert [s.text for s in spans] == ["Paraguay"] and spans[0].source == "rule"


@pytest.mark.parametrize("question, kind, sentence, expected", [
    ("How long must the parties wait before going to court?", "number",
     "If, four months after the request, the parties still disagree, any one of them may go to court.", "four months"),
    ("Where are most of the recruited girls sent?", "place",
     "Most of the girls are recruited in rural provinces and sent to Western Europe for domestic work.", "Western Europe"),
    ("¿Qué grupo armado recluta más niños en la región?", "organisation",
     "En la región, el Frente Unido Armado ha sido el principal reclutador de niños durante la última década.",
     "Frente Unido Armado"),
])
def test_the_learned_choice_on_new_wordings(question, kind, sentence, expected):
    choice = _choose(question, sentence, kind=kind)
    assert choice.answer == expected, choice
    assert 0.0 < choice.probability <= 1.0


def test_lists_and_open_questions_stay_with_the_rules():
    rule = "a shared registry"
    choice = _choose("What did the meeting recommend?", "The meeting recommended a shared registry.", rule, "other")
    assert choice.answer == rule and choice.probability is None


@pytest.mark.parametrize("sentence", [
    "1. This Convention shall enter into force on the thirtieth day after twenty States have ratified it.",
    "(2) This Convention shall enter into force on the thirtieth day after twenty States have ratified it.",
])
def test_a_numbered_items_marker_is_never_a_short_answer(sentence):
    texts = _texts("How many States had to ratify the convention before it took effect?", sentence)
    assert texts and not any(t.strip("()") in ("1", "2") for t in texts), texts
    assert _choose("How many States had to ratify the convention before it took effect?", sentence).answer.strip("()") \
        not in ("1", "2")


_NOTES = ("...the survey was run again in 2021.\n"
          "41 Ibid.\n"
          "42 Marta Quiroga and others, Forced Labour on Coffee Farms in Nicaragua (Managua, 2019).\n"
          "43 National Police of Nicaragua, Annual Report 2020.")


def test_an_endnotes_number_is_a_marker_not_a_figure():
    at = _NOTES.index("42 Marta")
    sentence = (at, _NOTES.index("\n", at))
    assert span_ranker.note_number(_NOTES, sentence) == (at, at + 2)
    q = analyse("How many workers were freed from coffee farms in Nicaragua?")
    assert "42" not in [s.text for s in span_ranker.candidates(q, _NOTES, sentence, None)]


@pytest.mark.parametrize("text", [
    "42 delegations attended the meeting, which closed with a declaration.",  # a count that opens a sentence
    "The ministry counted 42 cases.\n43 more were reported later.",  # only one line opens with a number
    "Before 2019:\n12 Member States ratified it.\n19 Member States had signed it.",  # numbers far apart
])
def test_a_number_opening_a_line_is_a_note_only_beside_lines_numbered_near_it(text):
    line = text.rfind("\n") + 1
    assert span_ranker.note_number(text, (line, len(text))) is None


def test_how_many_is_not_answered_by_an_ordinal_that_names_something():
    sentence = "The Second Meeting adopted the plan, which entered into force on the fortieth day after signature."
    texts = _texts("How many days after signature did the plan enter into force?", sentence)
    assert "fortieth day" in texts and not any(t.startswith("Second") for t in texts), texts
    assert any(t.startswith("Second") for t in _texts("Which meeting adopted the plan?", sentence, None)
               + _texts("What number did the meeting that adopted the plan carry?", sentence))


def test_a_number_inside_the_sentence_is_still_offered():
    texts = _texts("How many delegations attended?", "In all, 3. delegations from 12 countries attended.")
    assert "12 countries" in texts or "12" in texts


def test_a_name_in_parentheses_opening_a_sentence_is_still_offered():
    texts = _texts("Which organisation reported the figures?", "(UNODC) reported the figures to the meeting.")
    assert "UNODC" in texts, texts


def test_fractions_ratios_and_amounts_are_offered_whole():
    sentence = ("Changes need a three-quarters majority, one in four applicants is refused, and the fee is up to "
                "US$1,500.")
    texts = _texts("How large a majority do changes need?", sentence)
    assert "three-quarters majority" in texts and "three" not in texts
    assert "one in four" in _texts("What share of applicants is refused?", sentence)
    assert "up to US$1,500" in _texts("How much is the fee?", sentence)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, real_embedder):
    from .conftest import open_seed_assistant
    return open_seed_assistant(tmp_path_factory.mktemp("span_ranker"), real_embedder)


def _similar(assistant, question: str):
    """What Assistant.ask hands the span model: texts -> their cosines with the question, by the real model."""
    from tipqa.answering.extract import _similarity
    sentences, query = assistant._answer_inputs(assistant.data, assistant.question_embedder.embed_query(question))
    return functools.partial(_similarity, sentences, query)


@pytest.mark.slow
@pytest.mark.parametrize("question, sentence, expected", [
    ("What share of the fishermen said they never got the pay they had been promised?",
     "Of 420 fishermen surveyed on the southern islands, 38 per cent owed money to boat owners and 61 per cent had "
     "not received the wages agreed when they were hired.", "61 per cent"),
    ("¿Qué porcentaje de los pescadores dijo no haber cobrado el salario prometido?",
     "Of 420 fishermen surveyed on the southern islands, 38 per cent owed money to boat owners and 61 per cent had "
     "not received the wages agreed when they were hired.", "61 per cent"),
    ("How many of the rescued workers were later sent back to their home country?",
     "Inspectors rescued 85 workers from the farms; 23 of them were later returned to their country of origin and "
     "the rest stayed in shelters.", "23"),
])
def test_a_candidates_context_is_read_by_meaning(assistant, question, sentence, expected):
    q = replace(analyse(question), expected="number")  # as kinds.refine reads '¿Qué porcentaje ...?' by meaning
    span = (0, len(sentence))
    spans = span_ranker.candidates(q, sentence, span, None)
    similar = _similar(assistant, question)
    x = span_ranker.features(q, sentence, span, spans, None, similar)
    context = x[:, span_ranker.SPAN_FEATURES.index("context")]
    right = [i for i, s in enumerate(spans) if s.text.startswith(expected)]
    assert right and int(context.argmax()) in right, [(s.text, round(c, 3)) for s, c in zip(spans, context)]
    # ... and the shipped span model gives the candidate whose context reads closest to the question the most for it
    model = scoring.models().span
    gain = model.logit(x) - model.logit(span_ranker.features(q, sentence, span, spans, None))
    assert all(gain[i] > gain[j] for i in right for j in range(len(spans)) if j not in right), gain


def test_a_table_row_of_hundreds_of_figures_is_ranked_without_reading_each_ones_context():
    sentence = " ".join(f"{1000 + i} cases in region {i} were recorded," for i in range(100)) + " all in 2021."
    q = analyse("How many victims were detected in 2021?")
    asked = []
    x = span_ranker.features(q, sentence, (0, len(sentence)), span_ranker.candidates(q, sentence, (0, len(sentence)), None),
                             None, lambda texts: asked.extend(texts) or np.ones(len(texts)))
    assert len(x) > span_ranker.CONTEXT_LIMIT and not asked
    assert not x[:, span_ranker.SPAN_FEATURES.index("context")].any()


_NOTED_REPORT = """REPORT ON LABOUR EXPLOITATION IN CENTRAL AMERICA

Findings

Inspectors visited coffee farms in Nicaragua and Honduras during the harvest of 2021. Most workers had been
recruited by intermediaries who kept part of their wages, and many could not leave before the debt was repaid.41
Labour inspectors recommended joint inspections with the police in the border regions.42

Notes

40 Ministry of Labour of Honduras, Informe anual de inspecciones 2021 (Tegucigalpa, 2022).
41 Marta Quiroga and others, Forced Labour on Coffee Farms in Nicaragua (Managua, 2019).
42 National Police of Nicaragua, Annual Report 2020 (Managua, 2021).
43 Ibid.
"""


def test_a_reports_notes_never_give_their_number_as_an_answer(tmp_path, real_embedder):
    """Through Assistant.ask, the real model and a real index: the note that best matches a count question is known
    as a note (the sentence model's 'note' column), and its number is never the short answer."""
    from tipqa.answering import extract
    from tipqa.answering.retrieval import search
    from .conftest import open_seed_assistant
    assistant = open_seed_assistant(tmp_path, real_embedder, {"labour-report.txt": _NOTED_REPORT})
    question = "How many workers were freed from coffee farms in Nicaragua in 2019?"
    answer = assistant.ask(question)
    assert answer.answer is None or not answer.answer.strip().startswith(("40", "41", "42", "43")), answer.answer
    query = assistant.question_embedder.embed_query(question)
    hits = search(assistant.data, query, question, assistant.settings.top_k)
    sentences, query = assistant._answer_inputs(assistant.data, query)
    found = extract.read_candidates(question, hits, sentences, query, assistant.settings.model)
    column = scoring.SENTENCE_FEATURES.index("note")
    notes = {hit.chunk.text[a:b][:2] for (hit, (a, b)), row in zip(found.items, found.features) if row[column]}
    assert "41" in notes, notes  # the note naming coffee farms in Nicaragua is among the candidates, read as a note
    prose = [row[column] for (hit, (a, b)), row in zip(found.items, found.features)
             if hit.chunk.text[a:b].startswith("Inspectors visited")]
    assert prose == [0.0]
