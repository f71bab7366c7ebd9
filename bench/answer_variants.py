"""Answer-step variants tried for issue 13 and not kept (bench/README.md), scored on the fitting sets as
bench/fit_answers.py scores the product: every model refitted per fold, five-fold over three shuffles, and one
report left out at a time (the figure that tells whether a change carries to a report the models never saw).

    python bench/answer_variants.py [--variant NAME ...] [--fixed 0.33,0.04 ...] [--by-fact]
                                    # default: every variant but "adapter", each in turn

Variants (see VARIANTS): the product as it is; sentences read from 8 passages instead of 5; the second view for
the best 15 sentences instead of 10; other L2 penalties of the sentence and answer models; a Spanish question's own
words in the weighted overlap; each sentence's share of the question's corpus IDF (with its gap, without, in place
of the weighted overlap); the best top passage's IDF coverage as an answer feature; the share of what the question pins down that the
answering sentence does not name, as an answer feature ("answer-unmet"); a sentence opening with 'That ...' read
with the one before it ("demonstrative"); Spanish cognate endings in the glossary rendering ("cognates"); the
sentence model fitted to
rank (a softmax over each question's candidates, then Platt-scaled: "listwise"), or such a ranker choosing the
sentence beside the pointwise model that feeds the answer model ("ranker"); a learned question adapter
(slow: a few minutes per fold on two cores; only when named); the sentence model without its trees
("logistic-sentence"), trees alone ("trees-sentence"), trees only ordering the sentences ("trees-ranker"), trees as
the answer model ("trees-answer"), the trees' weight in the sentence model's mean ("trees-weight-0.3", "-0.7"),
trees beside the span model ("span-trees"), the short answer's support in the other candidate sentences as answer
features ("answer-support"), short answers withheld from 80 % of unanswerable questions ("abstain-0.80"), the
answer model as two ("two-stage") or as a blend of the logistic model and trees ("answer-blend"), a person introduced
with the body the question names as a span feature ("span-introduced"), a question's bare name where a place stands
read as no person ("place-names"), names read from their form as a person question's span candidates ("person-form"),
and with them a post where the sentence names no one ("person-role"), whether the short answer is, whole, an entity
the gazetteer knows as an answer feature ("answer-known"), and both ("person-role-known"), the span model choosing
among the rules' pieces for "other" questions ("other-ranked"), each sentence's cosine less the question's mean
cosine over an even sample of passages as a sentence feature ("sentence-background"), the kind of answer asked for
as answer features ("answer-kind"), a relevance head over the question and each sentence encoded together as
sentence features ("joint"), as an answer feature of the chosen sentence ("joint-answer") or both ("joint-both"),
and people read by their form (middle initials, a role holding an acronym, a work's authors: "names-by-form").
Each variant runs in its own process, so no patch leaks into the next. eval/test_qa.jsonl is never read.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_answers as fa  # noqa: E402
from _common import ROOT  # noqa: E402

VARIANTS = ("product", "top-k-8", "rescore-15", "l2-sentence-1", "l2-sentence-10", "l2-sentence-30", "l2-answer-30",
            "spanish-words", "sentence-idf", "sentence-idf-nogap", "sentence-idf-replace", "answer-coverage",
            "answer-unmet", "demonstrative", "cognates", "listwise", "ranker", "logistic-sentence", "trees-sentence",
            "trees-ranker", "trees-answer", "trees-weight-0.3", "trees-weight-0.7", "span-trees", "answer-support",
            "abstain-0.80", "two-stage", "answer-blend", "span-introduced", "answer-substitute", "answer-form",
            "place-names", "person-form", "person-role", "answer-known", "person-role-known", "other-ranked",
            "sentence-background", "answer-kind", "joint", "joint-answer", "joint-both", "names-by-form", "adapter")


def lexical_of(record: dict):
    """The BM25 index (store.lexical.BM25) a record's question was asked of."""
    from answers import corpus, index_for
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    kind = fa.SETS[record["set"]][1]
    if kind not in lexical_of.opened:
        folder = corpus(kind, ROOT / "bench" / ".cache" / "answers")
        lexical_of.opened[kind] = Assistant.open(settings=load_settings(corpus_dir=folder, index_dir=index_for(folder)),
                                                 progress=lambda f, m: None)
    return lexical_of.opened[kind].data.lexical


lexical_of.opened = {}


def idf_share(record: dict, texts: list[str]) -> np.ndarray:
    """Each text's share of the question's BM25 terms' IDF in the index it was asked of (each term once)."""
    from tipqa.answering.answer import retrieval_text
    from tipqa.store.lexical import query_terms
    lexical = lexical_of(record)
    w, n = lexical.weights, lexical.weights.shape[1]
    idf = {}
    for term in set(query_terms(retrieval_text(record["item"].question))) & lexical.vocab.keys():
        df = w.indptr[lexical.vocab[term] + 1] - w.indptr[lexical.vocab[term]]
        idf[term] = math.log1p((n - df + 0.5) / (df + 0.5))
    total = sum(idf.values())
    if not total:
        return np.zeros(len(texts))
    return np.array([sum(v for t, v in idf.items() if t in set(query_terms(text))) / total for text in texts])


def with_features(records: list[dict], extra, names: tuple[str, ...] = (), replace_lexical: bool = False) -> list[dict]:
    """Records whose sentence features get EXTRA(record) (float[n]) as two more columns (the value, its gap to the
    best) named NAMES, or as one column (one name), or in place of the weighted overlap's two columns."""
    from tipqa.answering import extract, scoring
    out = []
    for r in records:
        texts = [" ".join(h.chunk.text[a:b] for a, b in extract._context_spans(h, s)) for h, s in r["found"].items]
        c = extra(r, texts)
        f = r["found"].features.copy()
        if replace_lexical:
            lexical = scoring.SENTENCE_FEATURES.index("lexical")
            f[:, lexical], f[:, lexical + 1] = c, c - c.max()
        else:
            f = np.column_stack([f, c, c - c.max()][:1 + len(names)])
        out.append(dict(r, found=dataclasses.replace(r["found"], features=f)))
    scoring.SENTENCE_FEATURES = scoring.SENTENCE_FEATURES + names
    return out


