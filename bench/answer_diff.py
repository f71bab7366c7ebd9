"""Per-question answers of the fitting sets, and what changed between two versions of the code.

    python bench/answer_diff.py dump OUT.jsonl [--sets dev,dev2,...] [--answer-at 0]
    python bench/answer_diff.py diff BEFORE.jsonl AFTER.jsonl
    python bench/answer_diff.py signals DUMP.jsonl
    python bench/answer_diff.py losses DUMP.jsonl
    python bench/answer_diff.py pieces DUMP.jsonl

dump asks every question of the sets (default: the fitting sets and officers, never test) through Assistant.ask
and writes one line per question (its set, report, answer, whether it is right, the sentence, the confidence).
Run it on a checkout of each version (e.g. a `git worktree` of the earlier commit, with PYTHONPATH at its src) to
get "+6 right, -1" as the ninth session's notes give them. --answer-at 0 shows every pick (the short answer the
answer model would withhold too), to label picks right or wrong for `signals`.

signals measures two answer signals on such a dump (made with --answer-at 0), beside the answer model's own
probability, in a five-fold logistic model (scikit-learn): how much closer the question comes to the chosen
sentence with one of its words removed (`drop`: a word the sentence lacks), and token-level MaxSim between the
question and the sentence (e5's contextual token vectors, both encoded as questions; ONNX encoder only). It prints
each one's AUC added to the probability, and alone. Neither was kept (bench/README.md, "Meetings named, every
state's demonyms, echoes").

losses counts where a dump's answerable questions are lost (made with --answer-at 0, so the threshold is not one
of the causes): the evidence in none of the passages, in a passage below the first or in the first but another
sentence chosen, the right sentence with a wrong short answer or none; then the same by the kind of answer the
question rules read (questions.analyse: "other" for open questions and for those the kind model reads). pieces
counts, on such a dump, the "other" questions whose right sentence got a wrong short answer although another of the
rules' pieces of it is right.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers import ROOT, SETS, corpus, index_for, reports_of  # noqa: E402

FITTING = "dev,dev2,dev3,dev4,dev5,dev6,officers,seed,heldout"
FIELDS = ("question", "answer", "expected", "answer_ok", "answerable", "rank", "sentence", "sentence_ok",
          "confidence", "lang")


def assistant_for(kind: str):
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    folder = corpus(kind, ROOT / "bench" / ".cache" / "answers")
    return Assistant.open(settings=load_settings(corpus_dir=folder, index_dir=index_for(folder)),
                          progress=lambda f, m: None)


def dump(out: Path, sets: str, answer_at: float | None) -> None:
    from tipqa.answering import scoring
    from tipqa.evaluate import evaluate, load_items
    if answer_at is not None:  # every pick shown: the short answer the threshold would withhold too
        models = dataclasses.replace(scoring.models(), answer_at=answer_at, closest_at=0.0)
        scoring.models = lambda: models
    assistants = {}
    with out.open("w", encoding="utf-8") as sink:
        for name in sets.split(","):
            if name == "test":
                raise SystemExit("answer_diff.py never dumps test: it is scored once, by bench/answers.py")
            file, kind = SETS[name]
            if kind not in assistants:
                assistants[kind] = assistant_for(kind)
            result = evaluate(assistants[kind], load_items(ROOT / "eval" / file))
            for row, reports in zip(result["questions"], reports_of(ROOT / "eval" / file)):
                record = {"set": name, "report": reports[0] if reports else None, **{k: row.get(k) for k in FIELDS}}
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            print(f"{name}: {sum(r['answer_ok'] for r in result['questions'])} of {len(result['questions'])} right",
                  flush=True)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def diff(before: Path, after: Path) -> None:
    a, b = load(before), load(after)
    if [r["question"] for r in a] != [r["question"] for r in b]:
        raise SystemExit("the two dumps hold different questions: dump the same sets with both versions")
    for x, y in zip(a, b):
        if x["answer"] != y["answer"] or x["answer_ok"] != y["answer_ok"]:
            print(f"{x['set']:9} {'right' if x['answer_ok'] else 'wrong'} -> {'right' if y['answer_ok'] else 'wrong'}"
                  f" | {x['question'][:90]} | {x['answer']!r} -> {y['answer']!r} (expected {x['expected']!r})")
    print(f"\n{'set':9} {'right before':>12} {'after':>6} {'declined before':>16} {'after':>6}")
    for name in dict.fromkeys(r["set"] for r in a):
        def count(rows, unanswerable_only=False):
            return sum(r["answer_ok"] for r in rows if r["set"] == name and not (unanswerable_only and r["answerable"]))
        print(f"{name:9} {count(a):>12} {count(b):>6} {count(a, True):>16} {count(b, True):>6}")
    print(f"{'all':9} {sum(r['answer_ok'] for r in a):>12} {sum(r['answer_ok'] for r in b):>6}")


def _dropped_word(assistant, question: str, sentence: str) -> float:
    """How much closer the question comes to the sentence with one of its words removed (the largest gain)."""
    words = list(re.finditer(r"[\wÀ-ÿ'’-]{3,}", question))
    variants = [re.sub(r"\s+", " ", question[:m.start()] + question[m.end():]) for m in words]
    if not variants:
        return 0.0
    vectors = assistant.sentence_vectors([question, sentence] + variants, as_questions=True)
    return float((vectors[2:] @ vectors[1]).max() - vectors[0] @ vectors[1])


def token_states(assistant, text: str, before: str = "") -> tuple[np.ndarray, np.ndarray]:
    """TEXT's contextual token vectors as the ONNX encoder reads "query: " + BEFORE + TEXT (at most 256 tokens),
    and their character offsets in TEXT; the prompt's and BEFORE's tokens are left out."""
    from tipqa.encoders.onnx_bert import _feed
    bert, session = assistant.sentence_embedder._bert, assistant.sentence_embedder._sessions[0]
    head = bert.prompts.get("query", "") + before
    encoding = bert.tokenizer.encode(head + text)
    states = session.run(None, _feed(bert, np.asarray([encoding.ids[:256]], dtype=np.int64)))[1][0]
    offsets = np.array(encoding.offsets[:256]).reshape(-1, 2) - len(head)
    keep = (np.asarray(encoding.special_tokens_mask[:256]) == 0) & (offsets[:, 0] >= 0)
    return states[keep], offsets[keep]


def _maxsim(assistant, question: str, sentence: str) -> list[float]:
    """Each question token's best cosine with the sentence's tokens: their mean, minimum and lower quartile."""
    def tokens(text: str) -> np.ndarray:
        states = token_states(assistant, text)[0]
        return states / np.linalg.norm(states, axis=1, keepdims=True)

    best = (tokens(question) @ tokens(sentence).T).max(axis=1)
    return [float(best.mean()), float(best.min()), float(np.quantile(best, 0.25))]


def signals(path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from tipqa.encoders.onnx_bert import OnnxEmbedder
    rows = [r for r in load(path) if SETS[r["set"]][1] == "nine" and r["sentence"]]
    assistant = assistant_for("nine")
    columns = {"drop": [_dropped_word(assistant, r["question"], r["sentence"]) for r in rows]}
    if isinstance(assistant.sentence_embedder, OnnxEmbedder):
        sims = np.array([_maxsim(assistant, r["question"], r["sentence"]) for r in rows])
        columns.update({"maxsim_mean": sims[:, 0], "maxsim_min": sims[:, 1], "maxsim_q25": sims[:, 2]})
    else:
        print("MaxSim needs the ONNX encoder (TIPQA_ENCODER=fast); measured the word-removal signal only")
    right = np.array([bool(r["answerable"] and r["answer_ok"] and r["answer"]) for r in rows])
    answerable = np.array([bool(r["answerable"]) for r in rows])
    p = np.clip([r["confidence"] for r in rows], 1e-4, 1 - 1e-4)
    logit = np.log(p / (1 - p))
    folds = np.random.default_rng(0).integers(0, 5, len(rows))

    def held_out_auc(x: np.ndarray) -> float:
        x = (x - x.mean(0)) / (x.std(0) + 1e-9)
        out = np.zeros(len(rows))
        for k in range(5):
            train = folds != k
            out[~train] = LogisticRegression(max_iter=1000).fit(x[train], right[train]).predict_proba(x[~train])[:, 1]
        return roc_auc_score(right, out)

    print(f"{len(rows)} picks, {right.sum()} right; answer probability alone: AUC {held_out_auc(logit[:, None]):.4f}")
    for name, values in columns.items():
        values = np.asarray(values)
        print(f"  + {name:12} AUC {held_out_auc(np.c_[logit, values]):.4f};"
              f" alone: right {roc_auc_score(right, values):.4f}, answerable {roc_auc_score(answerable, values):.4f}")


def losses(path: Path) -> None:
    rows = [r for r in load(path) if r["answerable"]]
    causes = {
        "evidence in none of the passages": [r for r in rows if not r["sentence_ok"] and r["rank"] is None],
        "evidence in passage 2-5, another sentence chosen": [r for r in rows if not r["sentence_ok"] and r["rank"]
                                                              and r["rank"] > 1],
        "evidence in passage 1, another sentence chosen": [r for r in rows if not r["sentence_ok"] and r["rank"] == 1],
        "right sentence, wrong short answer": [r for r in rows if r["sentence_ok"] and r["answer"]
                                               and not r["answer_ok"]],
        "right sentence, no short answer": [r for r in rows if r["sentence_ok"] and not r["answer"]],
    }
    print(f"{len(rows)} answerable, {sum(r['answer_ok'] for r in rows)} right")
    for cause, lost in causes.items():
        print(f"  {cause:50} {len(lost):5}")
    from tipqa.answering.questions import analyse
    kinds = {r["question"]: analyse(r["question"]).expected for r in rows}
    print(f"\nby the kind of answer the question rules read ('other': open, or left to the kind model):\n"
          f"  {'kind':14} {'questions':>9} {'right':>6} {'right sentence':>15} {'its short answer wrong':>23}"
          f" {'none':>5}")
    for kind in sorted(set(kinds.values()), key=lambda k: -list(kinds.values()).count(k)):
        of = [r for r in rows if kinds[r["question"]] == kind]
        chosen = [r for r in of if r["sentence_ok"]]
        print(f"  {kind:14} {len(of):>9} {sum(r['answer_ok'] for r in of):>6} {len(chosen):>15}"
              f" {sum(bool(r['answer']) and not r['answer_ok'] for r in chosen):>23}"
              f" {sum(not r['answer'] for r in chosen):>5}")


def pieces(path: Path) -> None:
    """Of the answerable "other" questions whose answering sentence was chosen: how many got a right short answer,
    and of the rest, for how many another piece of that sentence (spans.other_pieces over the whole sentence, as
    the rules cut it) would be right: what a better choice among the rules' pieces could win at most."""
    from tipqa.answering.questions import analyse
    from tipqa.answering.spans import other_pieces
    from tipqa.evaluate import answer_matches
    aliases = {}
    for file in (ROOT / "eval").glob("*_qa.jsonl"):
        for item in load(file):
            aliases[item["question"]] = item.get("aliases", [])
    asked = right = another = 0
    for r in load(path):
        if not (r["answerable"] and r["sentence_ok"]):
            continue
        q = analyse(r["question"])
        if q.expected != "other":
            continue
        asked += 1
        golds = [r["expected"], *aliases.get(r["question"], [])]
        if r["answer_ok"]:
            right += 1
        elif any(answer_matches(a, golds) for a, _ in other_pieces(q, r["sentence"], (0, len(r["sentence"])))):
            another += 1
    print(f'"other" questions with the right sentence: {asked}; right short answer {right}; wrong, but another '
          f"piece of the sentence right {another}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    d = commands.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--sets", default=FITTING)
    d.add_argument("--answer-at", type=float, default=None)
    c = commands.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    s = commands.add_parser("signals")
    s.add_argument("dump", type=Path)
    losses_parser = commands.add_parser("losses")
    losses_parser.add_argument("dump", type=Path)
    pieces_parser = commands.add_parser("pieces")
    pieces_parser.add_argument("dump", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.sets, args.answer_at)
    elif args.command == "diff":
        diff(args.before, args.after)
    elif args.command == "losses":
        losses(args.dump)
    elif args.command == "pieces":
        pieces(args.dump)
    else:
        signals(args.dump)


if __name__ == "__main__":
    main()
