"""Passage hit@1/hit@3 on the question sets, English and Spanish apart, per model and fusion; fits the fusion.

    python bench/qa_retrieval.py [--model ID] [--sets eval/test_qa.jsonl] [--pool] [--product]
                                 [--fit eval/dev_qa.jsonl [eval/dev2_qa.jsonl ...] [--fit-scifact ../shared/bench/scifact]]

The corpus is the nine reports (corpus/ plus tests/data/corpus-extra/*.txt|md), indexed with the product's
Indexer into bench/.cache/ (one index per model). A passage is a hit when it contains the evidence, or, for a
two-report question (a list of evidence strings), any of them (evaluate.contains_evidence on each).
Rows: the retrieval variants computed from the same question vectors and BM25 scores (plain RRF, the
product's fusion, dense only, BM25 only; the Spanish glossary on or off; BM25 in each passage's language), then
by the language asked in and the evidence's, and with --product the passages of
`Assistant.ask` (extraction's reranking included). --fit fits the fusion's logistic weights on the given set
(dev only: test is for checking) and prints them for answering/retrieval.py.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# --src DIR scores another source tree (e.g. `git archive main | tar -x -C /tmp/main`: the "before" figures)
SRC = Path(sys.argv[sys.argv.index("--src") + 1]) if "--src" in sys.argv else ROOT / "src"
sys.path.insert(0, str(SRC))

from tipqa.answering import retrieval  # noqa: E402
from tipqa.answering.answer import retrieval_text  # noqa: E402
from tipqa.assistant import Assistant  # noqa: E402
from tipqa.config import DEFAULT_MODEL, load_settings  # noqa: E402
from tipqa.evaluate import contains_evidence, norm  # noqa: E402
from tipqa.store.lexical import language  # noqa: E402

CACHE = ROOT / "bench" / ".cache"


def log(message: str) -> None:
    print(f"qa_retrieval: {message}", file=sys.stderr, flush=True)


def corpus_dir() -> Path:
    """The nine reports in one folder (copied once; sidecars kept)."""
    target = CACHE / "qa-corpus"
    if not target.exists():
        partial = CACHE / "qa-corpus.tmp"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for path in [*(ROOT / "corpus").iterdir(), *(ROOT / "tests" / "data" / "corpus-extra").iterdir()]:
            if path.is_file() and (path.suffix in (".txt", ".md") or path.name.endswith(".meta.json")) \
                    and path.name != "SOURCES.md":
                shutil.copy2(path, partial / path.name)
        partial.rename(target)
    return target


def open_assistant(model: str) -> Assistant:
    slug = model.replace("/", "_") + ("" if SRC == ROOT / "src" else "-other-src")
    settings = load_settings(model=model, corpus_dir=corpus_dir(), index_dir=CACHE / f"qa-index-{slug}")
    return Assistant.open(settings=settings)


def load_items(path: Path) -> list[dict]:
    items = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    for item in items:
        evidence = item.get("evidence")
        item["targets"] = [evidence] if isinstance(evidence, str) else list(evidence or [])
    return [item for item in items if item["targets"]]


def hit_rank(texts: list[str], targets: list[str]) -> int | None:
    for rank, text in enumerate(texts, start=1):
        if any(contains_evidence(text, target) for target in targets):
            return rank
    return None


def features(assistant: Assistant, items: list[dict]) -> list[dict]:
    """Per question: the vectors and BM25 scores of both renderings (question as asked; glossary English)."""
    data = assistant.data
    out = []
    for item in items:
        question = item["question"]
        english = retrieval_text(question)
        out.append({"item": item,
                    "q_vec": assistant.question_embedder.embed_query(question),
                    "g_vec": assistant.question_embedder.embed_query(english) if english != question else None,
                    "q_text": question, "g_text": english})
    passages = getattr(features, "passages", None)
    if passages is None or len(passages) != len(data.chunks):  # evaluate.contains_evidence, passages normalised once
        passages = features.passages = [norm(chunk.text) for chunk in data.chunks]
    relevant = np.zeros((len(items), len(data.chunks)), dtype=bool)
    for i, item in enumerate(items):
        for target in map(norm, item["targets"]):
            relevant[i] |= np.array([bool(target) and (target in p or (len(p) >= 40 and p in target))
                                     for p in passages])
    languages = retrieval.passage_languages(data)
    for record, row in zip(out, relevant):
        record["relevant"] = row
        record["item"]["report_lang"] = languages[int(np.argmax(row))] if row.any() else "?"
    return out


def variant_ranks(data, records: list[dict], dense_glossary: bool | str, lexical_glossary: bool | str, mode: str,
                  fusion: str | None = None, each_language: bool = False) -> list[int | None]:
    """dense_glossary: False (the question's vector), True (the rendering's) or "mean" (their normalised mean);
    lexical_glossary: False (the question as asked), True (the glossary rendering), "both" (the two texts
    together) or "routed" (the rendering, the question's own words for passages in its language: as asked)."""
    ranks = []
    for record in records:
        vector = record["g_vec"] if dense_glossary and record["g_vec"] is not None else record["q_vec"]
        if dense_glossary == "mean" and record["g_vec"] is not None \
                and language(record["q_text"]) != language(record["g_text"]):  # asked in Spanish
            vector = record["q_vec"] + record["g_vec"]
            vector = vector / np.linalg.norm(vector)
        text = record["g_text"] if lexical_glossary else record["q_text"]
        if lexical_glossary == "both" and record["g_text"] != record["q_text"]:
            text = f"{record['q_text']} {record['g_text']}"
        asked = record["q_text"] if lexical_glossary == "routed" else None
        hits = retrieval.search(data, vector, text, k=5, mode=mode, fusion=fusion, asked=asked,
                                each_language=each_language)
        found = [r for r, hit in enumerate(hits, start=1) if record["relevant"][hit.row]]
        ranks.append(found[0] if found else None)
    return ranks


def summary(items: list[dict], ranks: list[int | None], by_report_language: bool = False) -> str:
    """hit@1/hit@3 over all questions and by the language asked in; BY_REPORT_LANGUAGE: hit@1/hit@5 by the
    language asked in and that of the passage holding the evidence ('en>es': English questions on Spanish
    reports)."""
    groups = defaultdict(list)
    for item, rank in zip(items, ranks):
        groups["all"].append(rank)
        groups[item.get("lang", "en")].append(rank)
        groups[f"{item.get('lang', 'en')}>{item.get('report_lang', '?')}"].append(rank)
    names, depth = (["en>en", "en>es", "es>en", "es>es"], 5) if by_report_language else (["all", "en", "es"], 3)
    cells = []
    for name in names:
        rs = groups.get(name, [])
        if rs:
            h1 = sum(1 for r in rs if r == 1) / len(rs)
            hk = sum(1 for r in rs if r is not None and r <= depth) / len(rs)
            cells.append(f"{name} {h1:.3f}/{hk:.3f} (n={len(rs)})")
    return " | ".join(cells)


def scifact_train(folder: Path, model: str):
    """(collection, questions) of SciFact's train split for retrieval.fit_fusion: its documents and their sentences
    embedded as bench/scifact.py embeds them (int8, cached), its questions through the numpy pass."""
    import scifact
    from tipqa.store.lexical import BM25
    docs, _, _ = scifact.load(folder, "test")
    texts = [f"{d['title']} {d['text']}".strip() for d in docs]
    query, documents = scifact.make_embedders(model, "onnx-int8", CACHE)
    spans = [scifact.sentence_spans_of(d["title"], d["text"]) for d in docs]
    vectors, sentences = scifact.passage_vectors(documents, texts, spans, CACHE)
    collection = scifact.Collection(query.model_id, vectors, BM25.build(texts), sentences, spans)
    position = {d["_id"]: i for i, d in enumerate(docs)}
    _, queries, qrels = scifact.load(folder, "train")
    questions = []
    for qid, text in queries.items():
        relevant = np.zeros(len(docs), dtype=bool)
        relevant[[position[d] for d, grade in qrels[qid].items() if grade > 0 and d in position]] = True
        questions.append((query.embed_query(text), text, relevant))
    return collection, questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--sets", nargs="+", type=Path, default=[ROOT / "eval" / "test_qa.jsonl"])
    parser.add_argument("--product", action="store_true", help="also score Assistant.ask's passages")
    parser.add_argument("--fit", type=Path, nargs="+",
                        help="fit the fusion on these sets (development sets only; several: their questions pooled)")
    parser.add_argument("--src", type=Path, help="source tree to score (default: this one's src/)")
    parser.add_argument("--only-product", action="store_true", help="score only Assistant.ask's passages")
    parser.add_argument("--pool", action="store_true", help="score the sets' questions together, as one set")
    parser.add_argument("--fit-scifact", type=Path, metavar="DIR",
                        help="with --fit: SciFact's train split (BEIR layout in DIR) weighs as much as the set in the fit")
    args = parser.parse_args()
    assistant = open_assistant(args.model)
    data = assistant.data
    log(f"{args.model}: {len(data.chunks)} passages")
    if args.fit:
        records = features(assistant, [item for path in args.fit for item in load_items(path)])
        also = (scifact_train(args.fit_scifact, data.model_id),) if args.fit_scifact else ()
        weights = retrieval.fit_fusion(data, [(r["q_vec"], r["q_text"], r["relevant"]) for r in records], also=also)
        fitted_on = " + ".join(path.name for path in args.fit) + (" + SciFact train" if also else "")
        print(f"fitted on {fitted_on}: FUSION_WEIGHTS = {tuple(round(float(w), 3) for w in weights)}")
        retrieval.FUSION_WEIGHTS[data.model_id] = tuple(float(w) for w in weights)
    sets = [(path.name, load_items(path)) for path in args.sets]
    if args.pool:
        sets = [(" + ".join(name for name, _ in sets), [item for _, items in sets for item in items])]
    for name, items in sets:
        print(f"\n{name} ({args.model}, {SRC}), passage hit@1/hit@3 over {len(items)} questions with evidence")
        if args.only_product:
            ranks = [hit_rank([p.text for p in assistant.ask(item["question"]).passages], item["targets"])
                     for item in items]
            print(f"  {'product (Assistant.ask passages)':38} {summary(items, ranks)}")
            continue
        records = features(assistant, items)
        variants = [("dense only", False, False, "dense", None), ("BM25 only", False, False, "lexical", None),
                    ("BM25 only, glossary", False, True, "lexical", None),
                    ("hybrid RRF", False, False, "hybrid", "rrf"),
                    ("hybrid RRF, glossary both sides", True, True, "hybrid", "rrf"),
                    ("hybrid RRF, glossary BM25 only", False, True, "hybrid", "rrf"),
                    ("hybrid learned", False, False, "hybrid", "learned"),
                    ("hybrid learned, glossary BM25 only", False, True, "hybrid", "learned"),
                    ("hybrid learned, BM25 question + glossary", False, "both", "hybrid", "learned"),
                    ("hybrid learned, BM25 routed", False, "routed", "hybrid", "learned")]
        for name, dense_g, lex_g, mode, fusion in variants:
            ranks = variant_ranks(data, records, dense_g, lex_g, mode, fusion)
            print(f"  {name:38} {summary(items, ranks)}")
        # by the language asked in and the evidence's (hit@1/hit@5): BM25 in the passage's language, each
        # language's best passage among the five (the product's retrieval, as Assistant.ask searches), and with
        # it a Spanish question's vector averaged with its rendering's (tried, not kept: bench/README.md)
        print("  by the language asked in > the evidence's, hit@1/hit@5:")
        for name, dense_g, lex_g, each in (("hybrid learned, glossary BM25 only", False, True, False),
                                           ("hybrid learned, BM25 routed", False, "routed", False),
                                           ("... and each language's best passage", False, "routed", True),
                                           ("... and the mean question vector", "mean", "routed", True)):
            ranks = variant_ranks(data, records, dense_g, lex_g, "hybrid", "learned", each_language=each)
            print(f"  {name:38} {summary(items, ranks, by_report_language=True)}")
        if args.product:
            ranks = [hit_rank([p.text for p in assistant.ask(item["question"]).passages], item["targets"])
                     for item in items]
            print(f"  {'product (Assistant.ask passages)':38} {summary(items, ranks)}")


if __name__ == "__main__" and "--calibrate" not in sys.argv:
    main()


def calibrate(path: Path, questions: int = 80) -> None:
    """Mean and spread of e5's question-sentence cosines matched to all-MiniLM-L6-v2's on the same pairs (the
    scale the answer step's weights and thresholds were set on): prints (a, b) for COSINE_CALIBRATION."""
    from tipqa.config import E5_MODEL, MINILM_MODEL
    from tipqa.encoders import query_embedder
    e5 = open_assistant(E5_MODEL)
    minilm = query_embedder(load_settings(model=MINILM_MODEL))
    pairs_e5, pairs_minilm = [], []
    for item in load_items(path)[:questions]:
        question = item["question"]
        hits = e5.search(question, k=3)
        sentences = [h.chunk.text[a:b] for h in hits for a, b in h.chunk.sentences]
        pairs_e5 += list(e5.embedder.embed_documents(sentences) @ e5.embedder.embed_query(question))
        english = retrieval_text(question)  # MiniLM was given the English rendering
        pairs_minilm += list(minilm.embed_documents(sentences) @ minilm.embed_query(english))
    x, y = np.asarray(pairs_e5), np.asarray(pairs_minilm)
    a = y.std() / x.std()
    b = y.mean() - a * x.mean()
    print(f"{len(x)} pairs: e5 mean {x.mean():.3f} sd {x.std():.3f}; MiniLM mean {y.mean():.3f} sd {y.std():.3f}; "
          f"correlation {np.corrcoef(x, y)[0, 1]:.3f}; COSINE_CALIBRATION = ({a:.3f}, {b:.3f})")


if __name__ == "__main__" and "--calibrate" in sys.argv:
    calibrate(ROOT / "eval" / "dev_qa.jsonl")
