"""Stored sentence vectors vs encoding every candidate sentence: the evaluation sets, question by question.

The build stores each sentence's vector from its passage's run (in context); answers rescore the best
extract.RESCORE sentences with their own encoding. This compares, on one index of the seed report, the
evaluation figures and the per-question outcome (answer right, evidence sentence right) of:
  - stored: the default path, with RESCORE = 0 (no rescoring), 1, 2 and 3;
  - encoded: every candidate sentence encoded on its own (the index's stored vectors set aside).

    python bench/answer_sentences.py [--sets eval/seed_qa.jsonl,eval/heldout_qa.jsonl]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, log, machine  # noqa: E402

KEYS = ("hit@1", "sentence@1", "answer_accuracy", "abstain_unanswerable", "abstain_answerable")


def outcomes(assistant, items) -> tuple[dict, list[tuple]]:
    from tipqa import evaluate
    result = evaluate.evaluate(assistant, items)
    return ({k: result["overall"][k] for k in KEYS},
            [(q["answer_ok"], q["sentence_ok"], q["abstained"]) for q in result["questions"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="eval/seed_qa.jsonl,eval/heldout_qa.jsonl")
    args = parser.parse_args()
    from tipqa import evaluate
    from tipqa.answering import extract
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    default = extract.RESCORE
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(corpus_dir=ROOT / "corpus", index_dir=Path(tmp) / "index")
        assistant = Assistant.open(settings=settings, progress=lambda f, m: None)
        if assistant.data.sentences is None:
            sys.exit("this index has no stored sentence vectors (TIPQA_ENCODER=torch?)")
        for name in args.sets.split(","):
            items = evaluate.load_items(ROOT / name)
            stored = assistant.data.sentences
            assistant.data.sentences = None
            encoded, reference = outcomes(assistant, items)
            assistant.data.sentences = stored
            row = {"set": name, "questions": len(items), "encoded": encoded, "stored": {}}
            for rescore in (0, 1, 2, default):
                extract.RESCORE = rescore
                figures, per_question = outcomes(assistant, items)
                differ = sum(a != b for a, b in zip(per_question, reference))
                row["stored"][f"rescore_{rescore}"] = {**figures, "questions_differing_from_encoded": differ}
                log(f"{name}: RESCORE={rescore}: {differ} questions differ from encoding every sentence")
            extract.RESCORE = default
            emit("answer_sentences", {"machine": machine(), **row})


if __name__ == "__main__":
    main()
