"""Incremental add of one 20-page report into corpora of 10, 100 and 1,000 reports; tipqa vs the naive recipe.

The corpora are synthetic reports recombined from the real ones (sections of the seed report and
../shared/corpus-extra, each report with its own title and numbered paragraphs so no two passages are
identical). The new report is ~20 pages (~40,000 characters) of the same material.

Setting up 1,000 reports is not what is measured, so the base index is written by the normal refresh with
two shortcuts: reports parsed in-process (not in a child process each) and an embedder that returns random
unit vectors under the real model's id (so the timed add, which uses the real encoders, reuses them as it
would reuse real ones). The timed `Assistant.add` is the unmodified path: isolated parse, real ONNX int8
encoder, BM25 and a new generation written and swapped in. It is timed twice: as a running server adds an
upload (index and encoders already loaded), and as `tipqa add` in a new process (start-up, loading and
verifying the index included). The naive recipe re-embeds every window on each
change; it is measured at 10 and 100 reports, and at 1,000 estimated from its measured windows/s.

    python bench/incremental.py [--sizes 10,100,1000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, log, machine, real_corpus, summary, timed_run  # noqa: E402

PAGE = 2000  # characters per page, roughly


def paragraphs(corpus: Path) -> list[str]:
    out = []
    for path in sorted(corpus.glob("*.txt")) + sorted(corpus.glob("*.md")):
        out += [p.strip() for p in path.read_text(encoding="utf-8").split("\n") if len(p.strip()) > 80]
    return out


def write_report(path: Path, title: str, pool: list[str], chars: int, rng: random.Random) -> None:
    lines, size, section = [title.upper(), ""], 0, 0
    while size < chars:
        if size // 6000 >= section:  # a heading every ~3 pages
            section += 1
            lines += [f"SECTION {section}: {rng.choice(['PREVENTION', 'PROSECUTION', 'PROTECTION', 'COOPERATION'])}",
                      ""]
        text = f"({title}, paragraph {len(lines)}) {rng.choice(pool)}"
        lines += [text, ""]
        size += len(text)
    path.write_text("\n".join(lines), encoding="utf-8")


class RandomSameModel:
    """Random unit vectors under the real model's id and weights hash: only for setting up the base index."""

    def __init__(self, real):
        self.model_id, self.weights_hash, self.dim = real.model_id, real.weights_hash, real.dim
        self.rng = np.random.default_rng(0)

    def embed_documents(self, texts):
        v = self.rng.normal(size=(len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed_query(self, text):
        return self.embed_documents([text])[0]


def setup(work: Path, n: int, pool: list[str]):
    from tipqa import engine
    from tipqa.config import load_settings
    from tipqa.encoders import query_embedder
    from tipqa.reports import load_report
    rng = random.Random(n)
    corpus = work / "corpus"
    corpus.mkdir(parents=True)
    for i in range(n):
        write_report(corpus / f"report-{i:04d}.txt", f"Synthetic report {i}", pool, rng.randint(4, 16) * PAGE, rng)
    settings = load_settings(corpus_dir=corpus, index_dir=work / "index")
    isolated = engine.parse_report_isolated
    engine.parse_report_isolated = lambda path, settings: load_report(path)  # setup only
    try:
        base = engine.Assistant(settings, embedder=RandomSameModel(query_embedder(settings)), progress=lambda f, m: None)
        result = base.refresh()
    finally:
        engine.parse_report_isolated = isolated
    return settings, result.chunks


def new_report(work: Path, pool: list[str], name: str, seed: int) -> Path:
    new = work / "incoming" / f"{name}.txt"
    new.parent.mkdir(exist_ok=True)
    write_report(new, name.replace("-", " ").capitalize(), pool, 20 * PAGE, random.Random(seed))
    return new


def timed_add(settings, work: Path, pool: list[str], repeat: int) -> tuple[float, int]:
    """Assistant.add as a running server (the web app's upload) does it: index and encoders already loaded."""
    from tipqa.engine import Assistant
    new = new_report(work, pool, f"new-report-{repeat}", 1000 + repeat)
    assistant = Assistant(settings, progress=lambda f, m: None)
    assistant.index_embedder, assistant.data  # loaded once per process; a server has them loaded already
    started = time.perf_counter()
    result = assistant.add([new])
    return time.perf_counter() - started, result.embedded


def cli_add(settings, work: Path, pool: list[str], repeat: int) -> float:
    """`tipqa add` from a terminal: a new process that loads (and verifies) the index first."""
    new = new_report(work, pool, f"cli-report-{repeat}", 2000 + repeat)
    wall, _, _ = timed_run([sys.executable, "-m", "tipqa", "add", str(new), "--corpus", str(settings.corpus_dir),
                            "--index", str(settings.index_dir)], timeout=600)
    return wall


def naive_rebuild(work: Path) -> tuple[float, int]:
    wall, _, out = timed_run([sys.executable, str(ROOT / "bench" / "naive.py"), "build", str(work / "corpus"),
                              str(work / "naive")], timeout=3600)
    stats = json.loads(out)
    return stats["seconds"], stats["windows"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-max", type=int, default=100, help="largest corpus the naive rebuild is run on")
    args = parser.parse_args()
    naive_rate = None
    with tempfile.TemporaryDirectory() as tmp:
        pool = paragraphs(real_corpus(Path(tmp) / "real"))
        for n in [int(s) for s in args.sizes.split(",")]:
            work = Path(tmp) / f"n{n}"
            log(f"setting up {n} reports ...")
            settings, chunks = setup(work, n, pool)
            adds = [timed_add(settings, work, pool, r) for r in range(args.repeats)]
            cli = [cli_add(settings, work, pool, r) for r in range(args.repeats)]
            row = {"reports": n, "passages_before": chunks, "new_report_chars": 20 * PAGE,
                   "embedded_per_add": adds[0][1], "add_s": summary([a[0] for a in adds]),
                   "cli_add_wall_s": summary(cli)}
            if n <= args.naive_max:
                seconds, windows = naive_rebuild(work)
                naive_rate = windows / seconds
                row.update(naive_rebuild_s=round(seconds, 1), naive_windows=windows, naive_measured=True)
            elif naive_rate:
                windows = sum(len(p.read_text(encoding="utf-8")) for p in (work / "corpus").glob("*.txt")) // 1000
                row.update(naive_rebuild_s=round(windows / naive_rate, 1), naive_windows=windows, naive_measured=False)
            if "naive_rebuild_s" in row:
                row["ratio"] = round(row["naive_rebuild_s"] / row["add_s"]["median"], 1)
            emit("incremental_add", {"machine": machine(), **row})


if __name__ == "__main__":
    main()
