"""Extractive answering: pick the answering sentence and clause, then the span of the expected type.

Pure Python + numpy over retrieved Hits; the only model call is the sentence embedder handed in.
The short answer is always a span of the passage (or a list of spans), never text made up per question.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from ..language.entities import find_entities, fold
from ..language.glossary import is_spanish
from . import appositives, kinds, scoring, span_ranker
from .questions import Question, analyse, covers, passage_ordinals, stem, stems
from .retrieval import Hit
from .spans import KINDS, PRONOUN, UNIT, chunk_entities, named_in_question, short_answer

SENTENCE_PASSAGES = 5  # sentences are taken (and passages reranked) from this many top passages
RESCORE = 10  # best sentences read again, each encoded on its own as questions are (see sentence_features)
# A sentence past the best is taken for the span it holds only when the span model gives that span at least this
SPAN_ACCEPT = 0.5
TYPED = ("section", "document", "date", "number", "place", "nationality", "organisation", "country", "person", "agent")

@dataclass
class Extracted:
    hit: Hit
    span: tuple[int, int]  # of the evidence sentence inside hit.chunk.text
    answer: str | None  # the short answer, only when outcome is "answer"
    answer_type: str
    confidence: float  # the calibrated probability that the short answer picked is right
    outcome: str  # "answer" | "closest" (the sentence, no short answer) | "not_found"
    features: dict = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # hit indices, best passage first (reranked by sentences)
    passage_scores: dict[int, float] = field(default_factory=dict)  # hit index -> its best sentence's probability

    @property
    def abstain(self) -> bool:
        return self.outcome == "not_found"


@dataclass
class Candidates:
    """The candidate answering sentences of one question, with their features (scoring.SENTENCE_FEATURES)."""

    question: Question
    items: list[tuple[Hit, tuple[int, int]]]
    features: np.ndarray  # float[n, len(SENTENCE_FEATURES)]
    similar: span_ranker.Similar | None = None  # texts -> their cosines with the question (span_ranker.features)


def retrieval_text(question: str) -> str:
    q = analyse(question)
    text = q.english if q.language != "en" else question
    if q.expected == "section":  # 'Which article ...' asks for a heading: 'article' in the text is noise
        text = UNIT.sub(" ", text)
    if re.search(r"\bdefin", text, re.I):  # legal texts define terms as '"X" shall mean ...' under 'Use of terms'
        text += " shall mean use of terms"
    return text


def read_candidates(question: str, hits: list[Hit], sentence_vectors, query_vector: np.ndarray,
                    model: str | None = None) -> Candidates | None:
    """Every sentence of the top passages, with the features the sentence model scores. model: the embedding
    model's name, for the kind of answer read from the question's meaning where the rules find none (kinds.py)."""
    q = analyse(question)
    if model is not None:
        q = kinds.refine(q, model, query_vector, sentence_vectors)
    items = [(hit, span) for hit in hits[:SENTENCE_PASSAGES] for span in hit.chunk.sentences]
    if not items:
        return None
    return Candidates(q, items, sentence_features(q, items, sentence_vectors, query_vector),
                      functools.partial(_similarity, sentence_vectors, query_vector))


def _similarity(sentence_vectors, query_vector: np.ndarray, texts: list[str]) -> np.ndarray:
    """Cosines of short texts with the question, each encoded as questions are (cached like the rescored sentences)."""
    if not texts:
        return np.zeros(0)
    return _embed(sentence_vectors, texts, None, as_questions=True) @ query_vector


def answer_question(question: str, hits: list[Hit], sentence_vectors, query_vector: np.ndarray,
                    learned: scoring.Models | None = None, model: str | None = None) -> Extracted | None:
    found = read_candidates(question, hits, sentence_vectors, query_vector, model)
    if found is None:
        return None
    learned = learned or scoring.models()
    return decide(found, hits, learned)


def decide(found: Candidates, hits: list[Hit], learned: scoring.Models) -> Extracted:
    """The answering sentence (the sentence model's best, or a close one that holds an answer of the kind asked
    for), the short answer in it, and which of the three outcomes the answer model's probability allows."""
    q, items, x = found.question, found.items, found.features
    logits = learned.sentence.logit(x)
    best, choice = _first_answering(q, items, logits, learned.span, similar=found.similar)
    answer, kind = choice.answer, choice.kind
    hit, span = items[best]
    row = answer_features(q, x, logits, best, choice, items[best])
    probability = float(learned.answer.probability(row[None, :])[0])
    sentence_probability = 1.0 / (1.0 + math.exp(-float(logits[best])))
    if answer is not None and probability >= learned.answer_at:
        outcome = "answer"
    elif sentence_probability >= learned.closest_at:
        outcome = "closest"
    else:
        outcome = "not_found"
    features = dict(zip(scoring.ANSWER_FEATURES, (round(float(v), 4) for v in row)))
    features.update(sentence_probability=round(sentence_probability, 4), expected=q.expected, language=q.language)
    order, scores = _rerank(hits, items, logits)
    return Extracted(hit, span, answer if outcome == "answer" else None, kind, probability, outcome, features, order,
                     scores)


