"""Which document? A question asking for a document's symbol or number ('Which 2004 resolution dealt with organised
crime in the Hemisphere?', '¿Con qué signatura figura el temario aprobado en Buenos Aires?') is answered from the
documents the top passages cite, each read with the words that say what it is (its gloss): the title quoted
beside it ('AG/RES. 2026 (XXXIV-O/04), “Lucha contra la delincuencia organizada transnacional en el
Hemisferio”'), the words before its parentheses ('adopted its agenda (RTP-II/doc.2/09 rev. 3 corr. 1)'), else
its clause ('resolution 53/111 of 9 December 1998, in which the Assembly decided to establish ...').

A list of eight resolutions is one sentence to the sentence model, and which of its symbols answers is a matter of
which title means what the question asks: the question is compared with every gloss by the embedding model (in
any language), and the best answers when it stands clear of the rest by the margin bench/fit_documents.py set
on the development sets (documents.json); else the question is answered the usual way.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..language.entities import find_documents
from .retrieval import Hit
from .spans import _LEGAL

DOCUMENTS_FILE = Path(__file__).with_name("documents.json")
PASSAGES = 5  # documents are read from this many top passages
_QUOTE = r"[“\"«]([^”\"»]{8,400})[”\"»]"
# 'AG/RES. 2026 (XXXIV-O/04), “title”'; 'AG/RES. 2432 (XXXVIII-O/08) y AG/RES. 2486 (XXXIX-O/09), “their title”'
_AFTER_SYMBOL = re.compile(rf"^\s*(?:\([^()]{{1,30}}\))?\s*(?:(?:y|and)\s+[A-Z][^,“\"]{{2,40}}?)?,?\s*{_QUOTE}")
# '“title,” contained in document RTP-II/doc.5/09 rev. 9'; '“title” (documento RTP-II/INF.12/09'
_QUOTE_BEFORE = re.compile(rf"{_QUOTE}[,\s]*(?:(?:\w+\s+){{0,3}}?(?:documents?|documento)\s*"
                           r"|\(\s*(?:documents?|documento)?\s*)$", re.I)


@dataclass(frozen=True)
class Cited:
    symbol: str  # as the text gives it
    gloss: str  # the words that say what it is
    hit: Hit
    start: int  # the sentence citing it, as offsets in the passage
    end: int


def cited_documents(hits: list[Hit], passages: int = PASSAGES) -> list[Cited]:
    """Every document the top PASSAGES passages cite, once per passage, with its gloss."""
    out = []
    for hit in hits[:passages]:
        text, seen = hit.chunk.text, set()
        for start, end in hit.chunk.sentences:
            sentence = text[start:end]
            symbols = _symbols(sentence)
            for i, (symbol, a, b) in enumerate(symbols):
                if symbol in seen or any(re.fullmatch(r"\s*\(\s*", sentence[e:a]) for _, _, e in symbols[:i]):
                    continue  # 'RTP-II/INF.12/09 (RA00091)': the same document's other number
                seen.add(symbol)
                out.append(Cited(symbol, gloss(sentence, a, b), hit, start, end))
    return out


_SESSION = re.compile(r"\s*\([IVXLC]+-[A-Z]/\d\d\)")  # 'AG/RES. 2026 (XXXIV-O/04)': the session is part of it


def _symbols(sentence: str) -> list[tuple[str, int, int]]:
    found = []
    for e in find_documents(sentence):
        session = _SESSION.match(sentence, e.end)
        end = session.end() if session else e.end
        found.append((sentence[e.start:end], e.start, end))
    for m in _LEGAL.finditer(sentence):
        if not any(a < m.end() and m.start() < b for _, a, b in found):
            found.append((m.group(0), m.start(), m.end()))
    return sorted(found, key=lambda f: f[1])


def gloss(sentence: str, start: int, end: int) -> str:
    """What the sentence says the document at START:END is."""
    after = _AFTER_SYMBOL.match(sentence[end:])
    if after:
        return after.group(1)
    before = _QUOTE_BEFORE.search(sentence[max(0, start - 420):start])
    if before:
        return before.group(1)
    head = sentence[:start]
    if head.rstrip().endswith("("):  # 'adopted its agenda (RTP-II/doc.2/09 ...)'
        words = re.split(r"[,;:]|\band\b|\by\b", head.rstrip()[:-1])[-1]
        return " ".join(words.split()[-8:]) or sentence
    clause_start = max(head.rfind(";"), head.rfind(","), -1) + 1 if len(head) > 120 else 0
    tail = sentence[end:]
    stop = [m.start() for m in (re.search(";", tail), _NEXT_SYMBOL.search(tail)) if m]
    tail = tail[:min(stop)] if stop else tail  # up to the clause's end or the next document it names
    return (sentence[clause_start:start] + sentence[start:end] + tail)[:300].strip()


_NEXT_SYMBOL = re.compile(rf"{_LEGAL.pattern}|\b[A-Z]+/[A-Z]+", re.I)


@functools.lru_cache(maxsize=1)
def _settings() -> dict | None:
    return json.loads(DOCUMENTS_FILE.read_text(encoding="utf-8")) if DOCUMENTS_FILE.exists() else None


def years_fit(question: str, cited: Cited) -> bool:
    """A year the question names must be the document's (its symbol's '-O/04', '53/111 of ... 1998', its
    gloss or its sentence)."""
    years = set(re.findall(r"\b(?:19|20)\d\d\b", question))
    if not years:
        return True
    text = cited.hit.chunk.text[cited.start:cited.end]
    own = set(re.findall(r"\b(?:19|20)\d\d\b", cited.symbol + " " + cited.gloss))
    near = text[max(0, text.find(cited.symbol)):][:len(cited.symbol) + 40]
    own |= set(re.findall(r"\b(?:19|20)\d\d\b", near))
    own |= {("20" if int(y) < 50 else "19") + y for y in re.findall(r"[-/](\d\d)\b(?!/)", near)}
    return bool(years & own)


def scored(question: str, query: np.ndarray, cited: list[Cited], embed,
           reports: set[str] | None = None) -> list[tuple[float, Cited]]:
    """(cosine of question and gloss, document), best first; documents of another year left out, and those of
    reports other than REPORTS (the ones whose meeting the question names) when any is of them.
    embed(texts) -> unit vectors, as passages are embedded."""
    kept = [c for c in cited if years_fit(question, c)]
    if reports is not None and any(c.hit.chunk.report_id in reports for c in kept):
        kept = [c for c in kept if c.hit.chunk.report_id in reports]
    if not kept:
        return []
    vectors = np.asarray(embed([c.gloss for c in kept]), dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    cosines = vectors @ (q / max(float(np.linalg.norm(q)), 1e-12))
    return sorted(zip(cosines.tolist(), kept), key=lambda pair: -pair[0])


def pick(question: str, query: np.ndarray, hits: list[Hit], embed, model: str,
         reports: set[str] | None = None) -> tuple[Cited, float] | None:
    """The document that answers, with its cosine, when its gloss stands clear of the others' by the fitted margin
    (and above the fitted floor); None otherwise, or with no settings fitted for this embedding model."""
    settings = _settings()
    if settings is None or settings.get("model") != model:
        return None
    ranked = scored(question, query, cited_documents(hits), embed, reports)
    if not ranked:
        return None
    best, runner = ranked[0][0], (ranked[1][0] if len(ranked) > 1 else settings["floor"])
    if best < settings["floor"] or best - runner < settings["margin"]:
        return None
    return ranked[0][1], best


def precision() -> float:
    """The share of the step's picks that were right where it was fitted: the confidence of its answers."""
    settings = _settings()
    return float(settings["precision"]) if settings else 0.0
