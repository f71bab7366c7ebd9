"""Hybrid retrieval: the store's dense and BM25 rankings fused by a small learned model (or reciprocal rank).

The learned fusion scores each candidate (the union of both top-`depth` lists) by a linear function of six
features: its cosine, its BM25 score over the best BM25 score, the reciprocal ranks in both lists, the best
cosine of one of its sentences (the in-context sentence vectors the index stores for the answer step: a passage
that answers in one sentence among others is no longer judged by its average alone), and the share of the
question's IDF its terms cover (each question term counted once, however often the passage repeats it). Its
weights are fitted per model on the development sets (a softmax over each question's candidates, fit_fusion;
`python bench/qa_retrieval.py --fit eval/dev_qa.jsonl eval/dev2_qa.jsonl eval/dev3_qa.jsonl`) and checked on
eval/test_qa.jsonl. Unlike plain RRF, a BM25 list that shares only stop-like words with a paraphrased or
cross-language question then moves the dense choice down only as much as the development set showed it should.
A model without fitted weights is fused by RRF.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from ..config import E5_MODEL
from ..ingest.chunking import Chunk
from ..store.base import Generation
from ..store.lexical import REPORT_SAMPLE, language, report_language

RRF_K = 60  # the usual constant of reciprocal rank fusion (Cormack et al., 2009)
# Weights of (cosine, BM25 / best BM25, 1/(1 + dense rank), 1/(1 + BM25 rank), best sentence cosine, IDF share of
# the question's terms), fitted on dev, dev2 and dev3 pooled by `python bench/qa_retrieval.py --fit eval/dev_qa.jsonl
# eval/dev2_qa.jsonl eval/dev3_qa.jsonl` (questions as asked; Assistant.ask then feeds BM25 the glossary rendering,
# the best of the dev variants). The sentence feature took SciFact test 0.708 -> 0.712 nDCG@10; the term coverage
# 0.712 -> 0.7215 (issue 14's 0.72; SciFact's train split, not fitted on, 0.714 -> 0.720), Assistant.ask passage
# hit@3 over dev + dev2 + dev3 422 -> 422 of 552 (bench/README.md, "The fusion's term coverage"). The five features
# before it were (5.165, 2.207, 3.058, 0.865, 6.344); the four before those, fitted on dev alone,
# (9.065, 4.363, 3.327, -0.797). all-MiniLM-L6-v2 keeps RRF.
FUSION_WEIGHTS: dict[str, tuple[float, ...]] = {
    E5_MODEL: (5.072, 0.94, 3.009, 0.61, 6.228, 4.187),
}


@dataclass
class Hit:
    chunk: Chunk
    score: float  # fused score (higher is better)
    rank: int
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score
    row: int = -1  # the passage's row in the index generation searched (its stored sentence vectors)
    coverage: float = 0.0  # the share of the question's IDF its terms cover (term_coverage); a sentence feature


def lexical_scores(data: Generation, text: str, asked: str | None = None) -> np.ndarray:
    """float32[passages]: every passage's BM25 score for TEXT, the words retrieval searches with; for a question
    ASKED in another language than TEXT (a Spanish question's English rendering), the passages in the language
    it was asked in are scored on its own words instead. The rendering is what finds English passages for a
    Spanish question, but it had turned the words a Spanish passage shares with it into English ones: Spanish dev
    questions on the Spanish reports found their passage first 0.551 -> 0.682 of 107 (bench/qa_retrieval.py;
    bench/README.md, "Retrieval in the passage's language")."""
    scores = data.lexical_scores(text)
    if not asked or asked == text or language(asked) == language(text):
        return scores
    own = passage_languages(data) == language(asked)
    return np.where(own, data.lexical_scores(asked), scores) if own.any() else scores


def passage_languages(data: Generation) -> np.ndarray:
    """Each passage's language ('en' or 'es'), its report's: the language the index recorded for it (its metadata's,
    else the one its first passages' words show: store.lexical.report_language, at ingestion), else read here the
    same way for an index built before it was recorded. Read once per generation."""
    cached = getattr(data, "_passage_languages", None)
    if cached is not None and len(cached) == len(data.chunks):
        return cached
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(data.chunks):
        rows.setdefault(getattr(chunk, "report_id", ""), []).append(row)
    out = np.empty(len(data.chunks), dtype=object)
    reports = getattr(data, "reports", None) or {}
    for report_id, members in rows.items():
        given = str((reports.get(report_id) or {}).get("language") or "").lower()[:2]
        lang = given if given in ("en", "es") else report_language(
            [getattr(data.chunks[r], "text", "") for r in members[:REPORT_SAMPLE]])
        out[members] = lang
    try:
        data._passage_languages = out  # type: ignore[attr-defined]
    except AttributeError:  # a generation that takes no new attributes: read again next time
        pass
    return out


def lexical_ranking(scores: np.ndarray, depth: int, allowed: np.ndarray | None) -> np.ndarray:
    if allowed is not None:
        masked = np.full_like(scores, -1.0)
        masked[allowed] = scores[allowed]
        scores = masked
    depth = min(depth, len(scores))
    top = np.argpartition(-scores, depth - 1)[:depth] if depth else np.array([], dtype=np.int64)
    top = top[np.argsort(-scores[top], kind="stable")]
    return top[scores[top] > 0]


def rrf(rankings: list[np.ndarray], weights: list[float]) -> dict[int, float]:
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, doc in enumerate(ranking.tolist()):
            fused[doc] = fused.get(doc, 0.0) + weight / (RRF_K + rank + 1)
    return fused


def cosines(data: Generation, rows: np.ndarray, query_vector: np.ndarray) -> np.ndarray:
    """float64[len(rows)]: each passage's cosine to the question, from its stored vector, summed here in float64
    whatever the store. FAISS, numpy and pgvector each sum a dot product in their own order, and the answer step's
    tree models turn a difference in the last bit at one of their splits into another score: the index folder and
    the database had given 4 of 1608 evaluation questions other passage scores (tests/test_postgres.py). Each row
    is summed alone (its exact float64 products, numpy's pairwise sum), so its cosine does not depend on which
    other rows come with it or where it stands: a BLAS matrix-vector product sums a row in an order that does."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return np.zeros(0, dtype=np.float64)
    query = np.asarray(query_vector, dtype=np.float64).reshape(-1)
    return (np.asarray(data.vectors_of(rows), dtype=np.float64) * query).sum(axis=1)


def dense_ranking(data: Generation, query_vector: np.ndarray, depth: int, allowed: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cosines) of the store's dense search, rescored by cosines() and ordered by them (ties by row)."""
    rows, _ = data.dense_search(query_vector, depth, allowed)
    scores = cosines(data, rows, query_vector)
    order = np.lexsort((rows, -scores))
    return np.asarray(rows, dtype=np.int64)[order], scores[order]


def candidate_features(data: Generation, query_vector: np.ndarray, dense_ids: np.ndarray, cosine: dict[int, float],
                       lexical_ids: np.ndarray, bm25: np.ndarray, question: str | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(candidate rows, features[n, 6]) over the union of both rankings; see FUSION_WEIGHTS for the columns.
    COSINE (row -> cosine) gets the cosines of BM25's candidates that dense search did not return. QUESTION: the
    text BM25 scored (its terms' coverage; zeros without it)."""
    docs = np.unique(np.concatenate([dense_ids, lexical_ids])).astype(np.int64)
    _add_cosines(data, cosine, docs, query_vector)
    dense_rank = {int(d): r for r, d in enumerate(dense_ids.tolist())}
    lexical_rank = {int(d): r for r, d in enumerate(lexical_ids.tolist())}
    cos = np.array([cosine[int(d)] for d in docs], dtype=np.float64)
    lex = bm25[docs].astype(np.float64)
    top_lex = float(lex.max()) if len(lex) and lex.max() > 0 else 1.0
    features = np.column_stack([
        cos, lex / top_lex,
        [1.0 / (1 + dense_rank[int(d)]) if int(d) in dense_rank else 0.0 for d in docs],
        [1.0 / (1 + lexical_rank[int(d)]) if int(d) in lexical_rank else 0.0 for d in docs],
        best_sentence_cosines(data, docs, query_vector, cos),
        term_coverage(data, question, docs)])
    return docs, features


def _add_cosines(data: Generation, cosine: dict[int, float], rows, query_vector: np.ndarray) -> None:
    """COSINE (row -> cosine) gets the cosines of ROWS it lacks (BM25's candidates that dense search did not return)."""
    missing = [int(r) for r in rows if int(r) not in cosine]
    cosine.update(zip(missing, cosines(data, np.array(missing, dtype=np.int64), query_vector).tolist()))


def term_coverage(data: Generation, question: str | None, docs: np.ndarray) -> np.ndarray:
    """Each candidate's share of the question's IDF (store.lexical.BM25.coverage: every question term it contains,
    counted once): BM25 saturates a term's frequency but still lets one rare term outweigh several others, so a
    passage that has all of the question's terms and one that repeats its rarest one score alike. Zeros (no
    effect on the ranking) without the question."""
    if question is None:
        return np.zeros(len(docs), dtype=np.float64)
    return data.lexical_coverage(question, docs)


def best_sentence_cosines(data: Generation, docs: np.ndarray, query_vector: np.ndarray, cos: np.ndarray
                          ) -> np.ndarray:
    """Each candidate's best cosine of one of its sentences (their stored in-context vectors) to the question;
    its passage cosine where none is stored. Only the candidates' sentence vectors are read."""
    best = cos.copy()
    stored = getattr(data, "sentences", None)
    if stored is None or not len(docs):
        return best
    counts = [len(data.chunks[int(d)].sentences) for d in docs]
    for i, rows in enumerate(stored.many(docs.tolist(), counts)):
        rows = rows[rows.any(axis=1)]  # zero rows: not stored (past the model's length limit)
        if len(rows):
            best[i] = float((rows @ query_vector).max())
    return best


def fit_fusion(data: Generation, questions: list[tuple[np.ndarray, str, np.ndarray]], depth: int = 50,
               l2: float = 1e-3, steps: int = 3000,
               also: tuple[tuple[Generation, list[tuple[np.ndarray, str, np.ndarray]]], ...] = ()) -> np.ndarray:
    """Fusion weights maximising the softmax probability of the relevant candidates of each question.

    Args:
        questions: (question vector, question text, relevant: bool per passage row) of a development set.
        also: more (collection, questions) sets; each set weighs as much as QUESTIONS in the fit, whatever its size.
    """
    groups = [_examples(collection, items, depth) for collection, items in ((data, questions), *also)]
    w = np.zeros(groups[0][0][0].shape[1])
    for step in range(steps):  # plain gradient ascent: 6 weights, a few thousand candidates
        grad = -l2 * w
        for sets in groups:
            part = np.zeros_like(w)
            for x, y in sets:
                z = x @ w
                p = np.exp(z - z.max())
                p /= p.sum()
                part += x.T @ (y - p)
            grad += part / (len(sets) * len(groups))
        w += 0.5 * grad
    return w


def _examples(data: Generation, questions: list[tuple[np.ndarray, str, np.ndarray]], depth: int
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(features, target distribution over the relevant candidates) per question with a relevant candidate."""
    sets = []
    for vector, text, relevant in questions:
        dense_ids, dense_scores = dense_ranking(data, vector, depth, None)
        bm25 = data.lexical_scores(text)
        docs, x = candidate_features(data, vector, dense_ids, dict(zip(dense_ids.tolist(), dense_scores.tolist())),
                                     lexical_ranking(bm25, depth, None), bm25, text)
        y = relevant[docs].astype(np.float64)
        if y.any():
            sets.append((x, y / y.sum()))
    return sets


def search(data: Generation, query_vector: np.ndarray, question: str, k: int = 5,
           report: str | Collection[str] | None = None, mode: str = "hybrid", depth: int = 50,
           fusion: str | None = None, asked: str | None = None, each_language: bool = True) -> list[Hit]:
    """Top-k passages for the question.

    Args:
        question: the words to search with (a Spanish question's English rendering: retrieval_text).
        asked: the question as asked, when QUESTION renders it in another language (see lexical_scores).
        each_language: the learned fusion's top k holds the best passage of each language (with_each_language).
        mode: "hybrid" (dense and BM25 fused), "dense" or "lexical".
        report: only passages of this report id (or of these).
        fusion: "learned" (the model's fitted weights; the default when it has them) or "rrf".
    """
    n = len(data.chunks)
    if n == 0:
        return []
    allowed = None
    if report is not None:
        wanted = {report} if isinstance(report, str) else set(report)
        allowed = np.array([i for i, c in enumerate(data.chunks) if c.report_id in wanted], dtype=np.int64)
        if len(allowed) == 0:
            return []
    depth = min(max(depth, k), n)
    bm25 = lexical_scores(data, question, asked)
    dense_ids, dense_scores = dense_ranking(data, query_vector, depth, allowed)
    cosine = dict(zip(dense_ids.tolist(), dense_scores.tolist()))
    rankings, weights = [], []
    if mode in ("hybrid", "dense"):
        rankings.append(dense_ids)
        weights.append(1.0)
    if mode in ("hybrid", "lexical"):
        rankings.append(lexical_ranking(bm25, depth, allowed))
        weights.append(1.0)
    weights_fitted = FUSION_WEIGHTS.get(data.model_id)
    if fusion is None:
        fusion = "learned" if weights_fitted else "rrf"
    if mode == "hybrid" and fusion == "learned" and weights_fitted:
        docs, x = candidate_features(data, query_vector, rankings[0], cosine, rankings[1], bm25, question)
        scores = x @ np.asarray(weights_fitted)
        order = np.argsort(-scores, kind="stable")
        order = with_each_language(order, docs, passage_languages(data), k) if each_language else order[:k]
        fused = [(int(docs[i]), float(scores[i])) for i in order]
        coverage = x[order, 5]  # the fusion's term coverage column, already read for every candidate
    else:
        fused = _with_each_top(sorted(rrf(rankings, weights).items(), key=lambda item: -item[1]), rankings, k)
        coverage = term_coverage(data, question, np.array([doc for doc, _ in fused], dtype=np.int64))
    _add_cosines(data, cosine, [doc for doc, _ in fused], query_vector)
    hits = []
    for rank, ((doc, score), covered) in enumerate(zip(fused, coverage.tolist()), start=1):
        hits.append(Hit(data.chunks[doc], float(score), rank, cosine[doc], float(bm25[doc]), row=int(doc),
                        coverage=float(covered)))
    return hits


def with_each_language(order: np.ndarray, docs: np.ndarray, languages: np.ndarray, k: int) -> np.ndarray:
    """The first k of ORDER (candidate positions, best first; DOCS[i] is candidate i's row), but never without the
    best candidate of each language the candidates are written in: it takes the last slots. A question's cosine
    with a passage in another language is lower than with one in its own (e5's two languages are not one space),
    and BM25 shares nothing with it, so an English question over a corpus of English and Spanish reports had
    its Spanish passage among the five read for 0.391 of 92 development questions, 0.674 with the best Spanish
    passage always read (bench/qa_retrieval.py; bench/README.md, "Retrieval in the passage's language")."""
    top = list(order[:k])
    if k < 3 or len(order) <= k:
        return np.asarray(top, dtype=np.int64)
    present = {languages[docs[i]] for i in top}
    slot = k - 1
    for i in order[k:]:
        if languages[docs[i]] not in present and slot > 0:
            top[slot] = i
            present = {languages[docs[j]] for j in top}
            slot -= 1
    return np.asarray(top, dtype=np.int64)


def _with_each_top(fused: list[tuple[int, float]], rankings: list[np.ndarray], k: int) -> list[tuple[int, float]]:
    """The fused top k, but never without each retriever's own first choice: a paraphrase that shares no word
    with the question is dense's rank 1 and BM25's nothing, and plain RRF can push it out of the top k."""
    top = fused[:k]
    if k < 3 or len(rankings) < 2:
        return top
    scores = dict(fused)
    slot = len(top) - 1
    for ranking in rankings:
        if len(ranking) and int(ranking[0]) not in {doc for doc, _ in top}:
            top[slot] = (int(ranking[0]), scores[int(ranking[0])])
            slot -= 1
    return top