def answer_features(q: Question, x: np.ndarray, logits: np.ndarray, best: int, choice: span_ranker.Choice,
                    item: tuple[Hit, tuple[int, int]]) -> np.ndarray:
    """scoring.ANSWER_FEATURES of the chosen sentence: how sure the sentence model is, and by how much; how many
    other spans of the kind asked for the sentence holds (the more, the likelier the pick is wrong); how long the
    short answer is; the span model's probability for it, where it chose; the second view's cosine of the
    sentence (see sentence_features) and its gap to the best."""
    hit, span = item
    answer = choice.answer
    kinds_asked = KINDS.get(q.expected, ())
    # a span of the kind asked for that the short answer leaves out (a list answer takes its items in)
    given = fold(answer or "")
    rivals = sum(1 for e in chunk_entities(hit.chunk.text) if span[0] <= e.start < span[1] and e.kind in kinds_asked
                 and not named_in_question(q, e) and not (given and fold(e.text) in given))
    others = np.delete(logits, best)
    margin = float(logits[best] - others.max()) if len(others) else 5.0
    column = {name: i for i, name in enumerate(scoring.SENTENCE_FEATURES)}
    names_something = any(e.kind in ("country", "organisation", "person", "document", "date") for e in q.entities)
    found = float(answer is not None)
    sentence_probability = 1.0 / (1.0 + math.exp(-float(logits[best])))
    return np.array([float(logits[best]), margin, found, found * sentence_probability, float(q.expected in TYPED),
                     x[best, column["dense"]], x[best, column["passage_dense"]], x[best, column["lexical"]],
                     x[best, column["unmet"]], x[best, column["named"]], float(names_something),
                     float(min(rivals, 3)), scoring.log_length(answer or ""),
                     float(choice.probability is not None), choice.probability or 0.0,
                     x[best, column["symmetric"]], x[best, column["symmetric_gap"]],
                     float(cross_lingual(q, hit.chunk.text[span[0]:span[1]]))])


def cross_lingual(q: Question, sentence: str) -> bool:
    """Whether the question and a sentence are in different languages: a Spanish question's cosine with an English
    sentence runs lower (gold sentences: 0.49 against 0.61 for English with English), so the sentence and answer
    models read the cosines knowing it. Left out, at the same thresholds (0.34, 0.04), short answers 0.381 -> 0.392,
    not found 0.038 -> 0.034, declined 0.754 -> 0.805 (bench/README.md, "Context, structure and form")."""
    return (q.language == "es") != _spanish(sentence)


_spanish = functools.lru_cache(maxsize=8192)(is_spanish)  # the same passages' sentences come back question after question


def _rerank(hits: list[Hit], candidates, logits: np.ndarray) -> tuple[list[int], dict[int, float]]:
    """Passages ordered by the probability of their best sentence (the sentence model reads the question more
    closely than passage retrieval does), and that probability: the score shown beside each passage. Passages
    beyond those read for sentences follow in retrieval order, without one."""
    best: dict[int, float] = {}
    index = {id(h): i for i, h in enumerate(hits)}
    for (hit, _), logit in zip(candidates, logits):
        i = index[id(hit)]
        best[i] = max(best.get(i, -1e9), float(logit))
    ranked = sorted(best, key=lambda i: -best[i])
    probability = {i: 1.0 / (1.0 + math.exp(-best[i])) for i in ranked}
    return ranked + [i for i in range(len(hits)) if i not in best], probability


