"""Hybrid retrieval: the store's dense and BM25 rankings fused by reciprocal rank."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ingest.chunking import Chunk
from ..store.base import Generation

RRF_K = 60  # the usual constant of reciprocal rank fusion (Cormack et al., 2009)


@dataclass
class Hit:
    chunk: Chunk
    score: float  # fused score (higher is better)
    rank: int
    dense: float  # cosine similarity of question and passage
    lexical: float  # BM25 score
    row: int = -1  # the passage's row in the index generation searched (its stored sentence vectors)


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


def search(data: Generation, query_vector: np.ndarray, question: str, k: int = 5,
           report: str | None = None, mode: str = "hybrid", depth: int = 50) -> list[Hit]:
    """Top-k passages for the question.

    Args:
        mode: "hybrid" (dense and BM25 fused), "dense" or "lexical".
        report: only passages of this report id.
    """
    n = len(data.chunks)
    if n == 0:
        return []
    allowed = None
    if report is not None:
        allowed = np.array([i for i, c in enumerate(data.chunks) if c.report_id == report], dtype=np.int64)
        if len(allowed) == 0:
            return []
    depth = min(max(depth, k), n)
    bm25 = data.lexical_scores(question)
    dense_ids, dense_scores = data.dense_search(query_vector, depth, allowed)
    cosine = dict(zip(dense_ids.tolist(), dense_scores.tolist()))
    rankings, weights = [], []
    if mode in ("hybrid", "dense"):
        rankings.append(dense_ids)
        weights.append(1.0)
    if mode in ("hybrid", "lexical"):
        rankings.append(lexical_ranking(bm25, depth, allowed))
        weights.append(1.0)
    fused = _with_each_top(sorted(rrf(rankings, weights).items(), key=lambda item: -item[1]), rankings, k)
    hits = []
    for rank, (doc, score) in enumerate(fused, start=1):
        dense = cosine.get(doc)
        if dense is None:
            dense = float(data.vector(int(doc)) @ query_vector)
        hits.append(Hit(data.chunks[doc], float(score), rank, float(dense), float(bm25[doc]), row=int(doc)))
    return hits


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
