"""Kill -9 a rebuilding tipqa at random moments; after each kill the index must load as the old or new generation.

    python bench/durability.py --trials 30 [--json] [--seed 1]

A worker process loops: it moves a second report into or out of the corpus and refreshes the index (parse in
the isolated child, embed, write a generation, swap CURRENT, prune). The bench kills it with SIGKILL after a
random delay, then checks that IndexStore.load() works, verifies every file against the manifest, and that the
loaded chunks are exactly those of one of the two valid corpus states. Embeddings use HashEmbedder so that a
trial takes about a second; the write path under test does not depend on the model. Figures go to stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipqa.assistant import Assistant  # noqa: E402
from tipqa.config import load_settings  # noqa: E402
from tipqa.encoders.model import HashEmbedder  # noqa: E402
from tipqa.errors import TipqaError  # noqa: E402
from tipqa.store.files import IndexStore  # noqa: E402

SEED = ROOT / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt"
SECOND = ("OPENING CEREMONY\nThe meeting's opening ceremony was led by the Minister of Foreign Affairs of Guatemala.\n"
          "ELECTION OF OFFICERS OF THE MEETING\nThe delegation of Nicaragua nominated Zulma Subillaga Dubón to chair "
          "the meeting. She was elected by acclamation.\n")


def worker(corpus: Path, index: Path, parking: Path) -> None:
    """Rebuild forever, toggling the second report so that every cycle writes a new generation."""
    settings = load_settings(corpus_dir=corpus, index_dir=index)
    assistant = Assistant(settings, embedder=HashEmbedder(), progress=lambda f, m: None)
    while True:
        inside, outside = corpus / "second.txt", parking / "second.txt"
        if inside.exists():
            os.replace(inside, outside)
        else:
            os.replace(outside, inside)
        assistant.refresh()
        print("cycle", flush=True)


def expected_states(work: Path) -> list[set[str]]:
    """The chunk id sets of the two valid corpus states (seed alone; seed and the second report)."""
    states = []
    for with_second in (False, True):
        corpus, index = work / f"ref-{with_second}", work / f"ref-index-{with_second}"
        corpus.mkdir()
        shutil.copy(SEED, corpus / SEED.name)
        if with_second:
            (corpus / "second.txt").write_text(SECOND, encoding="utf-8")
        data = Assistant.open(settings=load_settings(corpus_dir=corpus, index_dir=index), embedder=HashEmbedder(),
                              progress=lambda f, m: None).data
        states.append({c.chunk_id for c in data.chunks})
    return states


def trial(work: Path, states: list[set[str]], delay: float) -> dict:
    corpus, index, parking = work / "corpus", work / "index", work / "parking"
    proc = subprocess.Popen([sys.executable, __file__, "--worker", str(corpus), str(index), str(parking)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    cycles = (proc.stdout.read() or b"").count(b"cycle")
    outcome = {"delay": round(delay, 3), "cycles_before_kill": cycles}
    try:
        data = IndexStore(index).load()
    except TipqaError as error:
        return {**outcome, "ok": False, "error": str(error)}
    chunks = {c.chunk_id for c in data.chunks}
    consistent = chunks in states and set(data.reports) == {c.split("/")[0] for c in chunks}
    return {**outcome, "ok": consistent, "fallback": bool(data.warnings), "generation": data.generation,
            "state": states.index(chunks) if chunks in states else None}


def run(trials: int, seed: int) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tipqa-durability-") as tmp:
        work = Path(tmp)
        states = expected_states(work)
        (work / "corpus").mkdir()
        (work / "parking").mkdir()
        shutil.copy(SEED, work / "corpus" / SEED.name)
        (work / "parking" / "second.txt").write_text(SECOND, encoding="utf-8")
        Assistant.open(settings=load_settings(corpus_dir=work / "corpus", index_dir=work / "index"),
                       embedder=HashEmbedder(), progress=lambda f, m: None)
        results = []
        for n in range(trials):
            results.append(trial(work, states, rng.uniform(0.3, 4.0)))
            print(f"trial {n + 1}/{trials}: {'ok' if results[-1]['ok'] else 'CORRUPT'}", file=sys.stderr, flush=True)
        # After all the kills, a normal build must still work (no stale lock, leftovers pruned).
        final = Assistant(load_settings(corpus_dir=work / "corpus", index_dir=work / "index"),
                          embedder=HashEmbedder(), progress=lambda f, m: None).refresh(rebuild=True)
        leftovers = len(IndexStore(work / "index").generations())
    return {
        "trials": trials, "survived": sum(r["ok"] for r in results),
        "corruptions": sum(not r["ok"] for r in results), "fallbacks": sum(bool(r.get("fallback")) for r in results),
        "killed_mid_cycle_after_cycles": sum(r["cycles_before_kill"] for r in results),
        "rebuild_after_kills_ok": bool(final.generation), "generations_left": leftovers, "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--worker", nargs=3, metavar=("CORPUS", "INDEX", "PARKING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*(Path(p) for p in args.worker))
        return
    figures = run(args.trials, args.seed)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"kill -9 trials: {figures['trials']}, survived: {figures['survived']}, corruptions: "
          f"{figures['corruptions']}, fell back to previous generation: {figures['fallbacks']}, "
          f"completed rebuild cycles before the kills: {figures['killed_mid_cycle_after_cycles']}, "
          f"rebuild afterwards ok: {figures['rebuild_after_kills_ok']}, generations left: {figures['generations_left']}")


if __name__ == "__main__":
    main()