def _first_answering(q: Question, candidates, scores: np.ndarray, span_model: scoring.Logistic | None,
                     margin: float = 1.0, similar: span_ranker.Similar | None = None) -> tuple[int, span_ranker.Choice]:
    """The best sentence that holds a span of the expected type, if one scores within margin (in logits) of the
    best; its short answer chosen by the span model (span_ranker.py) among the sentence's candidates."""
    order = np.argsort(-scores, kind="stable")
    first = int(order[0])
    at_first = None
    for index in order[:6]:
        if scores[index] < scores[first] - margin:
            break
        choice = _short(q, candidates[index], span_model, similar)
        at_first = at_first or choice
        if choice.answer is not None and (choice.probability is None or choice.probability >= SPAN_ACCEPT):
            return int(index), choice
    return first, at_first


def _short(q: Question, item: tuple[Hit, tuple[int, int]], span_model: scoring.Logistic | None,
           similar: span_ranker.Similar | None = None) -> span_ranker.Choice:
    hit, span = item
    introduced = appositives.described(q, hit.chunk.text, span)  # 'What post did X hold?': how X is introduced
    if introduced is not None:
        choice = span_ranker.Choice(*introduced, None)
    else:
        answer, kind = short_answer(q, hit, span)
        choice = span_ranker.choose(q, hit.chunk.text, span, answer, kind, span_model, similar)
    if choice.answer is not None and echoes(q, choice.answer):
        return span_ranker.Choice(None, choice.kind, 0.0)
    return choice


def echoes(q: Question, answer: str) -> bool:
    """Whether the short answer is only what the question already names ('UNICEF' for 'What post does X hold at
    UNICEF?'): its words, or the country, organisation or person it names, are the question's own. The span model's
    candidates leave those out already (span_ranker.candidates); the rules' picks and appositives did not."""
    words = fold(answer).strip(" .,;:")
    if words and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", fold(q.text + " " + q.english)):
        return True
    named = [e for e in find_entities(answer) if e.kind in ("country", "organisation", "person")]
    covered = sum(e.end - e.start for e in named)
    return bool(named) and covered >= 0.8 * len(answer.strip()) and all(named_in_question(q, e) for e in named)


# ---- the answering sentence -------------------------------------------------------------------------

def sentence_features(q: Question, candidates, sentence_vectors, query_vector) -> np.ndarray:
    """scoring.SENTENCE_FEATURES of each candidate sentence (read with the sentence before it when it opens with
    'It ...'). Lexical overlap counts the question's own content words only, the rarer among the candidates the
    more (_weighted_overlap): paraphrases are the dense side's."""
    sources = [(hit, _context_spans(hit, span)) for hit, span in candidates]
    texts = [" ".join(hit.chunk.text[a:b] for a, b in spans) for hit, spans in sources]
    dense = _embed(sentence_vectors, texts, sources) @ query_vector
    lexical = _weighted_overlap(q, texts)
    # Stored sentence vectors are read in the passage's context (its tokens pooled over the sentence): free at
    # question time. The few that can win are read a second time, each sentence encoded on its own as questions
    # are (e5: 'query: ' on both sides, two statements compared rather than a question and a passage; cached
    # across questions), as features of their own beside the first view. Five-fold over three shuffles
    # (bench/fit_answers.py), short answers 0.410 -> 0.436 (in users' own words 0.284 -> 0.310), against
    # rescoring the same sentences encoded as passages, which this replaces at the same cost. Both rescorings:
    # 0.430; the question view in place of the passage view's cosine, in the same column: 0.410.
    best = np.argsort(-(dense + 0.5 * lexical), kind="stable")[:RESCORE]
    symmetric = np.empty(len(dense))
    symmetric[best] = _embed(sentence_vectors, [texts[i] for i in best], None, as_questions=True) @ query_vector
    symmetric[np.setdiff1d(np.arange(len(dense)), best)] = symmetric[best].min()
    rank = np.empty(len(dense))
    rank[np.argsort(-dense, kind="stable")] = np.arange(1, len(dense) + 1)
    neighbours = _neighbours(candidates)
    # The passage's share of the question's IDF (retrieval.term_coverage, over the whole corpus): five-fold short
    # answers 0.454 -> 0.465, leaving one report out 0.367 -> 0.377 (bench/README.md).
    coverage = np.array([hit.coverage for hit, _ in candidates])
    rows = []
    for i, (hit, span) in enumerate(candidates):
        sentence = hit.chunk.text[span[0]:span[1]]
        beside = max((dense[j] for j in neighbours[i]), default=dense[i])
        rows.append([dense[i], dense[i] - dense.max(), 1.0 / rank[i], beside - dense.max(), hit.dense, 1.0 / hit.rank,
                     lexical[i], lexical[i] - lexical.max(),
                     float(_has_candidate(q, hit, span) or _defines(q, sentence)), float(_unmet(q, hit) > 0),
                     _named_here(q, hit, sources[i][1]),
                     float(hit.chunk.sentences[0] == span), scoring.log_length(sentence),
                     float(len(sentence.split()) < 5), float(not _FINISHED.search(sentence)),
                     symmetric[i], symmetric[i] - symmetric.max(), coverage[i], coverage[i] - coverage.max(),
                     float(cross_lingual(q, sentence)), float(span_ranker.note_number(hit.chunk.text, span) is not None)])
    return np.array(rows, dtype=np.float64)