def sentence_background(record: dict, texts: list[str]) -> np.ndarray:
    """Each candidate sentence's cosine (the `dense` feature) less the question's mean cosine over an even sample
    of 512 passages of its index (answer_background.py, where it was tried as an answer feature)."""
    from answer_background import sample_rows
    from tipqa.answering import scoring
    from tipqa.answering.retrieval import cosines
    dense = record["found"].features[:, scoring.SENTENCE_FEATURES.index("dense")]
    return dense - cosines(record["data"], sample_rows(record["data"], 512), record["query"]).mean()


def pair_features(embedder, question: str, texts: list[str]) -> np.ndarray:
    """Each text read together with the question, as one input ('query: <question> passage: <text>'): the
    normalised mean of the question's contextual token vectors and of the text's (OnnxEmbedder.embed_passages'
    span vectors), as their product and absolute difference (float32[len(texts), 2 * dim])."""
    joined = [question + PAIR_JOIN + t for t in texts]
    spans = [[(0, len(question)), (len(question) + len(PAIR_JOIN), len(j))] for j in joined]
    _, parts = embedder.embed_passages(joined, spans, prompt="query")
    return np.array([np.r_[p[0] * p[1], np.abs(p[0] - p[1])] for p in parts], dtype=np.float32)


PAIR_JOIN = " passage: "


def joint_relevance(records: list[dict], sentence: bool = True, answer: bool = False) -> list[dict]:
    """A relevance head read from the question and each candidate sentence encoded together (pair_features): a
    logistic model, fitted with each report's questions left out in turn (fit_answers.folds), gives each candidate
    its held-out logit, a sentence feature with its gap to the best ("joint", "joint_gap"; sentence), and the
    chosen sentence's an answer feature ("chosen_joint"; answer)."""
    from sklearn.linear_model import LogisticRegression

    from answer_diff import assistant_for
    from tipqa.answering import extract, scoring
    from sklearn.metrics import roc_auc_score
    embedder = assistant_for("nine").sentence_embedder
    pairs, started = [], time.perf_counter()
    for k, r in enumerate(records):
        texts = [" ".join(h.chunk.text[a:b] for a, b in extract._context_spans(h, s)) for h, s in r["found"].items]
        pairs.append(pair_features(embedder, r["item"].question, texts))
        if k % 200 == 0:
            print(f"[joint] {k} of {len(records)} questions encoded", flush=True)
    seconds = time.perf_counter() - started
    logits: dict[int, np.ndarray] = {}
    for fold in fa.folds(records):
        held = set(fold)
        train = [i for i in range(len(records)) if i not in held]
        head = LogisticRegression(C=JOINT_C, max_iter=3000).fit(np.vstack([pairs[i] for i in train]),
                                                                  np.concatenate([records[i]["labels"] for i in train]))
        for i in fold:
            logits[id(records[i])] = head.decision_function(pairs[i])
    count = sum(len(p) for p in pairs)
    dense = scoring.SENTENCE_FEATURES.index("dense")
    with_evidence = [r for r in records if r["labels"].any()]
    labels = np.concatenate([r["labels"] for r in with_evidence])
    print(f"[joint] {count} candidates of {len(records)} questions, {1000 * seconds / count:.1f} ms each "
          f"(encoder sessions: {getattr(embedder, 'workers', 1)}); held-out AUC of evidence sentences "
          f"among the candidates of the {len(with_evidence)} questions that have one: head "
          f"{roc_auc_score(labels, np.concatenate([logits[id(r)] for r in with_evidence])):.3f}, first view's cosine "
          f"{roc_auc_score(labels, np.concatenate([r['found'].features[:, dense] for r in with_evidence])):.3f}",
          flush=True)
    if answer:
        by_item = {id(r["item"]): logits[id(r)] for r in records}
        original_features, original_pick = extract.answer_features, fa.pick
        current = {}

        def features(q, x, sentence_logits, chosen, choice, item):
            return np.append(original_features(q, x, sentence_logits, chosen, choice, item), current["joint"][chosen])

        def pick(record, sentence_logits, span_model, order=None):
            current["joint"] = by_item[id(record["item"])]
            return original_pick(record, sentence_logits, span_model, order)
        extract.answer_features, fa.pick = features, pick
        scoring.ANSWER_FEATURES = scoring.ANSWER_FEATURES + ("chosen_joint",)
    if not sentence:
        return records
    return with_features(records, lambda r, texts: logits[id(r)], ("joint", "joint_gap"))


JOINT_C = 1.0


def patch_l2(sentence: float | None = None, answer: float | None = None) -> None:
    from tipqa.answering import scoring
    original = scoring.fit_logistic

    def fit(x, y, names, l2=1.0, **kw):
        if names == scoring.SENTENCE_FEATURES and sentence is not None:
            l2 = sentence
        elif names == scoring.ANSWER_FEATURES and answer is not None:
            l2 = answer
        return original(x, y, names, l2=l2, **kw)
    scoring.fit_logistic = fit


def patch_spanish_words() -> None:
    """The weighted overlap over the English rendering's words and, for a Spanish question, its own BM25 tokens."""
    from tipqa.answering import extract
    from tipqa.answering.questions import stem, stems
    from tipqa.store.lexical import tokenize

    def weighted(q, texts):
        terms = {stem(t) for t in q.terms}
        if q.language != "en":
            terms |= {stem(t) for t in tokenize(q.text, q.language)}
        if not terms or not texts:
            return np.zeros(len(texts))
        held = [terms & stems(t) for t in texts]
        weight = {t: math.log((len(texts) + 1) / (sum(t in h for h in held) + 0.5)) for t in terms}
        return np.array([sum(weight[t] for t in h) for h in held]) / sum(weight.values())
    extract._weighted_overlap = weighted


