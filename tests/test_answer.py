"""Short answers on the real seed report with the real model: by expected type, subject of the matching
clause, 'It also ...' resolved, lists in the text's order, Spanish questions, and 'not in the reports'."""
from __future__ import annotations

import numpy as np
import pytest

from tipqa.answering.questions import analyse
from tipqa.evaluate import answer_matches
from tipqa.assistant import Assistant


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, real_embedder):
    import shutil

    from tipqa.config import load_settings

    from .conftest import SEED
    root = tmp_path_factory.mktemp("answers")
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    settings = load_settings(corpus_dir=root / "corpus", index_dir=root / "index")
    return Assistant.open(settings=settings, embedder=real_embedder, progress=lambda *_: None)


@pytest.mark.parametrize("question, answer, kind", [
    ("Which country proposed joint investigation teams?", "Brazil", "country"),
    ("Which delegation suggested an ethics code for people working in justice?", "El Salvador", "country"),
    ("Which country suggested encouraging the development of road maps?", "Ecuador", "country"),
    ("Who chaired the drafting group?", "Pablo Tettamanti", "person"),
    ("Which organization was Juan Carlos Murillo with?", "UNHCR", "organisation"),
    ("When was the final document adopted?", "March 27, 2009", "date"),
    ("Which document contained the conclusions and recommendations?", "RTP-II/doc.5/09 rev. 9", "document"),
    ("Which nationalities are most common among the foreign victims in Argentina?",
     "Paraguayan, Dominicans, Bolivians, Peruvians, Brazilians", "list"),
])
def test_short_answers_by_type(assistant, question, answer, kind):
    result = assistant.ask(question)
    assert answer_matches(result.answer, [answer]) and result.answer_type == kind and result.outcome == "answer"
    passage = result.passages[0]
    assert passage.chunk_id == result.evidence.chunk_id
    assert passage.text[result.evidence.start:result.evidence.end] == result.evidence.sentence


def test_it_also_resolves_to_the_previous_subject(assistant):
    result = assistant.ask("Which country proposed an ethics code for justice system operators?")
    assert result.evidence.sentence.startswith("It also proposed establishing an ethics code")
    assert result.answer == "El Salvador"


def test_spanish_question_over_english_report(assistant):
    result = assistant.ask("¿Quién presidió el grupo de redacción?")
    assert "Pablo Tettamanti" in result.answer


@pytest.mark.parametrize("question", [
    "What budget did the OAS assign to its anti-trafficking programmes?",
    "Who chaired the third technical working group?",
    "What did Japan say about forced labour?",
])
def test_not_in_the_reports(assistant, question):
    """No short answer; at most the closest sentence, said to be only that (never as an answer)."""
    result = assistant.ask(question)
    assert result.answer is None and result.outcome in ("closest", "not_found")
    assert result.passages  # the closest passages are still shown
    assert ("do not say" if result.evidence is None else "the closest the reports come") in result.to_text()
    assert result.confidence < assistant.ask("Which country proposed joint investigation teams?").confidence


def test_question_analysis_types():
    assert analyse("Which country proposed joint investigation teams?").expected == "country"
    assert analyse("Who wanted a directory to be circulated?").expected == "agent"
    assert analyse("Who chaired the drafting group?").expected == "person"
    assert analyse("¿Cuándo se adoptó el documento final?").expected == "date"
    assert analyse("Which third group?").ordinals == {3}


# ---- regressions from the held-out set (eval/heldout_qa.jsonl): one test per kind of weakness ---------------

def test_role_noun_with_modifiers_asks_for_a_person(assistant):
    # 'Which <adjective> official/minister ...' used to fall through to 'other' and answer with a whole clause.
    assert analyse("Which Argentine minister declared the meeting closed?").expected == "person"
    assert analyse("Which OAS Assistant Secretary General spoke?").expected == "person"
    assert analyse("What did the president say?").expected == "other"  # an auxiliary ends the role phrase
    result = assistant.ask("Which Paraguayan official chaired the second working group?")
    assert (result.answer, result.answer_type) == ("Mr. Víctor Hugo Peña", "person")


def test_organisation_named_by_a_shorter_name_is_not_missing(assistant):
    # 'the UN office on drugs' is met by 'United Nations Office on Drugs and Crime (UNODC)': no abstention.
    result = assistant.ask("Who spoke for the UN office on drugs in the first working group?")
    assert result.answer == "Mr. Felipe de la Torre"


