"""`tipqa build` from scratch with two source trees, interleaved: passages/s, CPU seconds and stages of each.

    git archive HEAD~1 src | tar -x -C /tmp/before
    python bench/build_ab.py --trees before=/tmp/before/src,after=src [--rounds 3] [--model ...]

Each tree runs as `python -m tipqa` with its own src on PYTHONPATH and its own model cache (TIPQA_MODEL_CACHE under
the work folder: a tree's prepared graph is not the other's), after one untimed build that prepares them. CPU is
the build's (children included): on a shared machine wall time stretches with other jobs' load, CPU much less.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import log, machine, real_corpus  # noqa: E402


def build(src: str, work: Path, name: str, model: str, corpus: Path, index: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": src, "TIPQA_MODEL": model, "TIPQA_MODEL_CACHE": str(work / f"cache-{name}")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installation runs: bytecode cached
    shutil.rmtree(index, ignore_errors=True)
    index.mkdir(parents=True)
    if (work / f"warm-{name}" / "encoders").is_dir():  # MiniLM's graph is kept per index folder: not a build's cost
        shutil.copytree(work / f"warm-{name}" / "encoders", index / "encoders")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tipqa", "build", "--corpus", str(corpus), "--index", str(index),
                           "--json"], env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(done.stdout)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"wall_s": round(wall, 2), "passages/s": round(result["embedded"] / wall, 1), "cpu_s": round(cpu, 2),
            "passages": result["embedded"], "stages": result["stages"], "load_1m": round(os.getloadavg()[0], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", required=True, help="name=src,name=src")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default="intfloat/multilingual-e5-small")
    args = parser.parse_args()
    trees = dict(item.split("=", 1) for item in args.trees.split(","))
    work = Path(tempfile.mkdtemp(prefix="tipqa-build-ab-"))
    corpus = real_corpus(work / "corpus")
    print(json.dumps({"bench": "build_ab", "machine": machine(), "model": args.model}))
    for name, src in trees.items():  # untimed: converts the model and prepares the graph once per tree
        build(src, work, name, args.model, corpus, work / f"warm-{name}")
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, src in trees.items():
            runs[name].append(build(src, work, name, args.model, corpus, work / f"index-{name}"))
            log(f"{name}: {runs[name][-1]}")
    for name, rows in runs.items():
        print(json.dumps({"bench": "build_ab", "tree": name, "runs": rows,
                          "median passages/s": statistics.median(r["passages/s"] for r in rows),
                          "median cpu_s": statistics.median(r["cpu_s"] for r in rows)}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