def patch_answer_coverage(records: list[dict]) -> None:
    """The best top passage's IDF coverage (BM25.coverage of the hits) as one more answer feature."""
    from tipqa.answering import extract, scoring
    from tipqa.answering.answer import retrieval_text
    best = {id(r["found"]): float(lexical_of(r).coverage(retrieval_text(r["item"].question),
                                                         np.array([h.row for h in r["hits"]])).max())
            for r in records}
    original_features, original_pick = extract.answer_features, fa.pick
    current = {}

    def features(q, x, logits, chosen, choice, item):
        return np.append(original_features(q, x, logits, chosen, choice, item), current["value"])

    def pick(record, logits, span_model, order=None):
        current["value"] = best[id(record["found"])]
        return original_pick(record, logits, span_model, order)
    extract.answer_features, fa.pick = features, pick
    scoring.ANSWER_FEATURES = scoring.ANSWER_FEATURES + ("best_passage_coverage",)


def patch_demonstrative() -> None:
    """A sentence opening with a demonstrative ('That preparatory meeting took place ...') read with the sentence
    before it, as one opening with a pronoun is."""
    import re
    from tipqa.answering import extract
    original, opens = extract._context_spans, re.compile(r"^(?:This|That|These|Those)\s+[a-z]")

    def context(hit, span):
        before = [s for s in hit.chunk.sentences if s[1] <= span[0]]
        if before and opens.match(hit.chunk.text[span[0]:span[1]]):
            return [before[-1], span]
        return original(hit, span)
    extract._context_spans = context


# Regular Spanish -> English cognate endings, longest first ('cooperación' -> 'cooperation')
_ENDINGS = (("ciones", "tions"), ("cion", "tion"), ("siones", "sions"), ("sion", "sion"), ("idades", "ities"),
            ("idad", "ity"), ("dades", "ties"), ("dad", "ty"), ("encias", "ences"), ("encia", "ence"),
            ("ancias", "ances"), ("ancia", "ance"), ("mente", "ly"), ("ismo", "ism"), ("istas", "ists"),
            ("ista", "ist"), ("icos", "ics"), ("icas", "ics"), ("ico", "ic"), ("ica", "ic"), ("ivos", "ives"),
            ("ivas", "ives"), ("ivo", "ive"), ("iva", "ive"), ("osos", "ous"), ("osas", "ous"), ("oso", "ous"),
            ("osa", "ous"), ("arios", "aries"), ("aria", "ary"), ("ario", "ary"), ("ales", "als"), ("ados", "ated"),
            ("adas", "ated"), ("ado", "ated"), ("ada", "ated"))


def patch_cognates() -> None:
    """A Spanish word the glossary lacks is rendered as itself and its English cognate by its ending
    ('elaboración' -> 'elaboración elaboration'), for BM25 and the lexical features."""
    import re
    from tipqa.language import glossary

    class WithCognates(dict):
        def get(self, key, default=None):
            if key in self or not isinstance(default, str) or len(default) < 5 or not default[0].islower() \
                    or not default.isalpha():
                return super().get(key, default)
            for ending, english in _ENDINGS:
                if key.endswith(ending):
                    return f"{default} {re.sub(r'^es(?=[ptc][^aeiou])', 's', key[:-len(ending)] + english)}"
            return default
    glossary._WORDS = WithCognates(glossary._WORDS)


def patch_answer_unmet() -> None:
    """One more answer feature: the share of what the question pins down (every entity it names but numbers, its
    ordinals: 'the third group', 'the 2006 meeting', 'Paraguay's hotline') that the answering sentence, read with
    the one it leans on, does not name."""
    from tipqa.answering import extract, scoring
    from tipqa.answering.questions import passage_ordinals
    from tipqa.answering.spans import chunk_entities
    from tipqa.language.entities import fold
    original = extract.answer_features

    def unmet(q, hit, span) -> float:
        named = [e for e in q.entities if e.kind != "number"]
        if not named and not q.ordinals:
            return 0.0
        spans = extract._context_spans(hit, span)
        text = " ".join(hit.chunk.text[a:b] for a, b in spans)
        ids = {e.canonical_id for e in chunk_entities(hit.chunk.text) if any(a <= e.start < b for a, b in spans)}
        folded = fold(text)
        missing = sum(e.canonical_id not in ids and e.canonical_id.rsplit("-", 1)[-1] not in folded
                      and fold(e.name) not in folded for e in named)
        return (missing + len(q.ordinals - passage_ordinals(text))) / (len(named) + len(q.ordinals))

    def features(q, x, logits, chosen, choice, item):
        return np.append(original(q, x, logits, chosen, choice, item), unmet(q, *item))
    extract.answer_features = features
    scoring.ANSWER_FEATURES = scoring.ANSWER_FEATURES + ("sentence_unmet",)


def patch_trees(variant: str) -> None:
    """Gradient-boosted trees (fit_answers.fit_trees) alone as the sentence model; or ordering the sentences while the
    logistic model alone gives the answer model its features; or as the answer model (8 leaves, 150 rounds; the
    sentence model the logistic one alone). The figures in bench/README.md, "Notes, ordinals and trees"."""
    from tipqa.answering import scoring
    fa.SENTENCE_TREES = False

    def trees(records: list[dict], idx: list[int]):
        return fa.fit_trees(*fa.sentence_rows(records, idx))

    def answer_trees(rows: np.ndarray, labels: np.ndarray, weights: np.ndarray):
        from sklearn.ensemble import HistGradientBoostingClassifier
        model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=30,
                                               l2_regularization=1.0, random_state=0)
        return scoring.Trees.from_sklearn(model.fit(rows, labels, sample_weight=weights), scoring.ANSWER_FEATURES)

    if variant == "trees-sentence":
        fa.fit_sentence = trees
    elif variant == "trees-ranker":
        fa.RANKER = trees
    else:
        fa.fit_answer = answer_trees


def patch_trees_weight(weight: float) -> None:
    """The sentence model's logit: (1 - WEIGHT) * the logistic model's + WEIGHT * the trees' (the product: 0.5)."""
    fa.SENTENCE_TREES = False
    logistic = fa.fit_sentence

    class Weighted:
        def __init__(self, first, second):
            self.first, self.second, self.names = first, second, first.names

        def logit(self, x):
            return (1 - weight) * self.first.logit(x) + weight * self.second.logit(x)

    def fit(records: list[dict], idx: list[int]):
        return Weighted(logistic(records, idx), fa.fit_trees(*fa.sentence_rows(records, idx)))
    fa.fit_sentence = fit


