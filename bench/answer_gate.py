"""Would a gate fitted on answerable-and-right against unanswerable questions only withhold short answers better
than the answer model's P(short answer right)?

    python bench/answer_gate.py [--sets dev,dev2,dev3,dev4,dev5,dev6,seed,heldout]

Short-answer accuracy counts a wrong short answer and none alike, so under the bar on declined unanswerable questions
the best withholding rule orders picks by how much likelier they are right than unanswerable (Neyman-Pearson), not
by P(right), whose "wrong" mixes both. The gate is the answer model (same features, fit_answers.fit_answer) fitted
without the answerable questions whose pick is wrong; the sum of both models' logits is scored too. For each of
five-fold (three shuffles) and one report left out, at the lowest threshold that declines 75 / 78 / 80 % of the
unanswerable questions, it prints the right short answers and how many of the short answers given to answerable
questions are right. bench/README.md, "A learnt query map, and the answer gate".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_answers as fa  # noqa: E402
from fit_answers import at_declined  # noqa: E402


def with_gate(records: list[dict], answerable: np.ndarray, splits: list[list[int]]) -> dict:
    """fit_answers.held_out, with the gate's held-out probability beside the answer model's (fitted on the same
    held-out picks' rows, without the answerable questions whose pick is wrong)."""
    h = fa.held_out(records, splits)
    rows, right, gate = h["rows"], h["right"], np.zeros(len(records))
    for held in splits:
        keep = set(held)
        train = [i for i in range(len(records)) if i not in keep and records[i]["set"] in fa.ANSWER_SETS]
        weights = fa.set_weights(records, train)  # each set's weight as the answer model's, before the wrong go
        sure = [j for j, i in enumerate(train) if right[i] == 1 or not answerable[i]]
        train = [train[j] for j in sure]
        gate[held] = fa.fit_answer(rows[train], right[train], weights[sure]).probability(rows[held])
    return {**h, "gate": gate}


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev,dev2,dev3,dev4,dev5,dev6,seed,heldout")
    args = parser.parse_args()
    records = fa.collect(args.sets.split(","))
    answerable = np.array([r["item"].answer is not None for r in records])
    runs = {f"five-fold, shuffle {seed}": with_gate(records, answerable, fa.five_fold(records, seed)) for seed in range(3)}
    runs["one report left out"] = with_gate(records, answerable, fa.folds(records))
    print(f"{int(answerable.sum())} answerable, {int((~answerable).sum())} unanswerable; right short answers "
          "(precision of those given) at the declined share: P(right) / gate / both logits summed")
    for share in (0.75, 0.78, 0.80):
        for name, h in runs.items():
            scores = (h["p"], h["gate"], logit(h["p"]) + logit(h["gate"]))
            cells = " / ".join("{} ({})".format(*at_declined(h, s, answerable, share)) for s in scores)
            print(f"  declined >= {share:.2f}, {name:22} {cells}")


if __name__ == "__main__":
    main()
