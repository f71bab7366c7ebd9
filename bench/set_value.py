"""Does fitting on one more labelled set help the others? The other sets' questions scored by models fitted with
and without it (the same folds; the set only ever in training, never scored), as bench/fit_answers.py scores the
product: five-fold over three shuffles, thresholds chosen on the pooled shuffles, and one report left out.

    python bench/set_value.py [--set dev6] [--fixed 0.34,0.045 0.32,0.045]

eval/test_qa.jsonl is never read.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_answers as fa  # noqa: E402


def scored(records: list[dict], others: np.ndarray, fixed: list[tuple[float, float]]) -> None:
    """Figures on records[others] of models fitted (per fold) on every record but the fold's."""
    answerable = np.array([r["item"].answer is not None for r in records])
    shuffles = [fa.held_out(records, fa.five_fold(records, seed)) for seed in range(fa.THRESHOLD_SHUFFLES)]
    pooled = {k: np.concatenate([h[k] for h in shuffles]) for k in shuffles[0]}
    answer_at, closest_at = fa.thresholds(pooled, np.tile(answerable, len(shuffles)))
    five = [fa.figures_of({k: v[others] for k, v in h.items()}, answerable[others], answer_at, closest_at)
            for h in shuffles]
    print(f"  answer_at {answer_at:.2f}, closest_at {closest_at:.3f}")
    print("  five-fold (mean of the shuffles):", {k: round(float(np.mean([f[k] for f in five])), 3) for k in five[0]})
    left_out = fa.held_out(records, fa.folds(records))
    mine = {k: v[others] for k, v in left_out.items()}
    for a, c in [(answer_at, closest_at), *fixed]:
        print(f"  one report left out at {a:.2f} / {c:.3f}:", fa.figures_of(mine, answerable[others], a, c))
    print("  right short answers before the threshold, left out:", int(mine["right"][answerable[others]].sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="dev6", help="the set whose value is measured (one of fit_answers' sets)")
    parser.add_argument("--fixed", nargs="*", default=[], metavar="ANSWER_AT,CLOSEST_AT",
                        help="also print the left-out figures at these thresholds")
    args = parser.parse_args()
    fixed = [tuple(float(v) for v in pair.split(",")) for pair in args.fixed]
    records = fa.collect(list(fa.ANSWER_SETS))
    without = [r for r in records if r["set"] != args.set]
    print(f"without {args.set}:")
    scored(without, np.arange(len(without)), fixed)
    print(f"with {args.set} (its questions in training only):")
    scored(records, np.array([i for i, r in enumerate(records) if r["set"] != args.set]), fixed)


if __name__ == "__main__":
    main()