def test_country_inside_a_long_ministry_name_is_not_the_actor():
    # The role 'Director ... at the Ministry of Foreign Affairs, International Trade, and Worship of the Argentine
    # Republic' runs on past its commas: Argentina there is the official's employer, not a delegation that acted.
    from tipqa.answering.spans import short_answer
    from tipqa.answering.retrieval import Hit
    from tipqa.ingest.chunking import Chunk
    from tipqa.text import sentence_spans
    text = ("The review committee was chaired by Minister Ana Pérez, Director of Treaties at the Ministry of Foreign "
            "Affairs, International Trade, and Worship of the Argentine Republic.")
    chunk = Chunk("r/s/0", "r", "R", "S", ["S"], text, sentence_spans(text), "h")
    hit = Hit(chunk, 1.0, 1, 0.5, 1.0)
    assert short_answer(analyse("Which delegation objected to the review committee?"), hit, chunk.sentences[0]) \
        == (None, "country")
    assert short_answer(analyse("Who chaired the review committee?"), hit, chunk.sentences[0])[0] == "Minister Ana Pérez"


def test_spanish_declared_closed_and_by_whom(assistant):
    # Spanish puts the participle after the verb ('declaró clausurada'); both words are in the glossary now, and
    # 'By whom ...?' / '¿Por quién ...?' asks for a person like 'Who ...?'.
    from tipqa.language.glossary import to_english
    assert to_english("¿Quién declaró clausurada la reunión?") == "who declared closed the meeting?"
    assert analyse("By whom was the meeting closed?").expected == "person"
    result = assistant.ask("¿Por quién fue declarada clausurada la reunión?")
    assert (result.answer, result.answer_type) == ("Aníbal Fernández", "person")


def test_irregular_verbs_and_topic_paraphrases_meet_the_report_words(assistant):
    # 'taught' shares no prefix with 'educating'/'teach'; 'issue'/'topic' stand for 'the subject'.
    from tipqa.answering.questions import covers, stem, stems
    assert stem("taught") == stem("teaching") and stem("spoke") == stem("speaking")
    assert covers("topic", stems("including the subject in school curricula"))
    result = assistant.ask("Which delegation said the issue should be taught in schools?")
    assert result.answer == "Bolivia"


@pytest.mark.parametrize("question, answer", [
    ("Which country recommended a directory of national authorities?", "Brazil"),
    ("Which country proposed a shared database?", "Bolivia"),
])
def test_actor_must_act_on_the_thing_asked_about(assistant, question, answer):
    assert assistant.ask(question).answer == answer


@pytest.mark.parametrize("unanswerable", [
    "Which delegation proposed a regional observatory on migration?",  # a country proposes, but not this
    "Which country suggested a hemispheric hotline for victims?",
])
def test_a_proposal_of_something_else_is_less_likely_right_than_the_real_one(assistant, unanswerable):
    """Whether the reply then withholds the short answer is the threshold's business (bench/fit_answers.py sets
    it for 75 % of unanswerable questions); the probability must already rank it below a real answer."""
    doubtful = assistant.ask(unanswerable)
    sure = assistant.ask("Which country proposed joint investigation teams?")
    assert doubtful.confidence < sure.confidence - 0.2


def test_definite_reference_reads_the_earlier_sentence_and_coordinated_people_both_answer(assistant):
    # 'The presentation was delivered by A (...) and B (...)' is about the presentation named two sentences
    # earlier; it is read with that sentence, and both people who delivered it are the answer.
    result = assistant.ask("Who gave the presentation on the civil society conclusions?")
    assert result.evidence.sentence.startswith("The presentation was delivered by Patricia Seale")
    assert (result.answer, result.answer_type) == ("Patricia Seale, Ana Salvadó", "list")


@pytest.mark.parametrize("question", ["Which country proposed joint investigation teams?",
                                      "Who chaired the drafting group?", "What budget did the OAS assign?"])
def test_passages_are_listed_in_the_order_of_the_score_shown(assistant, question):
    """The score beside a passage is the one that ordered it (its best sentence's probability); the retrieval
    score that found it is kept apart, labelled."""
    passages = assistant.ask(question).passages
    reordered = [p.score for p in passages if p.retrieval_score is not None]
    assert reordered and reordered == sorted(reordered, reverse=True) and all(0 <= s <= 1 for s in reordered)
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))


