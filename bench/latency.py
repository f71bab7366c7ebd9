"""Full answer latency in-process at 1k, 10k, 100k and 1M passages, ANN recall@10, and memory; naive beside it.

answer_cpu_ms is the CPU time of the process (all its threads) per answer: on a shared machine under load the
wall times stretch with the other jobs, the CPU time much less (what a machine of its own would take, roughly).

Also (at 1k) the time to encode a question: the numpy pass vs the warmed-up onnxruntime encoder.

Past the real corpus the passages are synthetic: vectors are mixtures of real passage vectors plus noise
(so they cluster like real ones), texts and BM25 rows are the real passages' repeated. Questions are the
seed evaluation set's. Each size runs in its own process so peak memory is that size's.

    python bench/latency.py [--sizes 1000,10000,100000,1000000] [--questions 40]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, ROOT, emit, log, machine, peak_rss_mb, real_corpus, summary  # noqa: E402


def base_index(workdir: Path):
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    settings = load_settings(corpus_dir=real_corpus(workdir / "corpus"), index_dir=workdir / "index")
    return Assistant.open(settings=settings, progress=lambda f, m: None)


def synthetic_vectors(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks: the temporaries of 1M rows at once would double the peak
        m = min(100_000, n - start)
        w = rng.random((m, 1), dtype=np.float32)
        block = w * base[rng.integers(0, len(base), m)] + (1 - w) * base[rng.integers(0, len(base), m)]
        block += rng.normal(0, 0.03, block.shape).astype(np.float32)
        out[start:start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def tiled_lexical(lexical, n: int):
    """BM25 weights of n passages that repeat the real ones (idf is unchanged by repeating the corpus)."""
    from scipy import sparse

    from tipqa.store.lexical import BM25
    csc = lexical.weights.tocsc()
    m = csc.shape[1]
    reps = -(-n // m)
    counts = np.diff(csc.indptr)
    indptr = np.concatenate([[0], np.cumsum(np.tile(counts, reps)[:n])])
    nnz = int(indptr[-1])
    data = np.tile(csc.data, reps)[:nnz]
    indices = np.tile(csc.indices, reps)[:nnz]
    weights = sparse.csc_matrix((data, indices, indptr), shape=(csc.shape[0], n)).tocsr()
    return BM25(lexical.vocab, weights, lexical.k1, lexical.b)


def synthetic_data(real, n: int):
    from dataclasses import replace

    from tipqa.store.ann import build_vector_index
    from tipqa.store.base import SentenceVectors
    from tipqa.store.generation import IndexData
    base = real.all_vectors()
    chunks = []
    for i in range(n):  # texts shared with the real passages (one string object each), ids unique
        c = real.chunks[i % len(real.chunks)]
        chunks.append(replace(c, chunk_id=f"{c.chunk_id}~{i}", report_id=f"synthetic-{i // 100:05d}"))
    vectors = synthetic_vectors(base, n)
    started = time.perf_counter()
    index = build_vector_index(vectors)
    build_seconds = time.perf_counter() - started
    reports = {f"synthetic-{r:05d}": {"title": "synthetic"} for r in range(-(-n // 100))}
    manifest = {**real.manifest, "reports": reports}
    sentences = None
    if real.sentences is not None:  # the real passages' stored sentence vectors, as the texts repeat them
        sentences = SentenceVectors(real.sentences.vectors, np.resize(real.sentences.start, n))
    data = IndexData("synthetic", real.path, manifest, chunks, index, tiled_lexical(real.lexical, n),
                     sentences=sentences)
    return data, vectors, build_seconds


def recall_at_10(index, vectors: np.ndarray, queries: np.ndarray) -> float | None:
    import faiss
    if faiss.try_extract_index_ivf(index) is None:
        return None  # exact search: recall is 1 by construction
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    _, approx = index.search(queries, 10)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact)]))


def run_size(n: int, questions: list[str]) -> dict:
    import faiss

    from tipqa.store.ann import describe
    with tempfile.TemporaryDirectory() as tmp:
        assistant = base_index(Path(tmp))
        real = assistant.data
        data, vectors, ann_build = synthetic_data(real, n)
        assistant._data = data
        queries = np.stack([assistant.embedder.embed_query(q) for q in questions])
        assistant.warm_up()  # as the web app does at start (a process that asks twice does it itself)
        question_ms = question_encoding_ms(assistant, questions) if n == 1000 else None  # size-independent
        assistant.ask(questions[0])  # warm-up: first-call allocations are not what a user waits for
        times, search_times, cpu_times = [], [], []
        for question in questions:
            assistant._sentence_cache.clear()  # every answer embeds its sentences afresh
            started, cpu = time.perf_counter(), time.process_time()
            assistant.ask(question)
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu)  # all threads' CPU: what an idle machine's wall would be
            started = time.perf_counter()
            assistant.search(question)
            search_times.append(time.perf_counter() - started)
        recall = recall_at_10(data.vectors, vectors, queries) if n <= 200_000 else recall_sampled(data, vectors, queries)
        peak = peak_rss_mb()  # before the naive recipe loads torch into this process
        naive = naive_latency(vectors, questions[:10])
        return {"passages": n, "index": describe(data.vectors), "index_build_s": round(ann_build, 2),
                "answer_ms": summary([t * 1000 for t in times]), "answer_cpu_ms": summary([t * 1000 for t in cpu_times]), "search_ms": summary([t * 1000 for t in search_times]),
                "recall_at_10": recall, "naive_answer_ms": naive, "peak_rss_mb": round(peak),
                "peak_rss_with_naive_mb": round(peak_rss_mb()),
                "faiss_threads": faiss.omp_get_max_threads(), "question_ms": question_ms}


def question_encoding_ms(assistant, questions: list[str]) -> dict:
    """Encoding a question: the numpy pass (a one-question `tipqa ask`) vs the warmed-up encoder (onnxruntime fp32,
    Assistant.warm_up), interleaved; and the cosine between their vectors."""
    cold, warm = assistant.embedder, assistant.question_embedder
    times: dict[str, list[float]] = {"numpy": [], "warm": []}
    cosines = []
    for question in questions * 3:
        for name, encoder in (("numpy", cold), ("warm", warm)):
            started = time.perf_counter()
            vector = encoder.embed_query(question)
            times[name].append((time.perf_counter() - started) * 1000)
            if name == "numpy":
                reference = vector
        cosines.append(float(vector @ reference))
    return {"numpy": summary(times["numpy"]), "warm": summary(times["warm"]),
            "warm_kind": getattr(warm, "kind", type(warm).__name__), "min_cosine": round(min(cosines), 6)}


def recall_sampled(data, vectors: np.ndarray, queries: np.ndarray) -> float | None:
    import faiss
    if faiss.try_extract_index_ivf(data.vectors) is None:
        return None
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    _, approx = data.vectors.search(queries, 10)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, truth)]))


def naive_latency(vectors: np.ndarray, questions: list[str]) -> dict:
    """Dense only: sentence-transformers query encoding, brute-force dot products, a full argsort."""
    sys.path.insert(0, str(ROOT / "bench"))
    from naive import model
    st = getattr(naive_latency, "model", None) or model()
    naive_latency.model = st
    times = []
    for question in questions:
        started = time.perf_counter()
        query = st.encode([question], normalize_embeddings=True)[0]
        np.argsort(-(vectors @ query))[:5]
        times.append((time.perf_counter() - started) * 1000)
    return summary(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # one size, in this process
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in EVAL.read_text(encoding="utf-8").splitlines()
                 if line.strip()][:args.questions]
    if args.size:
        emit("latency", {"machine": machine(), **run_size(args.size, questions)})
        return
    for size in [int(s) for s in args.sizes.split(",")]:
        log(f"latency at {size:,} passages ...")
        done = subprocess.run([sys.executable, __file__, "--size", str(size), "--questions", str(args.questions)],
                              capture_output=True, text=True)
        sys.stdout.write(done.stdout)
        if done.returncode:
            log(f"size {size} failed: {done.stderr[-1500:]}")


if __name__ == "__main__":
    main()