def patch_span_trees() -> None:
    """The span model's logit: the mean of the logistic model's and trees' (8 leaves, 200 rounds) on its rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from tipqa.answering import scoring
    from tipqa.answering.span_ranker import SPAN_FEATURES
    logistic = fa.fit_span

    def fit(records: list[dict], idx: list[int]):
        xs, ys, ws = [], [], []
        for i, w in zip(idx, fa.set_weights(records, idx)):
            for x, y in records[i]["spans"]:
                xs.append(x)
                ys.append(y)
                ws.append(np.full(len(y), w / len(y) / len(records[i]["spans"])))
        model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=20,
                                               l2_regularization=1.0, random_state=0)
        model.fit(np.vstack(xs), np.concatenate(ys), sample_weight=np.concatenate(ws) * len(idx))
        return scoring.Blend(logistic(records, idx), scoring.Trees.from_sklearn(model, SPAN_FEATURES))
    fa.fit_span = fit


def patch_answer_support() -> None:
    """Two more answer features: the sum of the probabilities of the other candidate sentences that hold the short
    answer (at most 3), and how many other passages hold it (at most 3)."""
    from tipqa.answering import extract, scoring
    from tipqa.language.entities import fold
    original, pick = extract.answer_features, fa.pick
    current = {}

    def picking(record, logits, span_model, order=None):
        current["items"] = record["found"].items
        return pick(record, logits, span_model, order)

    def features(q, x, logits, chosen, choice, item):
        answer, p = fold(choice.answer or ""), 1 / (1 + np.exp(-logits))
        support, passages = 0.0, set()
        for j, (hit, (a, b)) in enumerate(current["items"]):
            if len(answer) > 1 and j != chosen and answer in fold(hit.chunk.text[a:b]):
                support += p[j]
                passages |= {id(hit)} - {id(item[0])}
        return np.append(original(q, x, logits, chosen, choice, item), [min(support, 3.0), min(len(passages), 3)])
    fa.pick, extract.answer_features = picking, features
    scoring.ANSWER_FEATURES = scoring.ANSWER_FEATURES + ("support", "support_passages")


def patch_span_introduced() -> None:
    """One more span feature, `introduced_as_asked`: 1 when the candidate is a person the sentence introduces with a
    body or country the question names (of 'Mr. A of UNODC ... and Mr. B of IOM', B for 'Which IOM representative
    ...?'); the introduction runs from the name to the next person's (at most 160 characters, within the sentence),
    with the title and post the entity reader gave the name."""
    from tipqa.answering import span_ranker
    from tipqa.language.entities import find_entities
    plain = span_ranker.features

    def introduced(q, text, span, s, people) -> float:
        for i, person in enumerate(people):
            if person.start <= s.start < person.end:
                stop = min([p.start for p in people[i + 1:]] + [person.end + 160, span[1]])
                introduction = f"{text[person.end:stop]} {person.role or ''}"
                return float(any(e.canonical_id in q.entity_ids for e in find_entities(introduction)
                                 if e.kind in ("organisation", "country")))
        return 0.0

    def features(q, text, span, spans, rule, similar=None):
        people = sorted((e for e in span_ranker.chunk_entities(text)
                         if e.kind == "person" and span[0] <= e.start < span[1]), key=lambda e: e.start)
        column = [introduced(q, text, span, s, people) if q.entity_ids else 0.0 for s in spans]
        span_ranker.SPAN_FEATURES = base  # the product's features read their own count from it
        try:
            x = plain(q, text, span, spans, rule, similar)
        finally:
            span_ranker.SPAN_FEATURES = extended
        return np.hstack([x, np.array(column).reshape(-1, 1)])

    base = span_ranker.SPAN_FEATURES
    extended = span_ranker.SPAN_FEATURES = base + ("introduced_as_asked",)
    span_ranker.features = features


def patch_answer_blend() -> None:
    """The answer model's logit: the mean of the quadratic logistic model's and trees' (8 leaves, 150 rounds at most,
    as "trees-answer"), as the sentence model's is."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from tipqa.answering import scoring
    logistic = fa.fit_answer

    class Mean:
        def __init__(self, first, second):
            self.first, self.second = first, second

        def probability(self, x):
            return 1.0 / (1.0 + np.exp(-0.5 * (self.first.logit(x) + self.second.logit(x))))

    def fit(rows: np.ndarray, labels: np.ndarray, weights: np.ndarray):
        model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=30,
                                               l2_regularization=1.0, random_state=0)
        trees = scoring.Trees.from_sklearn(model.fit(rows, labels, sample_weight=weights), scoring.ANSWER_FEATURES)
        return Mean(logistic(rows, labels, weights), trees)
    fa.fit_answer = fit


def patch_two_stage() -> None:
    """The answer model as two: P(the question is answerable) fitted on every question, times P(the short answer is
    right | answerable) fitted on the answerable ones; the product is the probability the threshold reads."""
    from tipqa.answering.scoring import ANSWER_FEATURES, fit_logistic
    original = fa.held_out

    def held_out(records: list[dict], splits: list[list[int]]) -> dict:
        answerable = np.array([r["item"].answer is not None for r in records], dtype=float)
        current: dict = {}

        def fit_answer(rows, labels, weights):
            train = current["train"]
            first = fit_logistic(rows, answerable[train], ANSWER_FEATURES, l2=10.0, sample_weight=weights, expand=True)
            mask = answerable[train] > 0
            second = fit_logistic(rows[mask], labels[mask], ANSWER_FEATURES, l2=10.0, sample_weight=weights[mask],
                                  expand=True)
            return Product(first, second)

        def set_weights(records_, idx):
            current["train"] = list(idx)
            return weights_of(records_, idx)

        fa.fit_answer, fa.set_weights = fit_answer, set_weights
        try:
            return original(records, splits)
        finally:
            fa.fit_answer, fa.set_weights = fit_original, weights_of

    fit_original, weights_of = fa.fit_answer, fa.set_weights
    fa.held_out = held_out


@dataclasses.dataclass
class Product:
    first: object
    second: object

    def probability(self, x):
        return self.first.probability(x) * self.second.probability(x)


