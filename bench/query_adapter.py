"""Would a learnt linear map of the question vector (W = I + D) rank passages and sentences better for a report it
was not fitted on?

    python bench/query_adapter.py [--l2 0.1] [--steps 150] [--within]

Every answerable question of the fitting sets (dev ... dev6, officers) with evidence is a row: its e5 question
vector, and which of the nine reports' passages and stored sentence vectors hold its evidence (evaluate.
contains_evidence, sentence_matches). D is fitted by gradient descent on the softmax loss over all passages and
all sentences (temperature 0.01, e5's), L2-shrunk towards the plain question vector. It is scored leaving one
report out: fitted on the questions about the other eight, then the left-out report's questions are ranked
against every passage and sentence of the corpus. --within fits each question's softmax over its own report's
passages only, so the map cannot learn which reports were asked about. Prints dense-only hit@1/5/10 (passages)
and hit@1/5 (sentences), without and with the map. bench/README.md, "A learnt query map, and the answer gate".
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, log  # noqa: E402
from answer_diff import assistant_for  # noqa: E402

SETS = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6", "officers")
TEMPERATURE = 0.01


def rows():
    from tipqa.evaluate import contains_evidence, sentence_matches
    from tipqa.ingest.reports import report_id_for
    assistant = assistant_for("nine")
    data = assistant.data
    chunks = data.chunks
    passages = np.asarray(data.all_vectors(), dtype=np.float32)
    sentences, owner, texts = [], [], []
    for i, chunk in enumerate(chunks):
        for (a, b), vector in zip(chunk.sentences, data.sentences.rows(i, len(chunk.sentences))):
            if vector.any():  # a zero row: not stored
                sentences.append(vector)
                owner.append(chunk.report_id)
                texts.append(chunk.text[a:b])
    items = [json.loads(line) for name in SETS
             for line in (ROOT / "eval" / f"{name}_qa.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [r for r in items if r.get("answer") and r.get("evidence")]
    log(f"{len(items)} questions, {len(chunks)} passages, {len(texts)} sentences")
    questions = np.stack([assistant.question_embedder.embed_query(r["question"]) for r in items]).astype(np.float32)
    evidence = [r["evidence"] if isinstance(r["evidence"], list) else [r["evidence"]] for r in items]
    in_passage = np.array([[any(contains_evidence(c.text, e) for e in ev) for c in chunks] for ev in evidence])
    in_sentence = np.array([[any(sentence_matches(t, e) for e in ev) for t in texts] for ev in evidence])
    report = np.array([report_id_for(Path(r["report"][0] if isinstance(r["report"], list) else r["report"]))
                       for r in items])  # a question that needs two reports belongs to the first
    return (questions, report, (passages, in_passage, np.array([c.report_id for c in chunks])),
            (np.array(sentences, dtype=np.float32), in_sentence, np.array(owner)))


def fit(questions, report, targets, idx, l2: float, steps: int, within: bool, rate: float = 0.002) -> np.ndarray:
    d = questions.shape[1]
    delta = np.zeros((d, d), dtype=np.float32)
    for _ in range(steps):
        mapped = questions[idx] @ (np.eye(d, dtype=np.float32) + delta).T
        grad_q = np.zeros_like(mapped)
        for vectors, relevant, owner in targets:
            z = mapped @ vectors.T / TEMPERATURE
            if within:
                z = np.where(owner[None, :] == report[idx][:, None], z, -1e9)
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            rel = relevant[idx]
            target = rel / np.maximum(rel.sum(axis=1, keepdims=True), 1)
            grad_q += ((p - target) * rel.any(axis=1)[:, None]) @ vectors / TEMPERATURE
        delta -= rate * (grad_q.T @ questions[idx] / len(idx) + l2 * delta)
    return np.eye(d, dtype=np.float32) + delta


def hits(mapped, targets, idx) -> dict[str, float]:
    out = {}
    for label, (vectors, relevant, _), ks in (("passage", targets[0], (1, 5, 10)), ("sentence", targets[1], (1, 5))):
        order = np.argsort(-(mapped @ vectors.T), axis=1)
        rel = relevant[idx]
        some = rel.any(axis=1)
        for k in ks:
            out[f"{label}@{k}"] = float(np.take_along_axis(rel, order[:, :k], axis=1).any(axis=1)[some].sum())
        out[f"{label} n"] = float(some.sum())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--l2", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--within", action="store_true", help="fit each question's softmax over its own report only")
    args = parser.parse_args()
    questions, report, passages, sentences = rows()
    targets = (passages, sentences)
    plain, mapped = {}, {}
    for name in sorted(set(report)):
        held = np.flatnonzero(report == name)
        train = np.flatnonzero(report != name)
        w = fit(questions, report, targets, train, args.l2, args.steps, args.within)
        for total, vectors in ((plain, questions[held]), (mapped, questions[held] @ w.T)):
            for key, value in hits(vectors, targets, held).items():
                total[key] = total.get(key, 0.0) + value
        log(f"left out {name}")

    def rates(total):
        return {k: round(v / total[f"{k.split('@')[0]} n"], 3) for k, v in total.items() if "@" in k}
    print(f"one report left out, dense only (l2 {args.l2}, {args.steps} steps{', within' if args.within else ''}):")
    print(f"  question as encoded: {rates(plain)}")
    print(f"  mapped:              {rates(mapped)}")


if __name__ == "__main__":
    main()
