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
    python bench/incremental.py --sizes 1000 --keep /tmp/tipqa-inc --compare /tmp/tipqa-base/src --cli-only

--keep DIR sets each size up once in DIR/n<size> and reuses it on later runs (each run adds to it).
--compare SRC times `tipqa add` from another source tree too (e.g. a `git archive` of an earlier commit),
interleaved with this one (A, B, A, B ...) on two copies of the same index, so both see the same load; each
tree first makes one untimed add, so it is timed on a generation it wrote itself.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
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
    from tipqa import indexer
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    from tipqa.encoders import query_embedder
    from tipqa.ingest.reports import load_report
    rng = random.Random(n)
    corpus = work / "corpus"
    corpus.mkdir(parents=True)
    for i in range(n):
        write_report(corpus / f"report-{i:04d}.txt", f"Synthetic report {i}", pool, rng.randint(4, 16) * PAGE, rng)
    settings = load_settings(corpus_dir=corpus, index_dir=work / "index")
    isolated = indexer.parse_report_isolated
    indexer.parse_report_isolated = lambda path, settings: load_report(path)  # setup only
    try:
        base = Assistant(settings, embedder=RandomSameModel(query_embedder(settings)), progress=lambda f, m: None)
        result = base.refresh()
    finally:
        indexer.parse_report_isolated = isolated
    return settings, result.chunks


def new_report(work: Path, pool: list[str], name: str, seed: int) -> Path:
    new = work / "incoming" / f"{name}.txt"
    new.parent.mkdir(exist_ok=True)
    write_report(new, name.replace("-", " ").capitalize(), pool, 20 * PAGE, random.Random(seed))
    return new


def timed_add(settings, work: Path, pool: list[str], repeat: int) -> tuple[float, int]:
    """Assistant.add as a running server (the web app's upload) does it: index and encoders already loaded."""
    from tipqa.assistant import Assistant
    new = new_report(work, pool, f"new-report-{repeat}-{time.time_ns() % 10**9:09d}", 1000 + repeat)
    assistant = Assistant(settings, progress=lambda f, m: None)
    assistant.index_embedder, assistant.data  # loaded once per process; a server has them loaded already
    started = time.perf_counter()
    result = assistant.add([new])
    return time.perf_counter() - started, result.embedded


def cli_add(settings, work: Path, pool: list[str], repeat: int, src: Path | None = None) -> float:
    """`tipqa add` from a terminal: a new process that loads (and verifies) the index first.

    src: run the tipqa of this source tree instead of the installed one."""
    tag = f"{time.time_ns() % 10**9:09d}"  # a new report per call, also across --keep runs
    new = new_report(work, pool, f"cli-report-{repeat}-{tag}", 2000 + repeat)
    env = {"PYTHONPATH": str(src)} if src is not None else None
    wall, _, _ = timed_run([sys.executable, "-m", "tipqa", "add", str(new), "--corpus", str(settings.corpus_dir),
                            "--index", str(settings.index_dir)], env=env, timeout=600)
    return wall


def prepared(root: Path | None, tmp: Path, n: int, pool: list[str]):
    """(settings, passages) of the n-report corpus: set up in tmp, or once in root/n<n> and reused after."""
    from tipqa.config import load_settings
    work = (root or tmp) / f"n{n}"
    if root is not None and (work / "index" / "CURRENT").is_file():
        from tipqa.store.files import IndexStore
        log(f"reusing {work}")
        return work, load_settings(corpus_dir=work / "corpus", index_dir=work / "index"), \
            IndexStore(work / "index").live_manifest()["counts"]["chunks"]
    if work.exists():
        shutil.rmtree(work)
    log(f"setting up {n} reports ...")
    settings, chunks = setup(work, n, pool)
    return work, settings, chunks


def compare_cli(work: Path, settings, pool: list[str], repeats: int, src: Path) -> dict:
    """`tipqa add` of this tree (B) and of src (A), interleaved, each on its own copy of the index."""
    from tipqa.config import load_settings
    runs = {}
    for label in ("a", "b"):
        copy = work.parent / f"{work.name}-{label}"
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(work, copy)
        runs[label] = (copy, load_settings(corpus_dir=copy / "corpus", index_dir=copy / "index"), [])
    for label, source in (("a", src), ("b", None)):  # untimed: each tree times adds to a generation it wrote
        cli_add(runs[label][1], runs[label][0], pool, -1, source)
    for r in range(repeats):
        for label, source in (("a", src), ("b", None)):
            copy, copy_settings, walls = runs[label]
            walls.append(cli_add(copy_settings, copy, pool, r, source))
            log(f"{label} {walls[-1]:.2f} s")
    for copy, _, _ in runs.values():
        shutil.rmtree(copy)
    return {"cli_add_wall_s_a": summary(runs["a"][2]), "cli_add_wall_s_b": summary(runs["b"][2]),
            "a_src": str(src), "b_src": "this tree"}


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
    parser.add_argument("--keep", type=Path, help="set the corpora up once in this folder and reuse them")
    parser.add_argument("--compare", type=Path, help="another tipqa source tree: time its `tipqa add` too, interleaved")
    parser.add_argument("--cli-only", action="store_true", help="time `tipqa add` only (no in-process add, no naive)")
    args = parser.parse_args()
    naive_rate = None
    with tempfile.TemporaryDirectory() as tmp:
        pool = paragraphs(real_corpus(Path(tmp) / "real"))
        for n in [int(s) for s in args.sizes.split(",")]:
            work, settings, chunks = prepared(args.keep, Path(tmp), n, pool)
            if args.compare is not None or args.cli_only:
                row = {"reports": n, "passages_before": chunks, "new_report_chars": 20 * PAGE}
                if args.compare is not None:
                    row.update(compare_cli(work, settings, pool, args.repeats, args.compare.resolve()))
                else:
                    row["cli_add_wall_s"] = summary([cli_add(settings, work, pool, r) for r in range(args.repeats)])
                emit("incremental_add", {"machine": machine(), **row})
                continue
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