def adapter_figures(records: list[dict], l2: float = 1e-2) -> None:
    """Sentence@1 and short answers before the threshold, random five-fold and one report left out, with and
    without the adapter (nested: the sentence model is fitted on cross-fitted adapter features)."""
    import torch
    from tipqa.answering import extract
    from tipqa.answering.answer import retrieval_text
    for r in records:  # the question vector and in-context sentence vectors, as sentence_features reads them
        lexical_of(r)  # opens the record's index
        assistant = lexical_of.opened[fa.SETS[r["set"]][1]]
        text = retrieval_text(r["item"].question)
        query = assistant.question_embedder.embed_query(
            r["item"].question if assistant.encoders.multilingual else text)
        sentences, query = assistant._answer_inputs(assistant.data, query)
        sources = [(h, extract._context_spans(h, s)) for h, s in r["found"].items]
        texts = [" ".join(h.chunk.text[a:b] for a, b in sp) for h, sp in sources]
        r["qvec"], r["S"] = query.astype(np.float32), extract._embed(sentences, texts, sources).astype(np.float32)
        r["neighbours"] = extract._neighbours(r["found"].items)

    def train(subset):
        subset = [r for r in subset if r["labels"].any()]
        n, d = max(len(r["labels"]) for r in subset), subset[0]["qvec"].shape[0]
        S, M, Y = torch.zeros(len(subset), n, d), torch.full((len(subset), n), -1e9), torch.zeros(len(subset), n)
        Q = torch.tensor(np.stack([r["qvec"] for r in subset]))
        for i, r in enumerate(subset):
            k = len(r["labels"])
            S[i, :k], M[i, :k], Y[i, :k] = torch.tensor(r["S"]), 0.0, torch.tensor(r["labels"] / r["labels"].sum())
        A = torch.zeros(d, d, requires_grad=True)
        opt = torch.optim.Adam([A], lr=2e-3)
        for _ in range(200):
            opt.zero_grad()
            z = 20.0 * torch.einsum("bnd,bd->bn", S, Q + Q @ A.T) + M
            loss = -(torch.log_softmax(z, 1) * Y).sum(1).mean() + l2 * (A ** 2).sum()
            loss.backward()
            opt.step()
        return A.detach().numpy()

    def adapted(r, A):
        f = r["found"].features.copy()
        dense = r["S"] @ (r["qvec"] + A @ r["qvec"])
        rank = np.empty(len(dense))
        rank[np.argsort(-dense, kind="stable")] = np.arange(1, len(dense) + 1)
        beside = np.array([max((dense[j] for j in nb), default=dense[i]) for i, nb in enumerate(r["neighbours"])])
        f[:, 0], f[:, 1], f[:, 2], f[:, 3] = dense, dense - dense.max(), 1.0 / rank, beside - dense.max()
        return f

    def score(splits, use):
        picked = {}
        for held in splits:
            train_idx = [i for i in range(len(records)) if i not in set(held)]
            features = {i: records[i]["found"].features for i in range(len(records))}
            if use:
                inner = np.random.default_rng(1).permutation(train_idx)
                for k in range(5):
                    part = set(inner[k::5].tolist())
                    A = train([records[i] for i in train_idx if i not in part])
                    features.update({i: adapted(records[i], A) for i in part})
                A = train([records[i] for i in train_idx])
                features.update({i: adapted(records[i], A) for i in held})
            local = [dict(r, found=dataclasses.replace(r["found"], features=features[i])) for i, r in enumerate(records)]
            sentence, span = fa.fit_sentence(local, train_idx), fa.fit_span(local, train_idx)
            for i in held:
                picked[i] = fa.pick(local[i], sentence.logit(local[i]["found"].features), span)
        answerable = [i for i in range(len(records)) if records[i]["item"].answer is not None]
        return (np.mean([picked[i][3] for i in answerable]), np.mean([picked[i][2] for i in answerable]))

    shuffled = np.random.default_rng(0).permutation(len(records))
    five = [sorted(shuffled[k::5].tolist()) for k in range(5)]
    for name, splits in (("five-fold", five), ("one report left out", fa.folds(records))):
        for use in (False, True):
            sentence_at_1, short = score(splits, use)
            print(f"adapter {'on ' if use else 'off'} ({name}): sentence@1 {sentence_at_1:.3f}, "
                  f"short answers before the threshold {short:.3f}", flush=True)


def figures(records: list[dict]) -> None:
    """Five-fold over three shuffles (fit_answers.shuffled_figures), then one report left out at a time with the
    thresholds of the five-fold (shuffle 0) fit, as bench/fit_answers.py prints them."""
    answerable = np.array([r["item"].answer is not None for r in records])
    fa.shuffled_figures(records, answerable, 3)
    if BY_FACT:
        fa.shuffled_figures(records, answerable, 3, by_fact=True)
    target = np.array([r["set"] in fa.THRESHOLD_SETS for r in records])
    shuffled = np.random.default_rng(0).permutation(len(records))
    random_cv = fa.held_out(records, [sorted(shuffled[k::5].tolist()) for k in range(5)])
    answer_at, closest_at = fa.thresholds({k: v[target] for k, v in random_cv.items()}, answerable[target])
    by_report = fa.held_out(records, fa.folds(records))
    left_out = fa.figures_of(by_report, answerable, answer_at, closest_at)
    print(f"one report left out: short answer {left_out['answer_accuracy']:.3f}, sentence@1 {left_out['sentence@1']:.3f}, "
          f"not found (answerable) {left_out['not_found_answerable']:.3f}, abstained (unanswerable) "
          f"{left_out['abstain_unanswerable']:.3f}; answer_at {answer_at:.2f}", flush=True)
    for answer_at, closest_at in FIXED:  # thresholds move with every refit: compare variants at one pair
        print(f"  left out at {answer_at} / {closest_at}:", fa.figures_of(by_report, answerable, answer_at, closest_at),
              flush=True)
    print(f"  right short answers before the threshold, left out: {int(by_report['right'][answerable].sum())}",
          flush=True)


FIXED: list[tuple[float, float]] = []  # --fixed
BY_FACT = False  # --by-fact


