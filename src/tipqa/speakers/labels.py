"""Attribution scored against hand labels (eval/attribution_labels.jsonl): bench/attribution.py prints it."""
from __future__ import annotations

import json
from pathlib import Path

from ..ingest.reports import load_report
from .attribution import Attribution, attribute_sections


def evaluate_labels(label_file, root=".") -> dict:
    """Score attribution against hand labels (JSON lines: file, sentence, speakers, resolved_from).

    A sentence counts as right when its predicted set of speaker ids equals the labelled set ([] for none).
    Returns:
        {"sentences", "correct", "accuracy", "resolved_correct", "errors": [...]} ; files are relative to root.
    """
    labels = [json.loads(line) for line in Path(label_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    predicted: dict[str, dict[str, Attribution]] = {}
    for name in dict.fromkeys(item["file"] for item in labels):
        report = load_report(Path(root) / name)
        predicted[name] = {p[a.start:a.end]: a for _, p, found in attribute_sections(report.sections, report.title)
                           for a in found}
    correct, resolved, errors = 0, 0, []
    for item in labels:
        found = predicted[item["file"]].get(item["sentence"])
        ids = sorted(s["id"] for s in found.speakers) if found and found.is_statement else []
        if ids == sorted(item["speakers"]):
            correct += 1
            resolved += (found.resolved_from if found and ids else None) == (item["resolved_from"] if ids else None)
        else:
            errors.append({"sentence": item["sentence"], "expected": item["speakers"], "predicted": ids})
    return {"sentences": len(labels), "correct": correct, "accuracy": correct / max(len(labels), 1),
            "resolved_correct": resolved, "errors": errors}
