"""A learned reader tried for issue 13 and not kept: a linear span probe over e5's contextual token vectors of the
question and its answering sentence encoded together ('query: <question> passage: <sentence>').

    python bench/answer_diff.py dump ALL0.jsonl --answer-at 0 --sets dev,dev2,dev3,dev4,dev5,dev6,officers
    python bench/span_probe.py ALL0.jsonl [--c 0.1]

For every answerable question of dev..dev6 whose answering sentence the product chose (so the reader is judged
where the product's short answer is), two logistic models over the sentence's token vectors learn where the gold
answer starts and ends (the answer or an alias found in the sentence); five folds grouped by the evidence (the same
fact asked in other words stays on one side). The best span (start + end logits, at most 16 tokens, widened to
whole words) is scored as the product's short answers are (evaluate.answer_matches) and printed beside the
product's, by the kind of answer the question rules read; also what it gives where the product has no short answer,
and where its own score is highest.
No extractive (SQuAD) model ships its weights on the registries here; this asks whether the encoder the index
already uses reads answers with a head learnt from our own questions. ONNX encoder only (TIPQA_ENCODER=fast).
eval/test_qa.jsonl is never read.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answer_diff import assistant_for, load, token_states  # noqa: E402
from answers import ROOT, SETS  # noqa: E402

SETS_READ = ("dev", "dev2", "dev3", "dev4", "dev5", "dev6")
LONGEST = 16  # tokens


def best_span(sentence: str, offsets: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[str, float]:
    """The span with the best start + end logit (at most LONGEST tokens, widened to whole words), and that logit."""
    score, pick = -np.inf, (0, 0)
    for a in range(len(start)):
        for b in range(a, min(len(start), a + LONGEST)):
            if start[a] + end[b] > score:
                score, pick = start[a] + end[b], (a, b)
    a, b = offsets[pick[0]][0], offsets[pick[1]][1]
    while a > 0 and re.match(r"[\wÀ-ÿ]", sentence[a - 1]):
        a -= 1
    while b < len(sentence) and re.match(r"[\wÀ-ÿ]", sentence[b]):
        b += 1
    return sentence[a:b], float(score)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", type=Path)
    parser.add_argument("--c", type=float, default=0.1, help="the probes' inverse L2 penalty")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from tipqa.answering.questions import analyse
    from tipqa.encoders.onnx_bert import OnnxEmbedder
    from tipqa.evaluate import answer_matches, load_items, norm
    items = {it.question: it for name in SETS_READ for it in load_items(ROOT / "eval" / SETS[name][0]) if it.answer}
    rows = [r for r in load(args.dump) if r["answerable"] and r["sentence_ok"] and r["question"] in items]
    assistant = assistant_for("nine")
    if not isinstance(assistant.sentence_embedder, OnnxEmbedder):
        raise SystemExit("the probe reads the ONNX encoder's token vectors: run with TIPQA_ENCODER=fast")
    data = []
    for r in rows:
        item = items[r["question"]]
        golds = [item.answer, *item.aliases]
        states, offsets = token_states(assistant, r["sentence"], before=r["question"] + " passage: ")
        starts, ends = np.zeros(len(states)), np.zeros(len(states))
        found = next((m for g in golds if (m := re.search(re.escape(g.strip(" .")), r["sentence"], re.I))), None)
        inside = [i for i, (a, b) in enumerate(offsets) if found and a < found.end() and found.start() < b]
        if inside:
            starts[inside[0]], ends[inside[-1]] = 1, 1
        data.append({"row": r, "golds": golds, "states": states, "offsets": offsets, "starts": starts, "ends": ends,
                     "group": norm(item.evidence[0] if item.evidence else item.answer)[:60]})
    spans, sureness = [None] * len(data), np.zeros(len(data))
    for train, held in GroupKFold(5).split(np.zeros(len(data)), groups=[d["group"] for d in data]):
        train = [data[i] for i in train if data[i]["starts"].any()]
        x = np.vstack([d["states"] for d in train])
        start = LogisticRegression(C=args.c, max_iter=2000).fit(x, np.concatenate([d["starts"] for d in train]))
        end = LogisticRegression(C=args.c, max_iter=2000).fit(x, np.concatenate([d["ends"] for d in train]))
        for i in held:
            d = data[i]
            spans[i], sureness[i] = best_span(d["row"]["sentence"], d["offsets"], start.decision_function(d["states"]),
                                              end.decision_function(d["states"]))
    product = np.array([bool(d["row"]["answer_ok"]) for d in data])
    probe = np.array([answer_matches(span, d["golds"]) for span, d in zip(spans, data)])
    none = np.array([not d["row"]["answer"] for d in data])
    kinds = np.array([analyse(d["row"]["question"]).expected for d in data])
    print(f"{len(data)} answerable questions whose answering sentence was chosen "
          f"({sum(d['starts'].any() for d in data)} with the answer in it), C={args.c}")
    print(f"  {'kind':14} {'questions':>9} {'product':>8} {'probe':>6} {'either':>7}")
    for kind in sorted(set(kinds), key=lambda k: -(kinds == k).sum()):
        m = kinds == kind
        print(f"  {kind:14} {m.sum():>9} {product[m].sum():>8} {probe[m].sum():>6} {(product | probe)[m].sum():>7}")
    print(f"  {'all':14} {len(data):>9} {product.sum():>8} {probe.sum():>6} {(product | probe).sum():>7}")
    print(f"where the product gives no short answer: the probe right for {probe[none].sum()} of {none.sum()}")
    surest = sureness >= np.quantile(sureness, 0.9)  # can its own score tell when to take its answer?
    print(f"where the probe is surest (its top tenth by start + end logit, {surest.sum()} questions): the product "
          f"right for {product[surest].sum()}, the probe for {probe[surest].sum()}")


if __name__ == "__main__":
    main()
