"""Answer quality on the question sets, through Assistant.ask: passage hit@1/3, the answering sentence, the short
answer, wrong "not in the reports" on answerable questions and abstention on unanswerable ones, overall and by
language.

    python bench/answers.py [--sets dev,test,seed,heldout] [--json] [--misses dev] [--grep REGEX] [--by-type]
                            [--report FILE --corpus seed]

--report FILE asks only the questions written on that report (one report, not two); --corpus seed asks them of
the seed report alone, e.g. the fitting sets' questions on the seed, a stand-in for the held-back seed set:
`--sets dev,dev2,dev3,dev4,officers --report oas-rtp-ii-2009-buenos-aires-report.txt --corpus seed`.

dev_qa.jsonl and test_qa.jsonl were written over the nine reports (corpus/ plus tests/data/corpus-extra) by people
who never saw the code; they are asked of an index of those nine. seed_qa.jsonl and heldout_qa.jsonl are asked
of the seed report alone. Tune on dev only; test is the held-out score (never tuned on, never edited).
Indexes are cached under bench/.cache/answers (one per model) and refreshed incrementally.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EXTRA, ROOT, SEED, emit, log, machine  # noqa: E402

SETS = {"dev": ("dev_qa.jsonl", "nine"), "dev2": ("dev2_qa.jsonl", "nine"), "dev3": ("dev3_qa.jsonl", "nine"),
        "dev4": ("dev4_qa.jsonl", "nine"), "dev5": ("dev5_qa.jsonl", "nine"),
        "dev6": ("dev6_qa.jsonl", "nine"), "dev7": ("dev7_qa.jsonl", "nine"),
        "officers": ("officers_qa.jsonl", "nine"),
        "test": ("test_qa.jsonl", "nine"),
        "seed": ("seed_qa.jsonl", "seed"), "heldout": ("heldout_qa.jsonl", "seed")}
COLUMNS = [("hit@1", "hit@1"), ("hit@3", "hit@3"), ("sent@1", "sentence@1"), ("answer", "answer_accuracy"),
           ("notfound.ans", "not_found_answerable"), ("noans.ans", "abstain_answerable"),
           ("abst.unans", "abstain_unanswerable")]


def corpus(kind: str, cache: Path) -> Path:
    """The corpus folder of a kind: the seed report alone, or the nine reports."""
    folder = cache / kind / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    files = [SEED, SEED.with_name(SEED.name + ".meta.json")]
    if kind == "nine":
        files += sorted(p for p in EXTRA.iterdir() if p.suffix in (".txt", ".md") and p.name != "SOURCES.md")
    for path in files:
        target = folder / path.name
        if not target.exists() or target.read_bytes() != path.read_bytes():
            shutil.copy2(path, target)
    return folder


def index_for(folder: Path) -> Path:
    """The cached index of a corpus folder for the configured model (one folder per model: an index built with
    another model is refused, as it should be)."""
    from tipqa.config import load_settings
    from tipqa.text import slugify
    return folder.parent / f"index-{slugify(load_settings().model)}"


def reports_of(path: Path) -> list[list[str]]:
    """The report(s) each question of a set was written on, in file order ([] where none is named)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            report = json.loads(line).get("report") or []
            out.append([report] if isinstance(report, str) else list(report))
    return out


def row(label: str, summary: dict) -> str:
    cells = " ".join(f"{summary[key]:>12.3f}" if summary.get(key) is not None else f"{'-':>12}" for _, key in COLUMNS)
    return f"{label:12}{summary['questions']:>5} {cells}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev,test,seed,heldout")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument("--misses", default="", help="print the wrong answers of these sets (never 'test' while tuning)")
    parser.add_argument("--grep", default="", help="ask only the questions matching this regular expression "
                        "(case-insensitive), e.g. the officer questions: 'rapporteur|relator|vice|presid|chair'")
    parser.add_argument("--by-type", action="store_true", help="also print short-answer accuracy by answer type")
    parser.add_argument("--report", default="", help="ask only the questions written on this report (its file name)")
    parser.add_argument("--corpus", choices=("seed", "nine"), default=None,
                        help="ask every set of this corpus (default: each set's own)")
    args = parser.parse_args()
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    from tipqa.evaluate import evaluate, load_items
    cache = ROOT / "bench" / ".cache" / "answers"
    assistants = {}
    results = {}
    print(f"{'set':12}{'n':>5} " + " ".join(f"{name:>12}" for name, _ in COLUMNS))
    for name in args.sets.split(","):
        file, kind = SETS[name]
        kind = args.corpus or kind
        if kind not in assistants:
            folder = corpus(kind, cache)
            settings = load_settings(corpus_dir=folder, index_dir=index_for(folder))
            assistants[kind] = Assistant.open(settings=settings, progress=lambda f, m: None)
        started = time.perf_counter()
        items = [i for i, report in zip(load_items(ROOT / "eval" / file), reports_of(ROOT / "eval" / file))
                 if re.search(args.grep, i.question, re.I) and (not args.report or report == [args.report])]
        result = evaluate(assistants[kind], items)
        log(f"{name}: {len(result['questions'])} questions in {time.perf_counter() - started:.1f} s")
        results[name] = result
        print(row(name, result["overall"]))
        for lang, summary in result["by_language"].items():
            print(row(f"  {lang}", summary))
        if args.by_type:
            for kind_asked, summary in sorted(result["by_type"].items(), key=lambda kv: -kv[1]["questions"]):
                print(row(f"  {kind_asked}", summary))
    for name in filter(None, args.misses.split(",")):
        print(f"\n{name}: questions not answered right")
        for r in results[name]["questions"]:
            if not r["answer_ok"] or (r["answerable"] and r["rank"] != 1):
                print(f"  [{r['rank']}] {r['question']}\n      -> {r['answer']!r} (expected {r['expected']!r})"
                      f"  sentence: {(r['sentence'] or '')[:110]!r}")
    if args.json:
        emit("answers", {"machine": machine(), "sets": {name: {"overall": r["overall"], "by_language": r["by_language"]}
                                                      for name, r in results.items()}})


if __name__ == "__main__":
    main()
