"""`tipqa eval QA.jsonl`: passage hit@1/3/5 and MRR, the answering sentence, short-answer accuracy and
abstention, overall and by answer type and language.

Each line of QA.jsonl: {"question": ..., "answer": "Brazil" | null, "aliases": [...]?, "evidence": "..."
or ["...", "..."]?, "type": "country"?, "lang": "es"?}. A passage is a hit when it contains the evidence text
(one of them, for a question that needs two reports; without evidence, the answer); the sentence is right when it
and an evidence text overlap; the short answer is right when it names the same thing as the answer or an alias
(same country/organisation/person/date/symbol, the same list of items, or the same words). "Not in the reports"
is a reply with neither a short answer nor an answering sentence; a reply with only the closest sentence is not.
"""
from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .errors import TipqaError
from .language.entities import find_entities, fold, normalise_symbol
from .language.glossary import is_spanish


class EvalFileError(TipqaError):
    pass


@dataclass
class Item:
    question: str
    answer: str | None
    aliases: list[str]
    evidence: list[str]  # empty: none given
    type: str
    lang: str


def load_items(path: Path) -> list[Item]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise EvalFileError(f"Cannot read {path}: {error.strerror}. Give a JSON-lines file of questions.") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            question = record["question"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise EvalFileError(f"{path}:{number} is not a JSON object with a \"question\" field; "
                                f"each line needs {{\"question\": ..., \"answer\": ... or null}}.") from None
        answer = record.get("answer")
        evidence = record.get("evidence") or []
        items.append(Item(question, answer, list(record.get("aliases") or []),
                          [evidence] if isinstance(evidence, str) else list(evidence),
                          record.get("type") or ("none" if answer is None else "any"),
                          record.get("lang") or ("es" if is_spanish(question) else "en")))
    if not items:
        raise EvalFileError(f"{path} holds no questions. Add one JSON object per line.")
    return items


# ---- matching ---------------------------------------------------------------------------------------

_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*\)")


def norm(text: str) -> str:
    # a Markdown link counts as its text: '[Código Penal](http://...)' as the passage shows it, 'Código Penal'
    text = fold(_MARKDOWN_LINK.sub(r"\1", text)).replace("’", "'")
    text = re.sub(r"\b(the|a|an|mr|mrs|ms|dr|ambassador|minister|undersecretary|el|la|los|las)\b\.?", " ", text)
    return " ".join(re.findall(r"[a-z0-9]+(?:[./-][a-z0-9]+)*", text))


def _items(text: str) -> list[str]:
    return [p.strip() for p in re.split(r",\s*(?:and\s+)?|;\s*|\s+and\s+|\s+y\s+", text) if p.strip()]


def _ids(text: str) -> list[str] | None:
    """Canonical ids of every item of a list, or None when an item is not a known entity.

    Entities are first read from the whole text, so 'Office on Drugs and Crime' is not cut at its 'and'."""
    whole = [e for e in find_entities(text, case_sensitive=False) if e.kind != "number"]
    leftover = text
    for e in sorted(whole, key=lambda e: -e.start):
        leftover = leftover[:e.start] + " " + leftover[e.end:]
    if whole and not re.sub(r"\b(?:and|y|the)\b|[\s,;.]", "", leftover):
        return list(dict.fromkeys(e.canonical_id for e in whole))
    ids = []
    for item in _items(text):
        found = [e for e in find_entities(item, case_sensitive=False) if e.kind != "number"]
        if not found or sum(e.end - e.start for e in found) < 0.5 * len(item.strip(" .")):
            return None
        ids.append(found[0].canonical_id)
    return list(dict.fromkeys(ids)) or None


def _token_f1(pred: str, gold: str) -> float:
    p, g = norm(pred).split(), norm(gold).split()
    common = sum(min(p.count(w), g.count(w)) for w in set(p))
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def answer_matches(pred: str | None, golds: list[str]) -> bool:
    if not pred:
        return False
    for gold in golds:
        p, g = norm(pred), norm(gold)
        if p == g or normalise_symbol(pred) == normalise_symbol(gold):
            return True
        pred_ids, gold_ids = _ids(pred), _ids(gold)
        if pred_ids and gold_ids and set(pred_ids) == set(gold_ids):
            return True
        if g and g in p and len(p.split()) <= len(g.split()) + 3:
            return True  # 'Ambassador Raúl Ricardes' for 'Raúl Ricardes'
        if _same_date(pred, gold) or (len(g.split()) >= 4 and _token_f1(pred, gold) >= 0.6):
            return True
    return False


def _same_date(pred: str, gold: str) -> bool:
    dp = [e.canonical_id for e in find_entities(pred) if e.kind == "date"]
    dg = [e.canonical_id for e in find_entities(gold) if e.kind == "date"]
    return bool(dp) and dp == dg


