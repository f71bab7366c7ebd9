"""The question sets: no question of eval/test_qa.jsonl (scored, never fitted on) may stand in a set the models are
fitted on (two did, word for word, in dev and dev2 until the sixteenth session; bench/check_questions.py finds them
too)."""
from __future__ import annotations

import json
from pathlib import Path

EVAL = Path(__file__).resolve().parents[1] / "eval"


def _questions(path: Path) -> set[str]:
    return {" ".join(json.loads(line)["question"].lower().split())
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def test_no_test_question_stands_in_another_set():
    test = _questions(EVAL / "test_qa.jsonl")
    others = sorted(p for p in EVAL.glob("*_qa.jsonl") if p.name != "test_qa.jsonl")
    assert len(test) >= 150 and len(others) >= 8
    repeated = {p.name: sorted(test & _questions(p)) for p in others}
    assert not any(repeated.values()), {name: qs for name, qs in repeated.items() if qs}
