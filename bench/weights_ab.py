"""What a weights file costs an answer: Assistant.ask over the nine reports with two answering-model files
interleaved (rounds of every question with one, then the other), and each file's load time.

    python bench/weights_ab.py --before OLD_weights.json [--after src/tipqa/answering/weights.json] [--questions 80]
                               [--rounds 3]

e.g. `git show HEAD~1:src/tipqa/answering/weights.json > /tmp/before.json` first. The questions are dev3's (never
test's); the answers are not scored here (bench/answers.py does that). Prints p50 and mean per file, their ratio, and
the cold load of each file (scoring.models: JSON read and arrays built).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402
from answers import ROOT, corpus, index_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=ROOT / "src" / "tipqa" / "answering" / "weights.json")
    parser.add_argument("--questions", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for path in (args.before, args.after):
        if not path.is_file():
            parser.error(f"no weights file at {path}")
    from tipqa.answering import scoring
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    folder = corpus("nine", ROOT / "bench" / ".cache" / "answers")
    assistant = Assistant.open(settings=load_settings(corpus_dir=folder, index_dir=index_for(folder)),
                               progress=lambda f, m: None)
    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "dev3_qa.jsonl", encoding="utf-8")]
    questions = questions[:args.questions]
    files = {"before": args.before, "after": args.after}
    shipped = scoring.WEIGHTS
    times: dict[str, list[float]] = {name: [] for name in files}
    loads: dict[str, list[float]] = {name: [] for name in files}
    try:
        for question in questions[:5]:  # warm-up: encoder, caches
            assistant.ask(question)
        for _ in range(args.rounds):
            for name, path in files.items():
                scoring.WEIGHTS = path
                scoring.models.cache_clear()
                start = time.perf_counter()
                scoring.models()
                loads[name].append(time.perf_counter() - start)
                for question in questions:
                    start = time.perf_counter()
                    assistant.ask(question)
                    times[name].append(time.perf_counter() - start)
    finally:
        scoring.WEIGHTS = shipped
        scoring.models.cache_clear()
    print(f"machine: {json.dumps(machine())}")
    for name, path in files.items():
        t = np.array(times[name]) * 1000
        print(f"{name:6} {path}: {path.stat().st_size / 1e3:.0f} kB, load {np.median(loads[name]) * 1000:.1f} ms, "
              f"ask p50 {np.median(t):.1f} ms, mean {t.mean():.1f} ms ({len(t)} asks)")
    ratio = np.median(times["after"]) / np.median(times["before"])
    print(f"after / before, ask p50: {ratio:.2f}")


if __name__ == "__main__":
    main()
