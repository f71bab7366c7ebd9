"""Does how close a question comes to the corpus at large tell answerable from unanswerable questions?

    python bench/answer_background.py [--sets dev,dev2,dev3,dev4,dev5,dev6,seed,heldout] [--sample 512]

e5's cosines crowd (0.7-0.9), and some questions sit near every passage: the chosen sentence's cosine means little
until it is set against the question's cosine with passages at large. Each question's background is its mean
cosine (and the spread) over an even sample of SAMPLE passages of the index, and the mean of its top 50 dense
search scores; each is added to the answer model's features (fit_answers.fit_answer over the held-out picks' rows,
fit_answers.held_out) and scored as answer_gate.py scores its gate: right short answers (and the precision of those
given to answerable questions) at the lowest threshold that declines 75 / 78 / 80 % of the unanswerable questions,
five-fold over three shuffles and one report left out. Two columns of random noise are scored the same way, as a
control: what a feature that carries nothing does to those counts. bench/README.md, "The question's background,
'other' answers ranked, and the two stores alike".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_answers as fa  # noqa: E402
from fit_answers import at_declined  # noqa: E402

from tipqa.answering.retrieval import cosines  # noqa: E402
from tipqa.answering.scoring import ANSWER_FEATURES, fit_logistic  # noqa: E402


def sample_rows(data, sample: int) -> np.ndarray:
    """An even sample of at most SAMPLE rows of the generation's passages."""
    n = len(data.chunks)
    return np.unique(np.linspace(0, n - 1, min(sample, n)).astype(np.int64))


def backgrounds(records: list[dict], sample: int) -> dict[str, np.ndarray]:
    """Per question: mean and spread of its cosines over an even sample of its index's passages, and the mean of
    its top 50 dense scores."""
    out = {"mean": [], "spread": [], "top50": []}
    for r in records:
        data, query = r["data"], np.asarray(r["query"], dtype=np.float32)
        scores = cosines(data, sample_rows(data, sample), query)
        top = np.sort(cosines(data, np.arange(len(data.chunks)), query))[::-1][:50]
        out["mean"].append(scores.mean())
        out["spread"].append(scores.std())
        out["top50"].append(top.mean())
    return {k: np.array(v) for k, v in out.items()}


def with_columns(records: list[dict], h: dict, extra: np.ndarray, splits: list[list[int]]) -> np.ndarray:
    """Held-out P(right) of the answer model fitted on the picks' rows with EXTRA columns."""
    rows = np.hstack([h["rows"], extra]) if extra.size else h["rows"]
    p = np.zeros(len(records))
    names = tuple(ANSWER_FEATURES) + tuple(f"extra{i}" for i in range(extra.shape[1]))
    for held in splits:
        keep = set(held)
        train = [i for i in range(len(records)) if i not in keep and records[i]["set"] in fa.ANSWER_SETS]
        model = fit_logistic(rows[train], h["right"][train], names, l2=10.0,
                             sample_weight=fa.set_weights(records, train), expand=True)
        p[held] = model.probability(rows[held])
    return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev,dev2,dev3,dev4,dev5,dev6,seed,heldout")
    parser.add_argument("--sample", type=int, default=512)
    args = parser.parse_args()
    records = fa.collect(args.sets.split(","))
    answerable = np.array([r["item"].answer is not None for r in records])
    b = backgrounds(records, args.sample)
    variants = {"product": np.zeros((len(records), 0)),
                "+ mean": b["mean"][:, None],
                "+ mean, spread": np.column_stack([b["mean"], b["spread"]]),
                "+ top-50 mean": b["top50"][:, None],
                "+ mean, top-50 mean": np.column_stack([b["mean"], b["top50"]]),
                # the control: two columns of noise, to show how far a feature that carries nothing moves the counts
                "+ noise (control)": np.random.default_rng(0).normal(size=(len(records), 2))}
    print(f"{int(answerable.sum())} answerable, {int((~answerable).sum())} unanswerable; background mean "
          f"answerable {b['mean'][answerable].mean():.4f} / unanswerable {b['mean'][~answerable].mean():.4f}, top-50 "
          f"{b['top50'][answerable].mean():.4f} / {b['top50'][~answerable].mean():.4f}")
    splits = {f"five-fold, shuffle {seed}": fa.five_fold(records, seed) for seed in range(3)}
    splits["one report left out"] = fa.folds(records)
    results = {}
    for name, split in splits.items():
        h = fa.held_out(records, split)
        results[name] = (h, {v: with_columns(records, h, extra, split) for v, extra in variants.items()})
    print("right short answers (precision of those given to answerable questions) at the declined share:")
    print("  " + " / ".join(variants))
    for share in (0.75, 0.78, 0.80):
        for name, (h, ps) in results.items():
            cells = " / ".join("{} ({})".format(*at_declined(h, p, answerable, share)) for p in ps.values())
            print(f"  declined >= {share:.2f}, {name:22} {cells}")


if __name__ == "__main__":
    main()