def fit_listwise(x: np.ndarray, y: np.ndarray, groups: np.ndarray, names: tuple[str, ...], l2: float = 1.0,
                 group_weight: np.ndarray | None = None, expand: bool = False) -> Logistic:
    """A ranking model for picking one candidate per group (question): weights maximising each group's softmax
    probability of its labelled candidates (L2-regularised, by L-BFGS), then scaled by one logistic fit of the
    pointwise labels on its scores (Platt), so sigmoid(logit) is again P(this candidate is a right one).
    groups: the group of each row, in runs; group_weight: one weight per group, in order of appearance."""
    from scipy.optimize import minimize

    from tipqa.answering.scoring import Logistic, fit_logistic, quadratic
    x = quadratic(x) if expand else np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], len(groups)]
    weights = np.ones(len(starts)) if group_weight is None else np.asarray(group_weight, dtype=np.float64)
    member = np.repeat(np.arange(len(starts)), ends - starts)  # each row's group
    positives = np.add.reduceat(y, starts)
    # each row's share of its group's target distribution, times the group's weight (0 in a group without one)
    target = np.where(positives[member] > 0, y / np.maximum(positives[member], 1e-12), 0.0) * weights[member]
    mass = np.add.reduceat(target, starts)  # a group's weight where it has a right candidate, else 0

    def loss(theta):
        s = z @ theta
        top = np.maximum.reduceat(s, starts)
        e = np.exp(s - top[member])
        total = np.add.reduceat(e, starts)
        log_p = s - top[member] - np.log(total)[member]
        p = e / total[member]
        value = -(target @ log_p) + 0.5 * l2 * theta @ theta
        gradient = -(z.T @ (target - mass[member] * p)) + l2 * theta
        return value, gradient

    theta = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
    score = (z @ theta)[:, None]
    platt = fit_logistic(score, y, ("score",), l2=1e-6,
                         sample_weight=np.concatenate([np.full(b - a, w / (b - a)) for (a, b), w
                                                       in zip(zip(starts, ends), weights)]) * len(starts))
    a = float(platt.weights[0] / platt.scale[0])
    return Logistic(tuple(names), mean, scale, theta * a, float(platt.bias - a * platt.mean[0]), expand)


def listwise_sentences(records: list[dict], idx: list[int], l2: float = 10.0):
    """The sentence model's features and quadratic expansion, fitted by fit_listwise (each question's weight as
    fit_answers.set_weights gives it)."""
    from tipqa.answering.scoring import SENTENCE_FEATURES
    x = np.vstack([records[i]["found"].features for i in idx])
    y = np.concatenate([records[i]["labels"] for i in idx])
    groups = np.concatenate([np.full(len(records[i]["labels"]), n) for n, i in enumerate(idx)])
    return fit_listwise(x, y, groups, SENTENCE_FEATURES, l2=l2, group_weight=fa.set_weights(records, idx),
                        expand=True)


# Variants that are one patch each, applied before the questions are collected.
def patch_answer_substitute() -> None:
    """One more answer feature, `substitute`: the short answer names a country, organisation or person of a kind
    the question names too, but not the one it names, and the answering sentence (with the one it leans on) does
    not name the question's: 'Colombia' for 'What position did Canada take in Working Group 1?', from a sentence
    about Colombia."""
    from tipqa.answering import extract, scoring
    from tipqa.answering.spans import chunk_entities, named_in_question
    from tipqa.language.entities import find_entities
    original = extract.answer_features

    def substitute(q, answer, hit, span) -> float:
        kinds = ("country", "organisation", "person")
        asked = {e.kind for e in q.entities if e.kind in kinds}
        given = [e for e in find_entities(answer or "") if e.kind in asked and not named_in_question(q, e)]
        if not given:
            return 0.0
        spans = extract._context_spans(hit, span)
        held = [e for e in chunk_entities(hit.chunk.text) if any(a <= e.start < b for a, b in spans)]
        return float(not any(e.kind in asked and named_in_question(q, e) for e in held))

    def features(q, x, logits, chosen, choice, item):
        return np.append(original(q, x, logits, chosen, choice, item), substitute(q, choice.answer, *item))
    extract.answer_features = features
    scoring.ANSWER_FEATURES = scoring.ANSWER_FEATURES + ("substitute",)


def patch_answer_form() -> None:
    """One more answer feature, `form_mismatch`: the short answer lacks the form the question asks for: a share
    asked ('what share', 'qué porcentaje') and no percentage or fraction in the answer; a duration asked ('how
    long', 'cuántos meses') and no unit of time; a count asked ('how many') and a year or a percentage given."""
    import re
    from tipqa.answering import extract, scoring, span_ranker
    from tipqa.answering.spans import _COUNT, _SHARE
    original = extract.answer_features

    def mismatch(q, answer) -> float:
        if not answer:
            return 0.0
        asked = q.text + " " + q.english
        if _SHARE.search(asked) and not (span_ranker._PERCENT.search(answer)
                                         or re.search(r"\b(?:half|third|quarter|one in|uno de cada|mitad|tercio)", answer, re.I)):
            return 1.0
        if span_ranker._TIME_ASKED.search(asked) and not span_ranker._TIME_UNIT.search(answer):
            return 1.0
        if _COUNT.search(asked) and (re.fullmatch(r"(?:19|20)\d\d", answer.strip()) or span_ranker._PERCENT.search(answer)):
            return 1.0
        return 0.0

    def features(q, x, logits, chosen, choice, item):
        return np.append(original(q, x, logits, chosen, choice, item), mismatch(q, choice.answer))
    extract.answer_features = features
    scoring.ANSWER_FEATURES = scoring.ANSWER_FEATURES + ("form_mismatch",)


def patch_place_names() -> None:
    """A question's bare name where a place stands is no person: after 'in', 'at', 'on' or 'the meeting of' ('held
    in Buenos Aires', 'la reunión de Buenos Aires' as rendered), or before a meeting word ('the Buenos Aires
    meeting'), unless possessive ('In Felipe Michelini's view'). 120 fitting questions name 'Buenos Aires' as a
    person, which no passage names."""
    import re
    from tipqa.answering import questions
    before = re.compile(r"\b(?:in|at|on|(?:meeting|gathering|session|conference|encounter) of)\s+(?:the\s+)?$", re.I)
    after = re.compile(r"\s+(?:meeting|gathering|session|conference|summit|talks|proceedings|venue|group)\b", re.I)
    original = questions._bare_names

    def bare_names(text, known):
        text = text.strip()
        return [e for e in original(text, known)
                if not ((before.search(text, 0, e.start) or after.match(text, e.end))
                        and not re.search(r"['’]s?$", e.text) and not re.match(r"['’]s?\b", text[e.end:]))]
    questions._bare_names = bare_names
    questions._analyse.cache_clear()