def _weighted_overlap(q: Question, texts: list[str]) -> np.ndarray:
    """The share of the question's content words each text holds, each word weighed by how few of the texts hold
    it (log((n + 1) / (holders + 0.5)) over these n candidates): a word every candidate shares ('trafficking' in
    a report on trafficking) tells them apart less than a name only one holds. Against the plain share of words,
    bench/fit_answers.py five-fold (three shuffles) sentence@1 0.635 -> 0.646, and leaving one report out
    0.567 -> 0.578 (the weights come from the candidates alone, so they carry to any report)."""
    terms = {stem(t) for t in q.terms}
    if not terms or not texts:
        return np.zeros(len(texts))
    held = [terms & stems(t) for t in texts]
    weight = {t: math.log((len(texts) + 1) / (sum(t in h for h in held) + 0.5)) for t in terms}
    total = sum(weight.values())
    return np.array([sum(weight[t] for t in h) / total for h in held])


# A sentence that does not end as sentences do is a fragment (a line of a table, a heading, a sentence cut by a page).
_FINISHED = re.compile(r"[.!?:;…)\]\"”’'»]\s*$")


def _neighbours(candidates) -> list[list[int]]:
    """For each candidate, the candidates right before and after it in the same passage: an answer cut across a
    line or page break, or leaning on the sentence before, is found beside the one that reads like the question."""
    at = {(id(hit), span): i for i, (hit, span) in enumerate(candidates)}
    out = []
    for hit, span in candidates:
        spans = hit.chunk.sentences
        k = spans.index(span) if span in spans else -1
        out.append([at[(id(hit), s)] for s in (spans[k - 1] if k > 0 else None, spans[k + 1] if 0 <= k < len(spans) - 1 else None)
                    if s is not None and (id(hit), s) in at])
    return out


_DEFINITION = re.compile(r"^\W{0,3}(?:[a-z]\)\s*)?[\"“']?(?P<term>[^\"”']{2,80})[\"”']?\s+(?:shall mean|means|is defined as|"
                         r"refers to|shall be understood as|se entender[aá] por|significa)\b", re.I)


def _defines(q: Question, sentence: str) -> bool:
    """A question about what defines a term favours the sentence that defines it ('"X" shall mean ...')."""
    if not re.search(r"\bdefin|\bmeaning of\b|\bwhat (?:is|are) meant by\b", q.english, re.I):
        return False
    m = _DEFINITION.match(sentence)
    return bool(m) and covers(stem(m.group("term").split()[0]), stems(q.english))


@functools.lru_cache(maxsize=2048)
def _passage_facts(chunk_text: str, section: str) -> tuple[frozenset, str, frozenset]:
    ids = {e.canonical_id for e in chunk_entities(chunk_text)} | {e.canonical_id for e in find_entities(section)}
    return frozenset(ids), fold(section + " " + chunk_text), frozenset(passage_ordinals(section + " " + chunk_text))