def contains_evidence(passage: str, evidence: str) -> bool:
    """Whether the passage holds the evidence; also when the evidence runs across the passage's end (or start)
    into the next (or previous) one and the passage holds at least half of it, six words or more."""
    p, e = norm(passage), norm(evidence)
    if not e:
        return False
    if e in p or (len(p) >= 40 and p in e):
        return True
    words = e.split()
    for n in range(len(words) - 1, max(5, (len(words) + 1) // 2) - 1, -1):
        if p.endswith(" ".join(words[:n])) or p.startswith(" ".join(words[-n:])):
            return True
    return False


def sentence_matches(sentence: str | None, evidence: str) -> bool:
    if not sentence:
        return False
    s, e = norm(sentence), norm(evidence)
    # a sentence inside the evidence is it only if it says something: '2.' or '2024.' (a list number, a stray line)
    # is inside many an evidence without being its sentence
    return bool(e) and (e in s or (len(s.split()) >= 4 and s in e))


# ---- running ----------------------------------------------------------------------------------------

def evaluate(assistant, items: list[Item], k: int = 5, progress=None) -> dict:
    """Ask every question and score the answers. Returns {'overall': {...}, 'by_type', 'by_language', 'questions'}."""
    rows = []
    for n, item in enumerate(items, start=1):
        answer = assistant.ask(item.question, k=k)
        rows.append(_score(item, answer))
        if progress:
            progress(n / len(items), f"eval {n}/{len(items)}")
    return {"overall": summarise(rows), "by_type": _grouped(rows, "type"), "by_language": _grouped(rows, "lang"),
            "questions": rows}


def _score(item: Item, answer) -> dict:
    targets = item.evidence or ([item.answer] if item.answer else [])
    ranks = [p.rank for p in answer.passages
             if any(contains_evidence(p.text, target) for target in targets)
             or (targets and not item.evidence and _mentions(p.text, item))]
    sentence = answer.evidence.sentence if answer.evidence else None
    golds = [item.answer, *item.aliases] if item.answer else []
    return {
        "question": item.question, "type": item.type, "lang": item.lang, "expected": item.answer,
        "answer": answer.answer, "answer_type": answer.answer_type, "confidence": answer.confidence,
        "answerable": item.answer is not None, "rank": min(ranks) if ranks else None,
        "sentence_ok": any(sentence_matches(sentence, e) for e in item.evidence) if item.answer else None,
        "has_evidence": bool(item.evidence),
        "answer_ok": answer_matches(answer.answer, golds) if item.answer else answer.answer is None,
        "abstained": answer.answer is None, "not_found": answer.answer is None and answer.evidence is None,
        "sentence": sentence,
    }


def _mentions(text: str, item: Item) -> bool:
    return any(norm(g) and norm(g) in norm(text) for g in [item.answer, *item.aliases] if g)


def summarise(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    ranked = answerable
    with_evidence = [r for r in answerable if r["has_evidence"]]
    unanswerable = [r for r in rows if not r["answerable"]]

    def rate(items, test):
        return round(sum(map(test, items)) / len(items), 4) if items else None

    return {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "hit@1": rate(ranked, lambda r: r["rank"] == 1),
        "hit@3": rate(ranked, lambda r: r["rank"] is not None and r["rank"] <= 3),
        "hit@5": rate(ranked, lambda r: r["rank"] is not None and r["rank"] <= 5),
        "mrr": rate(ranked, lambda r: 1 / r["rank"] if r["rank"] else 0.0),
        "sentence@1": rate(with_evidence, lambda r: r["sentence_ok"]),
        "answer_accuracy": rate(answerable, lambda r: r["answer_ok"]),
        "abstain_unanswerable": rate(unanswerable, lambda r: r["abstained"]),
        "abstain_answerable": rate(answerable, lambda r: r["abstained"]),
        "not_found_answerable": rate(answerable, lambda r: r["not_found"]),
        "not_found_unanswerable": rate(unanswerable, lambda r: r["not_found"]),
    }


def _grouped(rows: list[dict], key: str) -> dict:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return {name: summarise(group) for name, group in sorted(groups.items())}


def format_report(result: dict) -> str:
    names = ["hit@1", "hit@3", "hit@5", "mrr", "sentence@1", "answer_accuracy", "abstain_unanswerable",
             "abstain_answerable"]
    lines = [f"{'':14}{'n':>5} " + " ".join(f"{n:>10}" for n in ["hit@1", "hit@3", "hit@5", "MRR", "sent@1",
                                                                   "answer", "abst.unans", "abst.ans"])]

    def row(label, summary):
        cells = " ".join(f"{summary[n]:>10.3f}" if summary[n] is not None else f"{'-':>10}" for n in names)
        return f"{label:14}{summary['questions']:>5} {cells}"

    lines.append(row("overall", result["overall"]))
    lines += [row(f"type:{t}", s) for t, s in result["by_type"].items()]
    lines += [row(f"lang:{t}", s) for t, s in result["by_language"].items()]
    misses = [r for r in result["questions"] if not r["answer_ok"]]
    if misses:
        lines.append("")
        lines.append(f"wrong short answers ({len(misses)}):")
        lines += [f"  {r['question']}  -> {r['answer']!r} (expected {r['expected']!r})" for r in misses]
    return "\n".join(lines)


def _stderr(fraction: float, message: str) -> None:
    print(f"tipqa: {message}", file=sys.stderr, flush=True)