def patch_person_form() -> None:
    """Names read from their form as span candidates of a person question: two to four capitalised words (a middle
    initial and particles allowed: 'Albert R. Ramdin', 'Felipe de la Torre'), none of them a word that is no name,
    overlapping nothing the gazetteer read. The gazetteer finds people by their titles and roles; 'The Assistant
    Secretary General of the OAS, Albert R. Ramdin, today brought ...' and a note's 'Marcena Hunter, “Pulling at
    golden webs” ...' gave no person candidate at all."""
    import re
    from tipqa.answering import span_ranker
    from tipqa.answering.spans import chunk_entities
    from tipqa.language.entities import NOT_NAMES, fold
    from tipqa.language.entities import _NAME_TOKEN, _PARTICLE
    name = re.compile(rf"(?<![\w.’'-]){_NAME_TOKEN}(?:\s+(?:[A-Z]\.\s+)?(?:{_PARTICLE}\s+)?{_NAME_TOKEN}){{1,3}}")
    original = span_ranker.candidates

    def candidates(q, text, span, rule):
        found = original(q, text, span, rule)
        if q.expected not in ("person", "agent"):
            return found
        taken = [(e.start, e.end) for e in chunk_entities(text)] + [(s.start, s.end) for s in found]
        asked = fold(q.text + " " + q.english)
        for m in name.finditer(text, span[0], span[1]):
            words = [w for w in m.group(0).split() if w[:1].isupper()]
            if any(fold(w.rstrip(".")) in NOT_NAMES for w in words) or re.search(r"['’]s?$", m.group(0)):
                continue
            if any(a < m.end() and m.start() < b for a, b in taken) or fold(m.group(0)) in asked:
                continue
            found.append(span_ranker.Span(m.group(0), m.start(), m.end(), "person", "form"))
        return sorted(found, key=lambda s: s.start)
    span_ranker.candidates = candidates


def patch_person_role() -> None:
    """person-form, and a post as the answer of a person question whose sentence names no one ('The
    Secretary-General of the United Nations is designated depositary of this Protocol'; 'the Ministers of Justice of
    the Americas'): a role word, then 'of' and a name in Title Case."""
    import re
    from tipqa.answering import span_ranker
    from tipqa.language.entities import ROLE_WORDS
    patch_person_form()
    role = re.compile(rf"(?:(?:{ROLE_WORDS})s?[\s-]+)*(?:{ROLE_WORDS})s?\s+of\s+(?:the\s+)?[A-Z][\w’'-]*"
                      r"(?:\s+(?:(?:of|and|for|on|against)\s+(?:the\s+)?)?[A-Z][\w’'-]*)*")
    with_names = span_ranker.candidates

    def candidates(q, text, span, rule):
        found = with_names(q, text, span, rule)
        if q.expected not in ("person", "agent") or any(s.kind == "person" for s in found):
            return found
        for m in role.finditer(text, span[0], span[1]):
            if not any(s.start < m.end() and m.start() < s.end for s in found if s.kind == "person"):
                found.append(span_ranker.Span(m.group(0), m.start(), m.end(), "person", "form"))
        return sorted(found, key=lambda s: s.start)
    span_ranker.candidates = candidates


def patch_answer_known() -> None:
    """One more answer feature, `known`: the short answer is, whole, something the gazetteer knows (a country,
    organisation, person with a title, date, number, symbol), not a span read from its form or a clause the
    rules cut out. With person-form or person-role: whether the answer model can tell the names they add."""
    from tipqa.answering import extract, scoring
    from tipqa.language.entities import find_entities
    original = extract.answer_features

    def known(answer) -> float:
        if not answer:
            return 0.0
        found = find_entities(answer)
        return float(any(e.end - e.start >= 0.8 * len(answer.strip()) for e in found))

    def features(q, x, logits, chosen, choice, item):
        return np.append(original(q, x, logits, chosen, choice, item), known(choice.answer))
    extract.answer_features = features
    scoring.ANSWER_FEATURES = scoring.ANSWER_FEATURES + ("known",)


def patch_person_role_known() -> None:
    patch_person_role()
    patch_answer_known()


def patch_other_ranked() -> None:
    """The span model chooses the short answer of an "other" question too, among the pieces of the clause the rules
    weigh (spans.other_pieces; the rules' pick is the feature `rule`), so whether a short answer is found stays the
    rules' and only which piece changes. Of the 271 fitting questions of that kind whose right sentence was chosen,
    114 got a wrong short answer, and for 38 of them another piece of the sentence is right."""
    from tipqa.answering import span_ranker
    from tipqa.answering.spans import _best_clause, other_pieces
    span_ranker.RANKED = (*span_ranker.RANKED, "other")
    original = span_ranker.candidates

    def candidates(q, text, span, rule):
        found = original(q, text, span, rule)  # of an "other" question: the rules' pick alone
        if q.expected != "other":
            return found
        clause = _best_clause(q, text, span)
        have = {(s.start, s.end) for s in found}
        for answer, _ in other_pieces(q, text, clause):
            answer = answer.rstrip(" .,;:")
            at = text.find(answer, clause[0], clause[1] + 1) if answer else -1
            if at >= 0 and (at, at + len(answer)) not in have:
                have.add((at, at + len(answer)))
                found.append(span_ranker.Span(answer, at, at + len(answer), "other", "form"))
        return sorted(found, key=lambda s: s.start)
    span_ranker.candidates = candidates