def test_the_best_sentences_are_read_a_second_time_as_questions_are():
    """sentence_features asks for the RESCORE best sentences encoded as questions are (as_questions=True) and
    gives their cosines as the 'symmetric' columns; the other sentences get the lowest of them."""
    from tipqa.answering import extract
    from tipqa.answering.retrieval import Hit
    from tipqa.answering.scoring import SENTENCE_FEATURES
    from tipqa.ingest.chunking import Chunk
    from tipqa.text import sentence_spans
    text = " ".join(f"Delegation number {n} spoke about topic {n}." for n in range(14))
    chunk = Chunk("r/s/0", "r", "R", "S", ["S"], text, sentence_spans(text), "h")
    assert len(chunk.sentences) == 14
    hit = Hit(chunk, 1.0, 1, 0.5, 1.0)
    rng = np.random.default_rng(0)
    views = {False: {}, True: {}}
    asked = []

    def vectors(texts, sources, as_questions=False):
        asked.append((len(texts), sources is None, as_questions))
        for t in texts:
            if t not in views[as_questions]:
                v = rng.normal(size=8)
                views[as_questions][t] = v / np.linalg.norm(v)
        return np.array([views[as_questions][t] for t in texts])

    query = np.ones(8) / np.sqrt(8)
    q = analyse("Which delegation spoke about topic 3?")
    items = [(hit, span) for span in chunk.sentences]
    x = extract.sentence_features(q, items, vectors, query)
    column = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    assert asked[-1] == (extract.RESCORE, True, True)  # the best few, on their own, as questions
    symmetric = x[:, column["symmetric"]]
    texts = [text[a:b] for a, b in chunk.sentences]
    read = [i for i, t in enumerate(texts) if t in views[True]]
    assert len(read) == extract.RESCORE
    for i in read:
        assert symmetric[i] == pytest.approx(float(views[True][texts[i]] @ query))
    assert np.all(np.delete(symmetric, read) == symmetric[read].min())
    assert np.allclose(x[:, column["symmetric_gap"]], symmetric - symmetric.max())


def test_the_sentence_overlap_weighs_a_word_by_how_few_candidates_hold_it():
    """extract._weighted_overlap: a question word most candidate sentences hold counts for less than one only a
    sentence holds, so one rare word outweighs two common ones (the plain share of words ranked them the other
    way: 2 of 4 against 1 of 4)."""
    from tipqa.answering.extract import _weighted_overlap
    q = analyse("Which delegation proposed a trafficking observatory in Quito?")
    texts = ["Trafficking was proposed as a topic.", "Trafficking was proposed again.", "Trafficking, proposed by many.",
             "An observatory was set up.", "Trafficking rose."]
    shares = _weighted_overlap(q, texts)
    assert shares[3] > shares[0] == shares[1] == shares[2] > shares[4] > 0.0
    assert shares.max() < 1.0  # 'Quito' is in none of them: no sentence holds the whole question
    assert _weighted_overlap(analyse("Who?"), texts).tolist() == [0.0] * 5
    assert _weighted_overlap(q, []).shape == (0,)


def test_a_date_the_question_names_is_met_by_a_date_of_the_same_time():
    """extract._named_here: 'in 2010' is met by '8 de junio de 2010' and 'December 2012' by '26 December 2012'
    (their canonical IDs differ: 2010 / 2010-06-08); another year, or a day with no year, is not."""
    from tipqa.answering.extract import _named_here, _same_time
    from tipqa.answering.retrieval import Hit
    from tipqa.ingest.chunking import Chunk

    def named(question: str, sentence: str) -> float:
        chunk = Chunk("r/s/0", "r", "R", "S", ["S"], sentence, [(0, len(sentence))], "h")
        return _named_here(analyse(question), Hit(chunk, 1.0, 1, 0.5, 0.0), [(0, len(sentence))])

    assert named("Which resolution was adopted in 2010?", "Aprobada el 8 de junio de 2010.") == 1.0
    assert named("Which law amended the offence in December 2012?", "It was amended on 26 December 2012.") == 1.0
    assert named("Which resolution was adopted in 2011?", "Aprobada el 8 de junio de 2010.") == 0.0
    assert named("What did Brazil propose in 2010?", "Brazil proposed it in 2009.") == 0.5
    assert _same_time("2010", "2010-06-08") and _same_time("2012-12-26", "2012-12")
    assert not _same_time("2012-12", "2012-11-26") and not _same_time("XXXX-06-08", "2010-06-08")
    assert _same_time("XXXX-06-08", "XXXX-06-08")


@pytest.mark.parametrize("question, answer, echoed", [
    ("What post does Egidi Crotti hold at UNICEF?", "UNICEF", True),
    ("¿Qué cargo ocupaba Patricia Seale dentro del Business and Professional Women's Club?",
     "Business and Professional Women’s Club", True),  # the question's straight apostrophe, the report's curly one
    ("What did the Canadian delegation stress?", "Canada", True),  # named by its demonym
    ("Which country proposed joint investigation teams?", "Brazil", False),
    ("Who chaired the meeting?", "Ambassador Raúl Ricardes", False),
    ("What post did Ricardes hold?", "Coordinator General of International Issues of the Argentine Republic", False),
])
def test_a_short_answer_that_only_repeats_the_question_is_no_answer(question, answer, echoed):
    from tipqa.answering.extract import echoes
    assert echoes(analyse(question), answer) is echoed


def test_the_assistant_never_answers_with_what_the_question_names(assistant):
    answer = assistant.ask("Which organisation did Eugenio Ambrossi represent at IOM?")  # was: the IOM's full name
    assert answer.answer is None and answer.evidence is not None
