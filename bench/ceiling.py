"""How far each stage of the answer step is from issue 13's bars: aggregate figures only, by stage.

    python bench/ceiling.py [--sets dev7,test]

Every set is asked twice through Assistant.ask: as the product answers, and with the answer threshold at 0 (every
short answer the answer model would withhold is given), so the reader's own rate shows apart from the gate.
For the answerable questions of each set it prints:

- candidates: the evidence in one of the five passages whose sentences the sentence model chooses among;
- sentence@1 as the product answers (a "not in the reports" reply shows no sentence), the answering sentence chosen
  with the threshold at 0 (every reply shows one), and the chooser's rate: the latter over the questions whose
  evidence was among the candidates;
- the reader's rate: right short answers (threshold 0) over the questions whose answering sentence was chosen;
- short answers as the product gives them, and at threshold 0;
- the bound: the short answers the product would reach with every answering sentence right and the reader as it
  is (the reader's rate at threshold 0), and the reader's rate the bars need together (short answers 0.75 with
  sentence@1 at its bar of 0.85: 0.75 / 0.85). Both hold because a right short answer almost never comes from a
  wrong sentence: the row "right short, wrong sentence" counts the ones that did;
- then the reader's rate by the kind of answer the set's authors gave (its "type").

Nothing per question is printed or written: test may be scored here, never read (bench/answer_diff.py dumps the
fitting sets for reading).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers import ROOT, SETS, corpus, index_for  # noqa: E402

BARS = {"short": 0.75, "sentence@1": 0.85}


def ask(name: str, assistants: dict, answer_at: float | None) -> list[dict]:
    from tipqa.answering import scoring
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    from tipqa.evaluate import evaluate, load_items
    file, kind = SETS[name]
    if kind not in assistants:
        folder = corpus(kind, ROOT / "bench" / ".cache" / "answers")
        assistants[kind] = Assistant.open(settings=load_settings(corpus_dir=folder, index_dir=index_for(folder)),
                                          progress=lambda f, m: None)
    product = scoring.models
    if answer_at is not None:
        models = dataclasses.replace(product(), answer_at=answer_at, closest_at=0.0)
        scoring.models = lambda: models
    try:
        rows = evaluate(assistants[kind], load_items(ROOT / "eval" / file))["questions"]
    finally:
        scoring.models = product
    return [r for r in rows if r["answerable"]]


def share(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "-"


def stages(asked: list[dict], open_: list[dict]) -> dict:
    """The stage figures of one set: ASKED as the product answers, OPEN with the threshold at 0 (same questions)."""
    n = len(asked)
    candidates = [r for r in open_ if r["rank"] is not None]
    chosen = [r for r in open_ if r["sentence_ok"]]
    read = sum(bool(r["answer_ok"]) for r in chosen)
    return {"answerable": n,
            "candidates": share(len(candidates), n),
            "sentence@1 (product)": share(sum(bool(r["sentence_ok"]) for r in asked), n),
            "sentence chosen (threshold 0)": share(len(chosen), n),
            "chooser": share(sum(bool(r["sentence_ok"]) for r in candidates), len(candidates)),
            "reader (threshold 0)": share(read, len(chosen)),
            "short (product)": share(sum(bool(r["answer_ok"]) for r in asked), n),
            "short (threshold 0)": share(sum(bool(r["answer_ok"]) for r in open_), n),
            "right short, wrong sentence (threshold 0)": sum(bool(r["answer_ok"]) and not r["sentence_ok"]
                                                              for r in open_),
            "bound: every sentence right": f"{read / len(chosen):.3f}" if chosen else "-",
            "reader the bars need": f"{BARS['short'] / BARS['sentence@1']:.3f}"}


def by_type(open_: list[dict]) -> dict[str, str]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in open_:
        if r["sentence_ok"]:
            counts[r["type"]][0] += 1
            counts[r["type"]][1] += bool(r["answer_ok"])
    return {kind: share(right, chosen) for kind, (chosen, right) in sorted(counts.items(), key=lambda kv: -kv[1][0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev7,test")
    args = parser.parse_args()
    names = args.sets.split(",")
    unknown = [n for n in names if n not in SETS]
    if unknown:
        raise SystemExit(f"unknown set(s) {', '.join(unknown)}: choose among {', '.join(SETS)}")
    assistants: dict = {}
    figures, kinds = {}, {}
    for name in names:
        asked, open_ = ask(name, assistants, None), ask(name, assistants, 0.0)
        figures[name], kinds[name] = stages(asked, open_), by_type(open_)
    print("| stage | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for stage in figures[names[0]]:
        print(f"| {stage} | " + " | ".join(str(figures[n][stage]) for n in names) + " |")
    print("\nthe reader's rate (threshold 0) by the kind of answer, over the questions whose answering sentence was "
          "chosen:\n\n| kind | " + " | ".join(names) + " |\n|---|" + "---|" * len(names))
    for kind in dict.fromkeys(k for n in names for k in kinds[n]):
        print(f"| {kind} | " + " | ".join(kinds[n].get(kind, "-") for n in names) + " |")


if __name__ == "__main__":
    main()
