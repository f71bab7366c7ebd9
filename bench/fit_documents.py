"""Fit the document step's floor and margin (src/tipqa/answering/documents.py -> documents.json) on the development
sets, never on test: over every question that asks for a document, the pick answers when its gloss's cosine with
the question is at least FLOOR and beats the next document's by MARGIN; the pair kept is the one that makes the
most right answers of the product with the step (its pick where it fires, the usual answer elsewhere) less its
wrong ones, across the sets pooled. Prints the figures per set (cross-validated: each set scored with the pair
fitted on the others) and writes documents.json.

    python bench/fit_documents.py [--sets dev,dev2,dev3,dev4,seed,heldout] [--dry-run] [--passages N]
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, log  # noqa: E402
from answers import SETS, corpus, index_for  # noqa: E402

FLOORS = [round(0.70 + 0.01 * i, 2) for i in range(21)]
MARGINS = [0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08]


def rows_of(assistant, items, passages: int | None = None) -> list[dict]:
    """Per question asking for a document: whether the usual answer is right / given, and the step's candidates."""
    from tipqa.evaluate import answer_matches
    rows = []
    for item in items:
        kind, ranked = assistant.documents_considered(item.question, passages)
        if kind != "document":
            continue
        usual = assistant.ask(item.question)  # documents.json absent or moved aside: the usual answer
        golds = [item.answer, *item.aliases] if item.answer else []
        rows.append({
            "answerable": item.answer is not None,
            "usual_ok": bool(golds) and answer_matches(usual.answer, golds),
            "usual_given": usual.answer is not None,
            "cosines": [c for c, _ in ranked[:2]],
            "pick_ok": bool(golds) and bool(ranked) and answer_matches(ranked[0][1].symbol, golds),
            "among": bool(golds) and any(answer_matches(cited.symbol, golds) for _, cited in ranked),
        })
    return rows


def outcome(rows: list[dict], floor: float, margin: float) -> tuple[int, int, int]:
    """(right, wrong, fired) of the product with the step at FLOOR / MARGIN."""
    right = wrong = fired = 0
    for r in rows:
        cos = r["cosines"]
        fires = bool(cos) and cos[0] >= floor and cos[0] - (cos[1] if len(cos) > 1 else floor) >= margin
        if fires:
            fired += 1
            right += r["pick_ok"]
            wrong += not r["pick_ok"]
        else:
            right += r["usual_ok"]
            wrong += r["usual_given"] and not r["usual_ok"]
    return right, wrong, fired


def best_pair(rows: list[dict]) -> tuple[float, float]:
    return max(itertools.product(FLOORS, MARGINS),
               key=lambda fm: (outcome(rows, *fm)[0] - outcome(rows, *fm)[1], fm[0], fm[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev,dev2,dev3,dev4,seed,heldout")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--passages", type=int, default=None,
                        help="read the documents of this many passages (default: the step's own, documents.PASSAGES)")
    args = parser.parse_args()
    names = args.sets.split(",")
    if "test" in names:
        raise SystemExit("test is never fitted on")
    if args.passages and not args.dry_run:
        raise SystemExit("--passages measures; it writes nothing (use --dry-run)")
    from tipqa.answering import documents
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    from tipqa.evaluate import load_items
    target = documents.DOCUMENTS_FILE
    aside = target.with_suffix(".fitting")
    if target.exists():
        target.rename(aside)  # the usual answers are scored without the step
    documents._settings.cache_clear()
    try:
        assistants, per_set = {}, {}
        for name in names:
            file, kind = SETS[name]
            if kind not in assistants:
                folder = corpus(kind, ROOT / "bench" / ".cache" / "answers")
                settings = load_settings(corpus_dir=folder, index_dir=index_for(folder))
                assistants[kind] = Assistant.open(settings=settings, progress=lambda f, m: None)
            per_set[name] = rows_of(assistants[kind], load_items(ROOT / "eval" / file), args.passages)
            log(f"{name}: {len(per_set[name])} questions ask for a document")
    finally:
        if aside.exists():
            aside.rename(target)
    print(f"{'held-out set':14}{'n':>5}{'usual right':>13}{'with step':>11}{'usual wrong':>13}{'with step':>11}"
          f"{'fired':>7}  fitted on the others")
    for name, rows in per_set.items():
        others = [r for other, rs in per_set.items() if other != name for r in rs]
        floor, margin = best_pair(others)
        usual = outcome(rows, 9.0, 9.0)
        step = outcome(rows, floor, margin)
        print(f"{name:14}{len(rows):>5}{usual[0]:>13}{step[0]:>11}{usual[1]:>13}{step[1]:>11}{step[2]:>7}"
              f"  floor {floor}, margin {margin}")
    pooled = [r for rs in per_set.values() for r in rs]
    floor, margin = best_pair(pooled)
    right, wrong, fired = outcome(pooled, floor, margin)
    fired_rows = [r for r in pooled if r["cosines"] and r["cosines"][0] >= floor
                  and r["cosines"][0] - (r["cosines"][1] if len(r["cosines"]) > 1 else floor) >= margin]
    precision = sum(r["pick_ok"] for r in fired_rows) / max(len(fired_rows), 1)
    usual = outcome(pooled, 9.0, 9.0)
    print(f"{'pooled':14}{len(pooled):>5}{usual[0]:>13}{right:>11}{usual[1]:>13}{wrong:>11}{fired:>7}"
          f"  floor {floor}, margin {margin}; picks right {precision:.3f}")
    answerable = [r for r in pooled if r["answerable"]]
    print(f"answerable: {len(answerable)}; the right document among those the passages cite: "
          f"{sum(r['among'] for r in answerable)}; the best gloss's: {sum(r['pick_ok'] for r in answerable)}")
    if not args.dry_run:
        record = {"model": settings.model, "floor": floor, "margin": margin, "precision": round(precision, 3),
                  "fitted_on": names, "questions": len(pooled), "fired": fired}
        target.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
