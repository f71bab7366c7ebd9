"""Checks a question set before it is committed or scored: each line's fields, each evidence string verbatim in its
report, no question repeated word for word from another set (a development question that is also a test question
is fitted on and scored), and no run of three words copied from the evidence into the question (names and numbers
excepted: a word with a capital or a digit).

    python bench/check_questions.py eval/dev7_qa.jsonl [--against eval/*_qa.jsonl]

Prints each problem and a count; exits 1 when there is one. --against: the sets a repeated question is looked for
in (default: every other eval/*_qa.jsonl). The reports are corpus/ and tests/data/corpus-extra/.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"question", "answer", "aliases", "evidence", "report", "type", "lang"}
_WORD = re.compile(r"[\wÀ-ÿ'’-]+")


def reports() -> dict[str, str]:
    folders = (ROOT / "corpus", ROOT / "tests" / "data" / "corpus-extra")
    return {p.name: p.read_text(encoding="utf-8") for folder in folders for p in folder.glob("*.*")
            if p.suffix in (".txt", ".md")}


def normalised(question: str) -> str:
    return " ".join(question.lower().split())


def copied_run(question: str, evidence: str) -> str | None:
    """A run of three words of the question that the evidence has too, none of them a name or a number."""
    words = _WORD.findall(question)
    said = f" {' '.join(w.lower() for w in _WORD.findall(evidence))} "
    for i in range(len(words) - 2):
        run = words[i:i + 3]
        if any(w[0].isupper() or any(c.isdigit() for c in w) for w in run):
            continue
        if f" {' '.join(w.lower() for w in run)} " in said:
            return " ".join(run)
    return None


def problems(path: Path, others: list[Path], texts: dict[str, str]) -> list[str]:
    elsewhere: dict[str, str] = {}
    for other in others:
        for line in other.read_text(encoding="utf-8").splitlines():
            if line.strip():
                elsewhere.setdefault(normalised(json.loads(line)["question"]), other.name)
    found = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            found.append(f"line {n}: not JSON ({error})")
            continue
        if normalised(item.get("question", "")) in elsewhere:
            found.append(f"line {n}: the same question as in {elsewhere[normalised(item['question'])]}")
        if set(item) != FIELDS:
            found.append(f"line {n}: fields {sorted(item)}, expected {sorted(FIELDS)}")
            continue
        if item["answer"] is None:
            if item["evidence"] is not None or item["report"] is not None:
                found.append(f"line {n}: unanswerable, but evidence or report given")
            continue
        evidence = item["evidence"] if isinstance(item["evidence"], list) else [item["evidence"]]
        named = item["report"] if isinstance(item["report"], list) else [item["report"]] * len(evidence)
        for text, report in zip(evidence, named):
            if report not in texts:
                found.append(f"line {n}: no report {report!r}")
            elif text not in texts[report]:
                found.append(f"line {n}: evidence not verbatim in {report}: {text[:60]!r}")
            run = copied_run(item["question"], text)
            if run:
                found.append(f"line {n}: copies '{run}' from its evidence")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--against", type=Path, nargs="*")
    args = parser.parse_args()
    others = args.against if args.against is not None else sorted((ROOT / "eval").glob("*_qa.jsonl"))
    others = [p for p in others if p.resolve() != args.path.resolve()]
    found = problems(args.path, others, reports())
    for problem in found:
        print(problem)
    print(f"{args.path.name}: {len(found)} problems")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
