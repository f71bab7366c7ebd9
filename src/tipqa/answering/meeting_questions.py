"""Questions about the meeting a report records ("Who chaired the meeting?", "¿Dónde se celebró la reunión?"),
answered from the facts ingestion read for that report (ingest/meeting.py: its own text first, its metadata
where the text is silent, and the citation says which), never from a sentence about another meeting.

Only a bare "the meeting" / "this meeting" / "la reunión" counts: "the preparatory meeting" or "the 2012 meeting"
is an ordinary question.
"""
from __future__ import annotations

import calendar
import re

from .answer import Answer, Evidence, Passage

_MEETING = r"(?:the|this|that|la|esta)\s+(?:meeting|session|conference|reuni[oó]n|sesi[oó]n)"
_END = r"\s*(?:held|take\s+place|took\s+place|celebrada|realizada)?\s*[?.!]?\s*$"
QUESTIONS = [
    ("presiding", "person", re.compile(
        rf"^\s*¿?\s*(?:who|qui[eé]n)\s+(?:chaired|presided(?:\s+over)?|led|was\s+(?:the\s+)?(?:president|chair(?:person|man)?)"
        rf"\s+of|presidi[oó]|fue\s+(?:el|la)\s+president[ae]\s+de|encabez[oó])\s+{_MEETING}{_END}", re.I)),
    ("place", "place", re.compile(
        rf"^\s*¿?\s*(?:where|d[oó]nde|en\s+qu[eé]\s+ciudad)\s+(?:was|did|se\s+(?:celebr[oó]|realiz[oó]|llev[oó]\s+a\s+cabo)|"
        rf"tuvo\s+lugar|fue)\s+{_MEETING}{_END}", re.I)),
    ("date", "date", re.compile(
        rf"^\s*¿?\s*(?:when|cu[aá]ndo|en\s+qu[eé]\s+fecha)\s+(?:was|did|se\s+(?:celebr[oó]|realiz[oó]|llev[oó]\s+a\s+cabo)|"
        rf"tuvo\s+lugar|fue)\s+{_MEETING}{_END}", re.I)),
]


def meeting_question(question: str) -> tuple[str, str] | None:
    """(fact, answer type) when the question asks who presided, where or when the meeting itself was, else None."""
    for fact, kind, pattern in QUESTIONS:
        if pattern.match(question):
            return fact, kind
    return None


def meeting_answer(question: str, fact: str, kind: str, report_id: str, meta: dict, chunks: dict,
                   passages: list[Passage]) -> Answer:
    """The answer from one report's meeting facts: cited to the sentence that states it, or to the report's
    metadata; 'not in the reports' when neither holds it (never another meeting's fact)."""
    found = (meta.get("meeting") or {}).get(fact)
    title = meta.get("title") or report_id
    if not found:
        return Answer(question, None, None, 0.0, None, passages, outcome="not_found")
    value = _display_date(found["value"]) if kind == "date" else found["value"]
    if found["source"] == "text" and found.get("chunk_id") in chunks:
        chunk = chunks[found["chunk_id"]]
        evidence = Evidence(found["sentence"], report_id, title, chunk.section, chunk.chunk_id, found["start"],
                            found["end"], chunk.page)
        own = Passage(1, chunk.text, report_id, title, chunk.section, chunk.chunk_id, 1.0, chunk.page,
                      list(chunk.section_path))
        rest = [p for p in passages if p.chunk_id != chunk.chunk_id]
        for rank, passage in enumerate(rest, start=2):
            passage.rank = rank
        return Answer(question, value, kind, 0.9, evidence, [own, *rest], outcome="answer")
    sentence = f"{title}: {fact} {found['value']} (from the report's metadata; its text does not say)"
    evidence = Evidence(sentence, report_id, title, "Report metadata", "", 0, len(sentence), None)
    return Answer(question, value, kind, 0.8, evidence, passages, outcome="answer")


def _display_date(value: str) -> str:
    """'2009-03-27' -> 'March 27, 2009'; anything else as it is."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if not match:
        return value
    year, month, day = (int(g) for g in match.groups())
    return f"{calendar.month_name[month]} {day}, {year}"
