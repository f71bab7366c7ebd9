"""The kind of answer a question asks for when the question rules (questions._TYPE_RULES) find none: a softmax
model over the question's meaning, so 'Which armed movement ...?', '¿Qué ente regulador ...?' or 'What was the last
day ...?' ask for an organisation, an organisation and a date in any wording. 

Its input is the question's embedding beside the embedding of its opening words (where the kind is asked: 'which
armed movement', '¿desde cuándo'), both from the index's own model; fitted by bench/fit_kinds.py on labelled
questions (never eval/test_qa.jsonl) and stored in kinds.json for one model. With another model, or below the
probability it was validated at, the rules' answer ('other') stands.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from .questions import Question

KINDS_FILE = Path(__file__).with_name("kinds.json")
LABELS = ("country", "person", "organisation", "date", "number", "place", "document", "other")
HEAD_WORDS = 5


def opening(question: str) -> str:
    """The question's first words, where the kind of answer is asked ('Which armed movement is', '¿Desde cuándo')."""
    words = re.findall(r"[\wÀ-ÿ'’-]+", question)
    return " ".join(words[:HEAD_WORDS])


def features(query_vector: np.ndarray, opening_vector: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(query_vector, dtype=np.float64), np.asarray(opening_vector, dtype=np.float64)])


@functools.lru_cache(maxsize=1)
def _load() -> dict | None:
    if not KINDS_FILE.exists():
        return None
    record = json.loads(KINDS_FILE.read_text(encoding="utf-8"))
    record["coef"] = np.array(record["coef"], dtype=np.float64)
    record["intercept"] = np.array(record["intercept"], dtype=np.float64)
    return record


def probabilities(model: str, x: np.ndarray, record: dict | None = None) -> np.ndarray | None:
    """P(kind) for each label, or None when no model was fitted for this embedding model."""
    record = record or _load()
    if record is None or record["model"] != model or record["coef"].shape[1] != len(x):
        return None
    logits = record["coef"] @ x + record["intercept"]
    e = np.exp(logits - logits.max())
    return e / e.sum()


def refine(q: Question, model: str, query_vector: np.ndarray, embed) -> Question:
    """q with the kind the model reads in it, where the rules said 'other' and the model is sure enough.

    embed(texts, None) -> vectors of texts, as the answer step reads sentences."""
    record = _load()
    if q.expected != "other" or record is None or record["model"] != model:
        return q
    head = np.asarray(embed([opening(q.text)], None), dtype=np.float64)[0]
    p = probabilities(model, features(query_vector, head), record)
    if p is None:
        return q
    best = int(np.argmax(p))
    if LABELS[best] == "other" or p[best] < record["threshold"]:
        return q
    return replace(q, expected=LABELS[best])
