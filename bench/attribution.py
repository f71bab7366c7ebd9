"""Who-said-what attribution: accuracy on the hand-labelled sentences, and attribution speed on real reports.

    python bench/attribution.py [--labels eval/attribution_labels.jsonl ...] [--json]

Accuracy on each label file (by default the English set and the Spanish set, eval/attribution_labels_es.jsonl,
sentences of the three real Spanish documents in tests/data/corpus-extra): a sentence is right when the predicted
set of speaker ids equals the labelled set ([] for none: not a statement, or said by a group such as "Speakers").
Speed: attribute_report over whole reports (the seed, and the 185 kB UNODC GLOTIP chapter from
tests/data/corpus-extra when present), best of 3.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipqa.ingest.chunking import chunk_report  # noqa: E402
from tipqa.ingest.reports import load_report  # noqa: E402
from tipqa.language.entities import _entities_but_numbers  # noqa: E402
from tipqa.speakers.attribution import attribute_report  # noqa: E402
from tipqa.speakers.labels import evaluate_labels  # noqa: E402

LABELS = [ROOT / "eval" / "attribution_labels.jsonl", ROOT / "eval" / "attribution_labels_es.jsonl"]
SPEED_FILES = [ROOT / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt",
               ROOT / "tests" / "data" / "corpus-extra" / "unodc_glotip2024_ch2_africa_en.txt"]


def speed(path: Path) -> dict:
    report = load_report(path)
    chunks = chunk_report(report, 700)
    sentences = sum(len(c.sentences) for c in chunks)
    best = float("inf")
    for _ in range(3):
        _entities_but_numbers.cache_clear()  # each repeat as a build attributes a new report: nothing cached
        started = time.perf_counter()
        statements = attribute_report(report, chunks)
        best = min(best, time.perf_counter() - started)
    return {"file": path.name, "kB": round(path.stat().st_size / 1024, 1), "sentences": sentences,
            "statements": len(statements), "seconds": round(best, 3), "sentences_per_s": round(sentences / best)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, nargs="+", default=LABELS)
    parser.add_argument("--json", action="store_true", dest="json_")
    args = parser.parse_args()
    results = {}
    for path in args.labels:
        result = evaluate_labels(path, ROOT)
        labels = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        result["by_file"] = dict(Counter(item["file"] for item in labels))
        results[path.name] = result
    speeds = [speed(p) for p in SPEED_FILES if p.exists()]
    if args.json_:
        print(json.dumps({"labels": results, "speed": speeds}, indent=2, ensure_ascii=False))
        return
    for name, result in results.items():
        print(f"attribution accuracy ({name}): {result['correct']}/{result['sentences']} = {result['accuracy']:.3f} "
              f"(resolution kind also right: {result['resolved_correct']})")
        for file, n in result["by_file"].items():
            print(f"  {n:3d} sentences from {file}")
        for error in result["errors"]:
            print(f"  wrong: {error['sentence'][:80]!r} expected {error['expected']} got {error['predicted']}")
    for row in speeds:
        print(f"speed: {row['file']} ({row['kB']} kB): {row['sentences']} sentences, {row['statements']} statements "
              f"in {row['seconds']} s ({row['sentences_per_s']} sentences/s)")


if __name__ == "__main__":
    main()
