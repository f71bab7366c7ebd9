"""BEIR SciFact with tipqa's retrieval parts: dense (the chosen model), BM25 (tipqa.store.lexical), hybrid (RRF,
and the product's own fusion: answering.retrieval.search, as `tipqa ask` ranks passages).

    python bench/scifact.py [--data ../shared/bench/scifact] [--model ID] [--encoder torch|onnx-int8|onnx-fp32]
                            [--fit-fusion]

--fit-fusion also fits the product's fusion weights on SciFact's train split (retrieval.fit_fusion, as
`bench/qa_retrieval.py --fit` does on eval/dev_qa.jsonl) and scores them on test.

Prints nDCG@10 and Recall@100 per method (trec_eval definitions, see the data's SOURCES.md). Fusion
weights are tuned on the train split only, then scored on test. Document embeddings are cached under
bench/.cache/ (gitignored); the benchmark data itself is never copied into the product.
Published anchors (test): BM25 0.665 (BEIR paper), all-MiniLM-L6-v2 0.645 (MTEB), intfloat/multilingual-e5-small
0.67704 nDCG@10, Recall@100 0.925 (its model card's MTEB results, "MTEB SciFact", test split).
--encoder torch is sentence-transformers fp32 (the reference); onnx-int8 is what `tipqa build` embeds with;
questions go through the numpy pass (what `tipqa ask` uses) except with torch.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipqa.config import DEFAULT_MODEL, Settings  # noqa: E402
from tipqa.encoders.sbert import SentenceTransformerEmbedder  # noqa: E402
from tipqa.store.base import SentenceVectors  # noqa: E402
from tipqa.store.lexical import BM25  # noqa: E402

DEPTH = 100


def log(message: str) -> None:
    print(f"scifact: {message}", file=sys.stderr, flush=True)


def load(data: Path, split: str):
    docs = [json.loads(line) for line in (data / "corpus.jsonl").open(encoding="utf-8")]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (data / "queries.jsonl").open(encoding="utf-8"))}
    qrels: dict[str, dict[str, int]] = {}
    with (data / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return docs, {qid: queries[qid] for qid in qrels}, qrels


def doc_vectors(embedder, texts: list[str], cache_dir: Path) -> np.ndarray:
    kind = getattr(embedder, "kind", "sentence-transformers")
    key = hashlib.sha256(("\n".join(texts) + embedder.weights_hash + kind).encode()).hexdigest()[:16]
    path = cache_dir / f"docs-{key}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    started = time.perf_counter()
    vectors = embedder.embed_documents(texts)
    log(f"embedded {len(texts)} documents in {time.perf_counter() - started:.0f} s")
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    return vectors


def sentence_spans_of(title: str, text: str) -> list[tuple[int, int]]:
    """A document's sentences in its embedded text ("title text"), the title left out as `tipqa build` leaves a
    passage's section path out: text.sentence_spans, the product's splitter."""
    from tipqa.text import sentence_spans
    full = f"{title} {text}".strip()
    shift = len(full) - len(text.strip()) if text.strip() else len(full)
    return [(a + shift, b + shift) for a, b in sentence_spans(full[shift:])]


def passage_vectors(embedder, texts: list[str], spans: list[list[tuple[int, int]]], cache_dir: Path
                    ) -> tuple[np.ndarray, SentenceVectors]:
    """(document vectors, their in-context sentence vectors) from one run of the build encoder, as `tipqa build`
    stores them (encoders.onnx_bert.embed_passages; float16, zero rows past the length limit); cached. The
    document vectors are the ones doc_vectors caches (the same run), written under its key too."""
    kind = getattr(embedder, "kind", "sentence-transformers")
    key = hashlib.sha256(("\n".join(texts) + embedder.weights_hash + kind).encode()).hexdigest()[:16]
    path = cache_dir / f"sentences-{key}.npz"
    if not path.exists():
        started = time.perf_counter()
        vectors, parts = embedder.embed_passages(texts, spans)
        log(f"embedded {len(texts)} documents and their sentences in {time.perf_counter() - started:.0f} s")
        counts = np.array([len(s) for s in spans], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        flat = np.concatenate(parts).astype(np.float16) if len(parts) else np.zeros((0, vectors.shape[1]), np.float16)
        cache_dir.mkdir(parents=True, exist_ok=True)
        np.savez(path, vectors=vectors, flat=flat, start=start)
        if not (cache_dir / f"docs-{key}.npy").exists():
            np.save(cache_dir / f"docs-{key}.npy", vectors, allow_pickle=False)
    stored = np.load(path, allow_pickle=False)
    return stored["vectors"], SentenceVectors(stored["flat"], stored["start"])


def make_embedders(model: str, encoder: str, cache: Path):
    """(question embedder, document embedder) for the chosen path."""
    if encoder == "torch":
        embedder = SentenceTransformerEmbedder(model)
        return embedder, embedder
    from tipqa.encoders import query_embedder
    from tipqa.encoders.onnx_bert import OnnxEmbedder
    query = query_embedder(Settings(model=model))
    docs = OnnxEmbedder(query.model_id, query.folder, cache / "encoders", int8=encoder == "onnx-int8", bert=query.bert)
    return query, docs


def rankings(scores: np.ndarray, depth: int = DEPTH) -> np.ndarray:
    top = np.argpartition(-scores, depth, axis=1)[:, :depth]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1)


def rrf(dense: np.ndarray, lexical: np.ndarray, n_docs: int, w_dense: float, w_lex: float, k: int = 60) -> np.ndarray:
    fused = np.zeros((len(dense), n_docs), dtype=np.float32)
    ranks = 1.0 / (k + np.arange(1, dense.shape[1] + 1))
    rows = np.arange(len(dense))[:, None]
    np.add.at(fused, (rows, dense), w_dense * ranks)
    np.add.at(fused, (rows, lexical), w_lex * ranks)
    return rankings(fused)


def ndcg_recall(ranked: np.ndarray, qids: list[str], doc_ids: list[str], qrels) -> tuple[float, float]:
    ndcgs, recalls = [], []
    for row, qid in zip(ranked, qids):
        relevant = qrels[qid]
        gains = [relevant.get(doc_ids[d], 0) if d >= 0 else 0 for d in row]  # -1: fewer than asked for
        dcg = sum(g / np.log2(i + 2) for i, g in enumerate(gains[:10]))
        ideal = sorted(relevant.values(), reverse=True)[:10]
        ndcgs.append(dcg / sum(g / np.log2(i + 2) for i, g in enumerate(ideal)))
        recalls.append(sum(1 for g in gains[:100] if g > 0) / len(relevant))
    return float(np.mean(ndcgs)), float(np.mean(recalls))


def run_split(embedder, bm25, doc_vecs, doc_ids, data, split):
    _, queries, qrels = load(data, split)
    qids = list(queries)
    query_vecs = np.stack([embedder.embed_query(queries[q]) for q in qids])
    dense = rankings(query_vecs @ doc_vecs.T)
    lexical = rankings(np.stack([bm25.scores(queries[q]) for q in qids]))
    return qids, qrels, dense, lexical


class Document:
    """A SciFact document as a passage: its row and sentence spans."""

    def __init__(self, row: int, sentences: list[tuple[int, int]]):
        self.row, self.sentences = row, sentences


class Collection:
    """SciFact as the Generation that answering.retrieval.search reads (exact dense search, tipqa's BM25), so the
    product's fusion ranks its documents exactly as `tipqa ask` ranks passages."""

    def __init__(self, model_id: str, vectors: np.ndarray, bm25: BM25, sentences: SentenceVectors | None = None,
                 spans: list[list[tuple[int, int]]] | None = None):
        self.model_id, self.vectors, self.bm25, self.sentences = model_id, vectors, bm25, sentences
        # search reads len(), hands each hit its "chunk", and counts a candidate's sentences (chunk.sentences)
        self.chunks = [Document(row, s) for row, s in enumerate(spans)] if spans is not None else \
            list(range(len(vectors)))
        self._bm25: dict[str, np.ndarray] = {}

    def dense_search(self, query: np.ndarray, depth: int, allowed=None) -> tuple[np.ndarray, np.ndarray]:
        scores = self.vectors @ query
        top = rankings(scores[None, :], depth)[0]
        return top, scores[top]

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        return self.vectors[rows]

    def lexical_coverage(self, text: str, rows: np.ndarray) -> np.ndarray:
        return self.bm25.coverage(text, rows)

    def lexical_scores(self, text: str) -> np.ndarray:
        if text not in self._bm25:
            self._bm25[text] = self.bm25.scores(text)
        return self._bm25[text]


def product_rankings(collection: Collection, query_vecs: np.ndarray, texts: list[str], k: int,
                     weights: tuple[float, ...] | None = None) -> np.ndarray:
    """Each query's top k rows by answering.retrieval.search (the model's fitted fusion, or WEIGHTS), padded with -1."""
    from tipqa.answering import retrieval
    saved = retrieval.FUSION_WEIGHTS.get(collection.model_id)
    if weights is not None:
        retrieval.FUSION_WEIGHTS[collection.model_id] = weights
    try:
        out = np.full((len(texts), k), -1, dtype=np.int64)
        for i, (vector, text) in enumerate(zip(query_vecs, texts)):
            rows = [hit.row for hit in retrieval.search(collection, vector, text, k=k)]
            out[i, :len(rows)] = rows
        return out
    finally:
        if saved is not None:
            retrieval.FUSION_WEIGHTS[collection.model_id] = saved


def product_scores(embedder, bm25, doc_vecs, doc_ids, data, fit: bool, sentences: SentenceVectors | None = None,
                   spans: list[list[tuple[int, int]]] | None = None) -> dict[str, tuple[float, float]]:
    """nDCG@10 (top 10 of search, as the product asks for k <= 50) and Recall@100 (k=100) of the product's
    hybrid on test; with FIT, also of weights fitted on train (printed)."""
    from tipqa.answering import retrieval
    collection = Collection(embedder.model_id, doc_vecs, bm25, sentences, spans)
    variants: dict[str, tuple[float, ...] | None] = {"product hybrid (answering.retrieval.search)": None}
    if fit:
        _, queries, qrels = load(data, "train")
        position = {d: i for i, d in enumerate(doc_ids)}
        questions = []
        for qid, text in queries.items():
            relevant = np.zeros(len(doc_ids), dtype=bool)
            relevant[[position[d] for d, grade in qrels[qid].items() if grade > 0 and d in position]] = True
            questions.append((embedder.embed_query(text), text, relevant))
        fitted = tuple(round(float(w), 3) for w in retrieval.fit_fusion(collection, questions))
        log(f"fusion fitted on train ({len(questions)} queries): {fitted}")
        variants[f"product hybrid, weights fitted on train {fitted}"] = fitted
    _, queries, qrels = load(data, "test")
    qids = list(queries)
    texts = [queries[q] for q in qids]
    query_vecs = np.stack([embedder.embed_query(t) for t in texts])
    out = {}
    for name, weights in variants.items():
        ndcg = ndcg_recall(product_rankings(collection, query_vecs, texts, 10, weights), qids, doc_ids, qrels)[0]
        recall = ndcg_recall(product_rankings(collection, query_vecs, texts, 100, weights), qids, doc_ids, qrels)[1]
        out[name] = (ndcg, recall)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "scifact")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--encoder", choices=("torch", "onnx-int8", "onnx-fp32"), default="torch")
    parser.add_argument("--fit-fusion", action="store_true", help="fit the product's fusion on train, score on test")
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"scifact: no SciFact data in {args.data}; pass --data DIR (BEIR layout).")
    docs, _, _ = load(args.data, "test")
    doc_ids = [d["_id"] for d in docs]
    texts = [f"{d['title']} {d['text']}".strip() for d in docs]
    embedder, doc_embedder = make_embedders(args.model, args.encoder, args.cache)
    spans = sentences = None
    if hasattr(doc_embedder, "embed_passages"):  # the build encoder: sentence vectors too, as the index stores them
        spans = [sentence_spans_of(d["title"], d["text"]) for d in docs]
        doc_vecs, sentences = passage_vectors(doc_embedder, texts, spans, args.cache)
    else:
        doc_vecs = doc_vectors(doc_embedder, texts, args.cache)
    # Tuned on train only: BM25 k1/b, then the BM25 weight against dense 1.0 (RRF is scale-invariant).
    best = None
    for k1, b in ((1.2, 0.75), (0.9, 0.4)):
        bm25 = BM25.build(texts, k1=k1, b=b)
        qids, qrels, dense, lexical = run_split(embedder, bm25, doc_vecs, doc_ids, args.data, "train")
        for w_lex in (0.5, 0.75, 1.0, 1.25, 1.5, 2.0):
            score = ndcg_recall(rrf(dense, lexical, len(docs), 1.0, w_lex), qids, doc_ids, qrels)[0]
            if best is None or score > best[0]:
                best = (score, k1, b, w_lex)
    _, k1, b, w_lex = best
    log(f"tuned on train: BM25 k1={k1} b={b}, fusion weights dense 1.0 : BM25 {w_lex}")

    bm25_default = BM25.build(texts)
    qids, qrels, dense, lexical = run_split(embedder, bm25_default, doc_vecs, doc_ids, args.data, "test")
    tuned_lexical = run_split(embedder, BM25.build(texts, k1=k1, b=b), doc_vecs, doc_ids, args.data, "test")[3]
    results = {
        f"dense ({args.model.split('/')[-1]}, {args.encoder})": ndcg_recall(dense, qids, doc_ids, qrels),
        "BM25 (tipqa.store.lexical, k1=1.2 b=0.75)": ndcg_recall(lexical, qids, doc_ids, qrels),
        "hybrid RRF 1:1 (tipqa default)": ndcg_recall(rrf(dense, lexical, len(docs), 1.0, 1.0), qids, doc_ids, qrels),
        f"BM25 k1={k1} b={b} (train-tuned)": ndcg_recall(tuned_lexical, qids, doc_ids, qrels),
        f"hybrid RRF 1:{w_lex}, k1={k1} b={b} (train-tuned)":
            ndcg_recall(rrf(dense, tuned_lexical, len(docs), 1.0, w_lex), qids, doc_ids, qrels),
        **product_scores(embedder, bm25_default, doc_vecs, doc_ids, args.data, args.fit_fusion, sentences, spans),
    }
    print(f"SciFact test, {len(qids)} queries, {len(docs)} documents")
    print(f"{'method':50} {'nDCG@10':>8} {'Recall@100':>11}")
    for name, (ndcg, recall) in results.items():
        print(f"{name:50} {ndcg:8.4f} {recall:11.4f}")
    print("anchors: BM25 0.665 (BEIR), all-MiniLM-L6-v2 0.645 / R@100 0.925 (MTEB), "
          "multilingual-e5-small 0.677 / R@100 0.925 (model card, MTEB)")


if __name__ == "__main__":
    main()
