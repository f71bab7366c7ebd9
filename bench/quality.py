"""Retrieval quality of the fast encoders (ONNX int8 passages, numpy questions) vs sentence-transformers fp32.

1. The seed evaluation set (eval/seed_qa.jsonl) over the real corpus (seed + ../shared/corpus-extra):
   passage hit@1/3/5, MRR, answer accuracy, each path building its own index.
2. SciFact (BEIR, ../shared/bench/scifact), test split: dense nDCG@10 and Recall@100 with fp32 document
   vectors vs int8 ones, and hybrid RRF 1:1 with tipqa's BM25 (bench/scifact.py's definitions).

    python bench/quality.py [--skip-scifact]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, ROOT, emit, log, machine, real_corpus  # noqa: E402


def seed_eval(work: Path) -> dict:
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    from tipqa.evaluate import evaluate, load_items
    corpus = real_corpus(work / "corpus")
    items = load_items(EVAL)
    out = {}
    for encoder in ("fast", "torch"):
        settings = load_settings(corpus_dir=corpus, index_dir=work / f"index-{encoder}", encoder=encoder)
        started = time.perf_counter()
        assistant = Assistant.open(settings=settings, progress=lambda f, m: None)
        log(f"{encoder}: index built in {time.perf_counter() - started:.0f} s; asking {len(items)} questions")
        out[encoder] = evaluate(assistant, items)["overall"]
    return out


def scifact(data: Path) -> dict:
    import scifact as sf

    from tipqa.config import load_settings
    from tipqa.encoders import index_embedder, query_embedder
    from tipqa.encoders.sbert import SentenceTransformerEmbedder
    from tipqa.store.lexical import BM25
    docs, _, _ = sf.load(data, "test")
    doc_ids = [d["_id"] for d in docs]
    texts = [f"{d['title']} {d['text']}".strip() for d in docs]
    bm25 = BM25.build(texts)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(index_dir=Path(tmp))
        numpy_query = query_embedder(settings)
        int8 = index_embedder(settings, numpy_query)
        torch = SentenceTransformerEmbedder.default()
        started = time.perf_counter()
        fp32_docs = sf.doc_vectors(torch, texts, ROOT / "bench" / ".cache")  # cached by bench/scifact.py too
        log(f"fp32 document vectors ready in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        int8_docs = int8.embed_documents(texts)
        log(f"int8 document vectors in {time.perf_counter() - started:.0f} s")
        for name, docs_vecs, queries in (("fp32 (sentence-transformers)", fp32_docs, torch),
                                         ("int8 passages + numpy questions", int8_docs, numpy_query)):
            qids, qrels, dense, lexical = sf.run_split(queries, bm25, docs_vecs, doc_ids, data, "test")
            results[name] = {"dense": sf.ndcg_recall(dense, qids, doc_ids, qrels),
                             "hybrid_rrf": sf.ndcg_recall(sf.rrf(dense, lexical, len(docs), 1.0, 1.0), qids, doc_ids,
                                                          qrels)}
        cosine = (fp32_docs * int8_docs).sum(axis=1)
        results["cosine_int8_vs_fp32"] = {"min": float(cosine.min()), "mean": float(cosine.mean())}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "scifact")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        emit("quality_seed_eval", {"machine": machine(), **seed_eval(Path(tmp))})
    if not args.skip_scifact and (args.data / "corpus.jsonl").exists():
        emit("quality_scifact", {"machine": machine(), **scifact(args.data)})
    elif not args.skip_scifact:
        log(f"no SciFact data in {args.data}; skipped")


if __name__ == "__main__":
    main()