def patch_answer_kind() -> None:
    """The kind of answer asked for as answer features: whether it is a name (country, nationality, person,
    organisation, agent), a figure (number, date) or open ("other"; places, documents and the rest are the base), so
    the answer model's products of pairs can read its other features kind by kind (at the threshold 0, where the
    answering sentence is right, a country's short answer is right for 122 of 130 questions, an open one for 157
    of 271: `python bench/answer_diff.py losses`)."""
    from tipqa.answering import extract, scoring
    groups = (("country", "nationality", "person", "organisation", "agent"), ("number", "date"), ("other",))
    original = extract.answer_features

    def features(q, x, logits, chosen, choice, item):
        return np.append(original(q, x, logits, chosen, choice, item), [float(q.expected in g) for g in groups])
    extract.answer_features = features
    scoring.ANSWER_FEATURES = scoring.ANSWER_FEATURES + ("kind_name", "kind_figure", "kind_other")


def patch_names_by_form() -> None:
    """People read by form where the gazetteer and titles miss them: a middle initial ('Albert R. Ramdin'), a role
    before the name that holds its body's acronym in parentheses ('The Assistant Secretary General of the
    Organization of American States (OAS), Albert Ramdin, ...'), a cited work's authors ('Jocelyn Kelly and
    others, "..."'); 'Albert R. Ramdin' and 'Albert Ramdin' one person. Patched into language/entities.py before
    anything is read (the index's stored attributions are the product's; bench/attribution.py gave 80/80 and
    66/72 with the change, as without)."""
    import re

    from tipqa.language import entities as en
    initial = r"[A-ZÁÉÍÓÚÑ]\.\s+"
    en._NAME = rf"{en._NAME_TOKEN}(?:\s+(?:{en._PARTICLE}\s+|{initial})?{en._NAME_TOKEN}){{0,4}}"
    en._TITLED = re.compile(rf"(?<![\w.])(?P<title>(?:{en._TITLES_RE}))\s+(?P<name>{en._NAME})")
    en._BEFORE_ROLE = re.compile(rf"(?:{en._ROLE_WORDS})\b[^,;()]*(?:\([^();]{{1,40}}\)[^,;()]*)*,\s+$")
    original_looks, original_person = en._looks_like_person, en._person

    def looks_like_person(text, start, end):
        return original_looks(text, start, end) or (
            not any(en.fold(w) in en._NOT_NAMES for w in text[start:end].split())
            and bool(re.match(r"\s+(?:and others|et al\.|y otros|and colleagues)\b", text[end:end + 40])))

    def person(text, start, end, title, name):
        found = original_person(text, start, end, title, name)
        return dataclasses.replace(found, canonical_id=en.slug(re.sub(initial, "", name)))
    en._looks_like_person, en._person = looks_like_person, person


PATCHES = {"spanish-words": patch_spanish_words, "demonstrative": patch_demonstrative, "cognates": patch_cognates,
           "span-trees": patch_span_trees, "answer-support": patch_answer_support, "answer-blend": patch_answer_blend,
           "two-stage": patch_two_stage, "span-introduced": patch_span_introduced,
           "answer-substitute": patch_answer_substitute, "answer-form": patch_answer_form,
           "place-names": patch_place_names, "person-form": patch_person_form,
           "person-role": patch_person_role,
           "answer-known": patch_answer_known, "person-role-known": patch_person_role_known,
           "other-ranked": patch_other_ranked, "answer-kind": patch_answer_kind,
           "names-by-form": patch_names_by_form}


def run(variant: str) -> None:
    from tipqa.answering import extract
    if variant == "top-k-8":
        os.environ["TIPQA_TOP_K"] = "8"
        extract.SENTENCE_PASSAGES = 8
    elif variant == "rescore-15":
        extract.RESCORE = 15
    elif variant.startswith("l2-"):
        _, which, value = variant.split("-")
        patch_l2(**{which: float(value)})
    elif variant in PATCHES:
        PATCHES[variant]()
    elif variant == "listwise":
        fa.fit_sentence = listwise_sentences
    elif variant == "ranker":
        fa.RANKER = listwise_sentences
    elif variant == "logistic-sentence":  # the sentence model before the trees joined it
        fa.SENTENCE_TREES = False
    elif variant in ("trees-sentence", "trees-ranker", "trees-answer"):
        patch_trees(variant)
    elif variant.startswith("trees-weight-"):
        patch_trees_weight(float(variant.rsplit("-", 1)[1]))
    elif variant.startswith("abstain-"):
        fa.ABSTAIN_UNANSWERABLE = float(variant.split("-", 1)[1])
    records = fa.collect(list(fa.ANSWER_SETS))
    if variant == "sentence-idf":
        records = with_features(records, idf_share, ("sentence_coverage", "sentence_coverage_gap"))
    elif variant == "sentence-idf-nogap":
        records = with_features(records, idf_share, ("sentence_coverage",))
    elif variant == "sentence-idf-replace":
        records = with_features(records, idf_share, replace_lexical=True)
    elif variant == "sentence-background":
        records = with_features(records, sentence_background, ("dense_background",))
    elif variant == "joint":
        records = joint_relevance(records)
    elif variant == "joint-answer":
        records = joint_relevance(records, sentence=False, answer=True)
    elif variant == "joint-both":
        records = joint_relevance(records, answer=True)
    elif variant == "answer-coverage":
        patch_answer_coverage(records)
    elif variant == "answer-unmet":
        patch_answer_unmet()
    if variant == "adapter":
        adapter_figures(records)
    else:
        figures(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", nargs="*", choices=VARIANTS,
                        help="the variants to score (default: all but 'adapter', each in its own process)")
    parser.add_argument("--fixed", nargs="*", default=[], metavar="ANSWER_AT,CLOSEST_AT",
                        help="also print the left-out figures at these thresholds (e.g. 0.29,0.045 0.33,0.04)")
    parser.add_argument("--by-fact", action="store_true",
                        help="also print five-fold figures with each fact's questions in one fold "
                             "(fit_answers.fact_folds)")
    args = parser.parse_args()
    global BY_FACT
    BY_FACT = args.by_fact
    FIXED.extend(tuple(float(v) for v in pair.split(",")) for pair in args.fixed)
    if args.variant and len(args.variant) == 1:
        print(f"== {args.variant[0]}", flush=True)
        run(args.variant[0])
        return
    for variant in args.variant or [v for v in VARIANTS if v != "adapter"]:
        subprocess.run([sys.executable, __file__, "--variant", variant, "--fixed", *args.fixed,
                        *(["--by-fact"] if args.by_fact else [])], check=True)


if __name__ == "__main__":
    main()