def _missing(q: Question, hit: Hit) -> tuple[list[str], list[int]]:
    """What the question names (entities, ordinals) that the passage never mentions."""
    ids, folded, ords = _passage_facts(hit.chunk.text, " ".join(hit.chunk.section_path))
    entities = [e.text for e in q.entities if e.kind in ("country", "organisation", "person", "document")
                and e.canonical_id not in ids and e.canonical_id.rsplit("-", 1)[-1] not in folded
                and not (e.kind == "organisation" and re.search(rf"\b{re.escape(fold(e.name))}\b", folded))]
    # An organisation counts as named when its full name is there, even inside a longer one: 'the UN ... office'
    # is met by 'United Nations Office on Drugs and Crime'.
    return entities, sorted(q.ordinals - ords)


def _named_here(q: Question, hit: Hit, spans: list[tuple[int, int]]) -> float:
    """The share of what the question names (countries, organisations, people, symbols, dates) that the sentence
    (with the one it leans on) names too, by canonical id: 'la delegación brasileña' meets 'Brazil'; a date by the
    time it names, so 'in 2010' and 'December 2012' are met by '8 de junio de 2010' and '26 December 2012'. With
    dates matched by id alone, right short answers at matched declined shares were 549.9 five-fold and 473.6 with
    a report left out; by time, 558.2 and 487.2 (bench/README.md, "The seventeenth session")."""
    named = [e for e in q.entities if e.kind in ("country", "organisation", "person", "document", "date")]
    if not named:
        return 0.0
    here = [e for e in chunk_entities(hit.chunk.text) if any(a <= e.start < b for a, b in spans)]
    ids = {e.canonical_id for e in here}
    dates = [e.canonical_id for e in here if e.kind == "date"]
    return sum(e.canonical_id in ids or (e.kind == "date" and any(_same_time(e.canonical_id, d) for d in dates))
               for e in named) / len(named)


def _same_time(a: str, b: str) -> bool:
    """Whether two ISO-like dates ('2012-12', '2012-12-26', 'XXXX-06-08') can name the same time: one is the
    other's start, its year known ('December 2012' is met by '26 de diciembre del año 2012')."""
    if a.startswith("XXXX") or b.startswith("XXXX"):
        return a == b
    return a.startswith(b) or b.startswith(a)


def _unmet(q: Question, hit: Hit) -> int:
    entities, numbers = _missing(q, hit)
    return len(entities) + len(numbers)


def _context_spans(hit: Hit, span: tuple[int, int]) -> list[tuple[int, int]]:
    """The sentence's span, after the span of the earlier sentence it needs to be understood, if any."""
    text = hit.chunk.text[span[0]:span[1]]
    before = [s for s in hit.chunk.sentences if s[1] <= span[0]]
    if PRONOUN.match(text) and before:
        return [before[-1], span]
    definite = _DEFINITE.match(text)
    if definite and before:  # 'The presentation was delivered by ...' is about the presentation named earlier
        noun = stem(definite.group(1))
        for a, b in reversed(before[-3:]):
            if noun in stems(hit.chunk.text[a:b]):
                return [(a, b), span]
    return [span]


_DEFINITE = re.compile(r"^(?:The|This|That|These|Those)\s+([a-z]{4,})\s+(?:was|were|is|are|had|has)\b")


def _embed(sentence_vectors, texts: list[str], sources, as_questions: bool = False) -> np.ndarray:
    """Sentence vectors, each distinct text once. sentence_vectors(texts, sources) reads them from the index
    where it stored them (sources: (hit, spans) of each text), else encodes (and caches) the texts;
    sentence_vectors(texts, None, as_questions=True) encodes them as questions are."""
    first = {}
    for i, text in enumerate(texts):
        first.setdefault(text, i)
    unique = list(first)
    picked = sources and [sources[i] for i in first.values()]
    vectors = np.asarray(sentence_vectors(unique, picked, as_questions=True) if as_questions
                         else sentence_vectors(unique, picked), dtype=np.float32)
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in texts]]


def _has_candidate(q: Question, hit: Hit, span: tuple[int, int]) -> bool:
    kinds = KINDS.get(q.expected)
    if not kinds:
        return False
    ents = [e for e in chunk_entities(hit.chunk.text) if span[0] <= e.start < span[1] and e.kind in kinds]
    return any(not named_in_question(q, e) for e in ents) or bool(PRONOUN.match(hit.chunk.text[span[0]:span[1]]))
