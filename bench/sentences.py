"""Sentence splitting: tipqa's splitter against pysbd and blingfire on hand-labelled real report paragraphs.

    python bench/sentences.py [--gold tests/data/sentences_gold.jsonl] [--show NAME] [--json]

Gold: tests/data/sentences_gold.jsonl, paragraphs of the real reports (the seed report and tests/data/corpus-extra,
the UNODC chapter both from its .txt and from its PDF through tipqa's loaders), each with its sentences labelled
by hand. Conventions of the labels: a footnote number glued after a full stop ('population.3 Alongside') ends the
sentence; a closing quote or bracket after the stop belongs to the sentence it closes; a list's number or letter
('1.', 'a)', 'i.', 'Inc. b)') opens its item's sentence; a full stop inside a quoted title of a citation is no
boundary; a sentence boundary the text left unpunctuated (a heading glued to its paragraph) is still a boundary.

Scores, per language: boundary precision, recall and F1 (a boundary is the start of every sentence but the first,
after spaces and bullets), and exact paragraphs (every boundary right). Speed: sentences per second over every
paragraph of every report (the seed, all of tests/data/corpus-extra and the UNODC PDF), best of 3, and the share
of a build that splitting would take at the build's ~40 passages/s (each passage is split about twice: once as a
paragraph for attribution and packing, once as a chunk).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipqa.ingest.reports import load_report  # noqa: E402
from tipqa.store.lexical import language  # noqa: E402
from tipqa import text as tipqa_text  # noqa: E402

GOLD = ROOT / "tests" / "data" / "sentences_gold.jsonl"
EXTRA = ROOT / "tests" / "data" / "corpus-extra"
BUILD_PASSAGES_PER_S = 40.0
_SKIP = " \t\r\n•◦▪●‣⁃->*"


def _pysbd(lang: str):
    import pysbd
    return pysbd.Segmenter(language=lang, clean=False, char_span=True)


_SEGMENTERS: dict[str, object] = {}


def pysbd_spans(text: str) -> list[tuple[int, int]]:
    lang = language(text)
    if lang not in _SEGMENTERS:
        _SEGMENTERS[lang] = _pysbd(lang)
    return [(s.start, s.end) for s in _SEGMENTERS[lang].segment(text)]


def blingfire_spans(text: str) -> list[tuple[int, int]]:
    import blingfire
    _, offsets = blingfire.text_to_sentences_and_offsets(text)
    return [tuple(o) for o in offsets]


def with_tipqa_rules(spans_of):
    """A library's spans, then tipqa's own rules: a line break ends a sentence, a long run is capped."""
    def split(text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for start, end in spans_of(text):
            tipqa_text._append_span(text, start, end, spans)
        return tipqa_text._cap_length(text, tipqa_text._split_lines(text, spans))
    return split


SPLITTERS = {
    "tipqa": tipqa_text.sentence_spans,
    "pysbd": pysbd_spans,
    "blingfire": blingfire_spans,
    "pysbd+rules": with_tipqa_rules(pysbd_spans),
    "blingfire+rules": with_tipqa_rules(blingfire_spans),
}


def _start(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SKIP:
        at += 1
    return at


def boundaries(text: str, spans) -> set[int]:
    return {_start(text, start) for start, _ in list(spans)[1:]}


def gold_spans(record: dict) -> list[tuple[int, int]]:
    text, at, spans = record["text"], 0, []
    for sentence in record["sentences"]:
        start = text.index(sentence, at)
        spans.append((start, start + len(sentence)))
        at = start + len(sentence)
    return spans


def score(records: list[dict], split) -> dict:
    tp = fp = fn = exact = 0
    for record in records:
        gold = boundaries(record["text"], gold_spans(record))
        got = boundaries(record["text"], split(record["text"]))
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
        exact += gold == got
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"paragraphs": len(records), "boundaries": tp + fn, "precision": round(precision, 3),
            "recall": round(recall, 3), "f1": round(f1, 3), "exact": round(exact / len(records), 3),
            "false_splits": fp, "missed": fn}


def corpus_paragraphs() -> list[str]:
    files = [ROOT / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt"]
    files += sorted(p for p in EXTRA.iterdir() if p.is_file() and p.suffix in (".txt", ".md") and p.name != "SOURCES.md")
    files += sorted((EXTRA / "raw").glob("*.pdf"))
    paragraphs = []
    for path in files:
        for section in load_report(path).sections:
            paragraphs += [p for p in ([section.subtitle] if section.subtitle else []) + list(section.paragraphs)]
    return paragraphs


def speed(paragraphs: list[str], split) -> dict:
    best, sentences = float("inf"), 0
    for _ in range(3):
        started = time.perf_counter()
        sentences = sum(len(split(p)) for p in paragraphs)
        best = min(best, time.perf_counter() - started)
    chars = sum(len(p) for p in paragraphs)
    per_passage = best / chars * 700 * 2  # a 700-character passage, split twice
    return {"sentences": sentences, "seconds": round(best, 3), "sentences_per_s": round(sentences / best),
            "build_share": round(per_passage * BUILD_PASSAGES_PER_S, 4)}


def show(records: list[dict], split) -> None:
    for record in records:
        text = record["text"]
        gold = boundaries(text, gold_spans(record))
        got = boundaries(text, split(text))
        for kind, where in (("MISSED", gold - got), ("FALSE", got - gold)):
            for at in sorted(where):
                print(f"{kind:6} {record['language']} {Path(record['source']).name[:28]}#{record['paragraph']}: "
                      f"...{text[max(0, at - 50):at]}|{text[at:at + 30]}...")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--show", choices=sorted(SPLITTERS), help="print the boundaries this splitter gets wrong")
    parser.add_argument("--json", dest="json_", action="store_true")
    args = parser.parse_args()
    records = [json.loads(line) for line in args.gold.open(encoding="utf-8") if line.strip()]
    if args.show:
        show(records, SPLITTERS[args.show])
        return
    paragraphs = corpus_paragraphs()
    results = {}
    for name, split in SPLITTERS.items():
        results[name] = {lang: score([r for r in records if r["language"] == lang], split) for lang in ("en", "es")}
        results[name]["all"] = score(records, split)
        results[name]["speed"] = speed(paragraphs, split)
    if args.json_:
        print(json.dumps(results, indent=2))
        return
    print(f"{'splitter':16} {'lang':4} {'P':>6} {'R':>6} {'F1':>6} {'exact':>6} {'false':>5} {'miss':>5}")
    for name, rows in results.items():
        for lang in ("en", "es", "all"):
            r = rows[lang]
            print(f"{name:16} {lang:4} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} {r['exact']:6.3f} "
                  f"{r['false_splits']:5d} {r['missed']:5d}")
    print(f"\nspeed over {len(paragraphs)} paragraphs ({sum(len(p) for p in paragraphs):,} characters), best of 3:")
    for name, rows in results.items():
        s = rows["speed"]
        print(f"{name:16} {s['sentences']:6d} sentences {s['seconds']:7.3f} s {s['sentences_per_s']:9,d} sentences/s "
              f"share of a build at {BUILD_PASSAGES_PER_S:.0f} passages/s: {100 * s['build_share']:.2f} %")


if __name__ == "__main__":
    main()
