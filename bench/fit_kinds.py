"""Fit the model of the kind of answer a question asks for (src/tipqa/answering/kinds.json), used where the question
rules find none; cross-validated, grouped by question set.

    python bench/fit_kinds.py [--sets dev,dev2,dev3,seed,heldout] [--dry-run] [--overrides]
    python bench/fit_kinds.py --compare dev4,dev5,dev6 [--score dev7]

Each labelled answerable question gives one row: its embedding (as Assistant.ask computes it) beside the embedding
of its first words, labelled with the set's "type" (kinds.LABELS). A multinomial logistic regression (scikit-learn)
is chosen by five-fold cross-validation over its regularisation; the threshold is the lowest probability at which
the model's kind, taken where the rules say 'other', agrees with the label at least as often as 'other' does.
eval/test_qa.jsonl is never read here.

--compare EXTRA asks whether fitting on more sets types better, and writes nothing: each set of --sets, EXTRA and
--score (scored only, never fitted) is held out in turn, and the questions the rules call "other" in it are typed
by the model fitted on --sets, then on --sets and EXTRA, neither ever on the held-out set (the product's C and
threshold, from kinds.json); it prints how many each types right, set by set and in all.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, log  # noqa: E402
from answers import SETS, corpus, index_for  # noqa: E402


def collect(sets: list[str]):
    from tipqa.answering import kinds
    from tipqa.answering.questions import analyse
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    from tipqa.evaluate import load_items
    cache = ROOT / "bench" / ".cache" / "answers"
    folder = corpus("nine", cache)
    assistant = Assistant.open(settings=load_settings(corpus_dir=folder, index_dir=index_for(folder)),
                               progress=lambda f, m: None)
    data = assistant.data
    rows, labels, rules, groups = [], [], [], []
    for name in sets:
        if name == "test":
            raise SystemExit("eval/test_qa.jsonl is the held-out set: never fitted on")
        for item in load_items(ROOT / "eval" / SETS[name][0]):
            if item.answer is None or item.type not in kinds.LABELS:
                continue
            query = assistant.question_embedder.embed_query(item.question)
            sentences, query = assistant._answer_inputs(data, query)
            head = sentences([kinds.opening(item.question)], None)[0]
            rows.append(kinds.features(query, head))
            labels.append(kinds.LABELS.index(item.type))
            rules.append(analyse(item.question).expected)
            groups.append(name)
        log(f"{name}: {sum(g == name for g in groups)} questions")
    return assistant.settings.model, np.array(rows), np.array(labels), np.array(rules), np.array(groups)


def overrides(p: np.ndarray, y: np.ndarray, rules: np.ndarray) -> None:
    """Where the rules name a kind the model knows: how often they are right, and, where the model (five-fold)
    disagrees with at least a given probability, how often each of the two is right (tried and not kept: the model
    overriding the rules)."""
    from tipqa.answering import kinds
    rule = np.array([kinds.LABELS.index(r) if r in kinds.LABELS and r != "other" else -1 for r in rules])
    typed = rule >= 0
    print(f"the rules name a kind for {typed.sum()} questions, right for {(rule[typed] == y[typed]).mean():.3f}; "
          f"where the model disagrees with probability >= t: questions / model right / rules right")
    for t in (0.5, 0.7, 0.9):
        over = typed & (p.max(1) >= t) & (p.argmax(1) != rule)
        print(f"  t={t}: {over.sum()} / {(p.argmax(1)[over] == y[over]).sum()} / {(rule[over] == y[over]).sum()}")


def compare(base: list[str], extra: list[str], scored: list[str]) -> None:
    """Typing of the rules' "other" questions, each set held out in turn, by models fitted without and with EXTRA."""
    from sklearn.linear_model import LogisticRegression

    from tipqa.answering import kinds
    record = kinds._load()
    if record is None:
        raise SystemExit(f"{kinds.KINDS_FILE} is missing: fit the product's kind model first")
    c, threshold = record["fitted"]["cross_validated"]["C"], record["threshold"]
    names = list(dict.fromkeys(base + extra + scored))
    _, x, y, rules, groups = collect(names)
    other = kinds.LABELS.index("other")

    def right(fitted_on: list[str], held: str) -> tuple[int, int]:
        train = np.isin(groups, [n for n in fitted_on if n != held])
        asked = (groups == held) & (rules == "other")
        if not asked.any():
            return 0, 0
        model = LogisticRegression(C=c, max_iter=3000).fit(x[train], y[train])
        p = np.zeros((int(asked.sum()), len(kinds.LABELS)))
        p[:, model.classes_] = model.predict_proba(x[asked])
        kind = np.where((p.argmax(1) != other) & (p.max(1) >= threshold), p.argmax(1), other)
        return int((kind == y[asked]).sum()), int(asked.sum())

    print(f"the rules' 'other' questions typed right, each set held out (C={c}, threshold {threshold}):\n"
          f"{'set':9} {'questions':>9} {'fitted on ' + ','.join(base):>30} {'+ ' + ','.join(extra):>20}")
    totals = [0, 0, 0]
    for held in names:
        (without, n), (with_extra, _) = right(base, held), right(base + extra, held)
        totals = [totals[0] + n, totals[1] + without, totals[2] + with_extra]
        print(f"{held:9} {n:>9} {without:>30} {with_extra:>20}")
    print(f"{'all':9} {totals[0]:>9} {totals[1]:>30} {totals[2]:>20}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev,dev2,dev3,seed,heldout")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--overrides", action="store_true",
                        help="also print how the model fares against the rules where the rules name a kind")
    parser.add_argument("--compare", default="", help="held out set by set, type with and without these sets too "
                        "(writes nothing)")
    parser.add_argument("--score", default="dev7", help="with --compare: sets only scored, never fitted")
    args = parser.parse_args()
    if args.compare:
        unknown = [n for n in (args.sets + "," + args.compare + "," + args.score).split(",") if n and n not in SETS]
        if unknown or "test" in (args.compare + "," + args.score).split(","):
            raise SystemExit(f"--compare and --score take question sets other than test; unknown: {unknown}")
        compare(args.sets.split(","), args.compare.split(","), [n for n in args.score.split(",") if n])
        return
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from tipqa.answering import kinds
    model_name, x, y, rules, groups = collect(args.sets.split(","))
    other = kinds.LABELS.index("other")
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))
    best = None
    for c in (1.0, 10.0, 30.0, 100.0):
        p = np.zeros((len(y), len(kinds.LABELS)))
        for train, held in folds:
            fitted = LogisticRegression(C=c, max_iter=3000).fit(x[train], y[train])
            p[np.ix_(held, fitted.classes_)] = fitted.predict_proba(x[held])
        accuracy = float((p.argmax(1) == y).mean())
        log(f"C={c}: five-fold accuracy {accuracy:.3f}")
        if best is None or accuracy > best[1]:
            best = (c, accuracy, p)
    c, accuracy, p = best
    fallback = rules == "other"  # where the model is used
    kept = float((y[fallback] == other).mean())
    chosen = 1.0
    for t in np.linspace(0.3, 0.9, 13):
        kind = np.where((p.argmax(1) != other) & (p.max(1) >= t), p.argmax(1), other)
        agree = float((kind[fallback] == y[fallback]).mean())
        log(f"threshold {t:.2f}: kind right on {agree:.3f} of the questions the rules call 'other' (rules: {kept:.3f})")
        if agree >= kept and t < chosen:
            chosen = float(t)
    kind = np.where((p.argmax(1) != other) & (p.max(1) >= chosen), p.argmax(1), other)
    figures = {"questions": int(len(y)), "C": c, "five_fold_accuracy": round(accuracy, 3), "threshold": chosen,
               "rules_other": int(fallback.sum()),
               "rules_other_right_before": round(kept, 3),
               "rules_other_right_after": round(float((kind[fallback] == y[fallback]).mean()), 3),
               "by_set_after": {g: round(float((kind[fallback & (groups == g)] == y[fallback & (groups == g)]).mean()), 3)
                                for g in dict.fromkeys(groups) if (fallback & (groups == g)).any()}}
    print(json.dumps(figures, indent=1))
    if args.overrides:
        overrides(p, y, rules)
    if args.dry_run:
        return
    fitted = LogisticRegression(C=c, max_iter=3000).fit(x, y)
    coef = np.zeros((len(kinds.LABELS), x.shape[1]))
    intercept = np.full(len(kinds.LABELS), -30.0)  # a label never seen is never predicted
    coef[fitted.classes_] = fitted.coef_
    intercept[fitted.classes_] = fitted.intercept_
    record = {"model": model_name, "labels": list(kinds.LABELS), "threshold": round(chosen, 3),
              "coef": np.round(coef, 5).tolist(), "intercept": np.round(intercept, 5).tolist(),
              "fitted": {"sets": args.sets.split(","), "cross_validated": figures,
                         "command": "python bench/fit_kinds.py --sets " + args.sets}}
    kinds.KINDS_FILE.write_text(json.dumps(record) + "\n", encoding="utf-8")
    kinds._load.cache_clear()
    print(f"wrote {kinds.KINDS_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
