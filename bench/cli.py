"""Index build throughput and cold `tipqa ask` wall time on the real corpus, tipqa vs the naive recipe.

Build: `tipqa build` from scratch on the seed report + ../shared/corpus-extra (the ONNX graph is exported
once beforehand and its one-off cost reported apart). Cold ask: a new process per question, as a terminal
user runs it. The cold answer is checked against the in-process answer with sentence-transformers (torch)
encoding the question: same passages, same answer.

    python bench/cli.py [--repeats 2] [--asks 5]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CANONICAL, ROOT, emit, log, machine, real_corpus, summary, timed_run  # noqa: E402

TIPQA = [sys.executable, "-m", "tipqa"]


def token_count(index_dir: Path) -> int:
    from tipqa.config import load_settings
    from tipqa.encoders.model import resolve_model
    from tipqa.encoders.numpy_bert import NumpyBert
    from tipqa.store.files import IndexStore
    bert = NumpyBert(Path(resolve_model(load_settings().model).path))
    texts = [c.embedding_text() for c in IndexStore(index_dir).load().chunks]
    return sum(len(e.ids) for e in bert.tokenizer.encode_batch(texts))


def bench_build(work: Path, corpus: Path, repeats: int) -> dict:
    started = time.perf_counter()
    timed_run([*TIPQA, "build", "--corpus", str(corpus), "--index", str(work / "warm"), "--json"])
    first = time.perf_counter() - started  # includes the one-off ONNX export
    fast, naive, stats, stages = [], [], {}, []
    for r in range(repeats):
        index = work / f"fast{r}"
        shutil.copytree(work / "warm" / "encoders", index / "encoders")  # the cached graph, as on a second build
        wall, peak, out = timed_run([*TIPQA, "build", "--corpus", str(corpus), "--index", str(index), "--json"])
        result = json.loads(out)
        fast.append((result["chunks"] / result["seconds"], wall, peak))
        stages.append(result["stages"])
        log(f"fast build {r + 1}: {result['chunks']} passages in {result['seconds']:.1f} s (wall {wall:.1f} s)")
        wall, peak, out = timed_run([sys.executable, str(ROOT / "bench" / "naive.py"), "build", str(corpus),
                                     str(work / f"naive{r}")])
        stats = json.loads(out)
        naive.append((stats["windows"] / stats["seconds"], wall, peak))
        log(f"naive build {r + 1}: {stats['windows']} windows in {stats['seconds']:.1f} s (wall {wall:.1f} s)")
    tokens = token_count(work / "fast0")
    chunks = json.loads(timed_run([*TIPQA, "reports", "--corpus", str(corpus), "--index", str(work / "fast0"),
                                   "--json"])[2])
    n_chunks = sum(r["chunks"] for r in chunks)
    fast_rate = summary([f[0] for f in fast])
    naive_rate = summary([n[0] for n in naive])
    stage_s = {k: summary([s[k] for s in stages]) for k in stages[0]}
    return {"passages": n_chunks, "tokens": tokens, "first_build_with_export_s": round(first, 1),
            "fast_chunks_per_s": fast_rate, "fast_tokens_per_s": round(fast_rate["median"] * tokens / n_chunks),
            "fast_stages_s": stage_s,  # where a build's time goes: load, parse (+ attribution), embed, write
            "fast_embed_chunks_per_s": summary([n_chunks / s["embed"] for s in stages]),
            "fast_wall_s": summary([f[1] for f in fast]), "fast_peak_mb": max(f[2] for f in fast),
            "naive_windows": stats["windows"], "naive_windows_per_s": naive_rate,
            "naive_wall_s": summary([n[1] for n in naive]), "naive_peak_mb": max(n[2] for n in naive),
            "ratio_chunks_per_s": round(fast_rate["median"] / naive_rate["median"], 2),
            "ratio_wall": round(summary([n[1] for n in naive])["median"] / summary([f[1] for f in fast])["median"], 2)}


def bench_cold_ask(work: Path, corpus: Path, asks: int) -> dict:
    index = work / "fast0"
    args = [*TIPQA, "ask", "--json", CANONICAL, "--corpus", str(corpus), "--index", str(index)]
    # The same index without its prepared int8 graph: answer sentences rescored by the numpy pass, no
    # onnxruntime import. Interleaved with the default, so both see the same machine load.
    bare = work / "fast0-no-graph"
    shutil.copytree(index, bare, ignore=shutil.ignore_patterns("encoders"))
    bare_args = [*TIPQA, "ask", "--json", CANONICAL, "--corpus", str(corpus), "--index", str(bare)]
    fast, numpy_rescoring = [], []
    for _ in range(asks):
        fast.append(timed_run(args))
        numpy_rescoring.append(timed_run(bare_args))
    naive_args = [sys.executable, str(ROOT / "bench" / "naive.py"), "ask", str(work / "naive0"), CANONICAL]
    naive = [timed_run(naive_args) for _ in range(max(2, asks // 2))]
    cold = json.loads(fast[-1][2])
    reference = in_process_torch_answer(corpus, index)
    same = (cold["answer"] == reference["answer"] and cold["evidence"] == reference["evidence"]
            and [p["chunk_id"] for p in cold["passages"]] == [p["chunk_id"] for p in reference["passages"]])
    fast_wall, naive_wall = summary([f[0] for f in fast]), summary([n[0] for n in naive])
    return {"fast_wall_s": fast_wall, "fast_peak_mb": max(f[1] for f in fast), "naive_wall_s": naive_wall,
            "numpy_rescoring_wall_s": summary([f[0] for f in numpy_rescoring]),
            "numpy_rescoring_same_answer": json.loads(numpy_rescoring[-1][2])["evidence"] == cold["evidence"],
            "naive_peak_mb": max(n[1] for n in naive), "ratio": round(naive_wall["median"] / fast_wall["median"], 2),
            "answer": cold["answer"], "same_as_torch_in_process": same}


def bench_encoders(index: Path, repeats: int, limit: int = 256) -> dict:
    """Encoder alone, in one process, on the index's own passage texts: ONNX int8 vs sentence-transformers."""
    from tipqa.config import load_settings
    from tipqa.encoders import index_embedder, query_embedder
    from tipqa.encoders.sbert import SentenceTransformerEmbedder
    from tipqa.store.files import IndexStore
    texts = [c.embedding_text() for c in IndexStore(index).load().chunks][:limit]
    int8 = index_embedder(load_settings(index_dir=index), query_embedder(load_settings(index_dir=index)))
    torch = SentenceTransformerEmbedder.default()
    rates: dict[str, list[float]] = {"onnx_int8": [], "torch_fp32": []}
    for _ in range(repeats):  # interleaved, so both see the same machine load
        for name, embedder in (("onnx_int8", int8), ("torch_fp32", torch)):
            started = time.perf_counter()
            embedder.embed_documents(texts)
            rates[name].append(len(texts) / (time.perf_counter() - started))
    int8_rate, torch_rate = summary(rates["onnx_int8"]), summary(rates["torch_fp32"])
    return {"texts": len(texts), "onnx_int8_chunks_per_s": int8_rate, "torch_fp32_chunks_per_s": torch_rate,
            "ratio": round(int8_rate["median"] / torch_rate["median"], 2)}


def in_process_torch_answer(corpus: Path, index: Path) -> dict:
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    settings = load_settings(corpus_dir=corpus, index_dir=index, encoder="torch")
    return Assistant.open(settings=settings, progress=lambda f, m: None).ask(CANONICAL).to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--asks", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = real_corpus(work / "corpus")
        emit("build", {"machine": machine(), **bench_build(work, corpus, args.repeats)})
        emit("cold_ask", {"machine": machine(), **bench_cold_ask(work, corpus, args.asks)})
        emit("encoder_only", {"machine": machine(), **bench_encoders(work / "fast0", max(2, args.repeats))})


if __name__ == "__main__":
    main()
