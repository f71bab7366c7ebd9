"""The facts of the meeting a report records (who presided, where, when), read at ingestion from the report's own
text, else from its metadata (the sidecar's place and date), each with where it was found.

Questions about "the meeting" are answered from these facts, never from a sentence about another meeting the
report mentions (a preparatory meeting, an earlier one): a sentence only counts when it speaks of "this meeting"
or of the meeting without naming another ("the First Meeting", "the preparatory meeting").
"""
from __future__ import annotations

import re

from ..language.entities import find_entities
from .chunking import Chunk
from .reports import Report

# The meeting itself, as its report names it: 'this meeting', 'the Meeting' (not 'the First Meeting ...',
# 'the Civil Society Preparatory Meeting').
_THIS_MEETING = r"(?:this|the\s+present|the|esta|la\s+presente|la)\s+(?:meeting|session|conference|reuni[oó]n|sesi[oó]n)"
_PRESIDED = re.compile(
    rf"\b(?:(?:President|Chair(?:person|man|woman)?|Presidente|Presidenta)\s+(?:of|de)\s+{_THIS_MEETING}\b"
    rf"|presid(?:ed|ió|io)\s+(?:over\s+)?{_THIS_MEETING}\b|{_THIS_MEETING}\s+(?:was\s+)?(?:chaired|presided)\s+(?:over\s+)?by\b"
    rf"|assumed\s+the\s+Presidency\s+of\s+{_THIS_MEETING}\b|asumi[oó]\s+la\s+Presidencia\s+de\s+{_THIS_MEETING}\b)",
    re.I)
_OTHER_MEETING = re.compile(r"\b(?:first|second|third|fourth|fifth|sixth|seventh|preparatory|previous|next|"
                            r"primera|segunda|tercera|cuarta|quinta|sexta|s[eé]ptima|preparatoria|anterior)\s+"
                            r"(?:\w+\s+){0,3}?(?:meeting|reuni[oó]n)", re.I)
_HELD = re.compile(rf"\b{_THIS_MEETING}\s+(?:was\s+|fue\s+)?(?:held|took\s+place|convened|met|celebrad[ao]|realizad[ao])"
                   r"\s+(?:in|at|en)\s+(?P<place>[A-ZÁÉÍÓÚ][\w.'’-]*(?:(?:\s+|,\s+)(?:de\s+)?[A-ZÁÉÍÓÚ][\w.'’-]*)*)", re.I)


def meeting_facts(report: Report, chunks: list[Chunk]) -> dict:
    """{"presiding": fact?, "place": fact?, "date": fact?}; a fact is {"value", "source": "text" | "metadata",
    and for text the chunk_id, start, end and sentence}."""
    facts: dict[str, dict] = {}
    for chunk in chunks:
        for start, end in chunk.sentences:
            sentence = chunk.text[start:end]
            if _OTHER_MEETING.search(sentence):
                continue
            if "presiding" not in facts and (match := _PRESIDED.search(sentence)):
                person = _presiding_person(sentence, match)
                if person:
                    facts["presiding"] = _from_text(person, chunk, start, end)
            if "place" not in facts and (held := _HELD.search(sentence)):
                facts["place"] = _from_text(held.group("place").rstrip(".,"), chunk, start, end)
    if "place" not in facts and report.place:
        facts["place"] = {"value": report.place, "source": "metadata"}
    if report.date:
        facts["date"] = {"value": report.date, "source": "metadata"}
    return facts


def _presiding_person(sentence: str, match: re.Match) -> str | None:
    """The person the role belongs to: the last one named before it ('... the candidacy of Ambassador Raúl Ricardes,
    Coordinator General ..., to serve as President of this meeting'), else the first after it ('chaired by X')."""
    people = [e for e in find_entities(sentence) if e.kind == "person"]
    before = [e for e in people if e.end <= match.start()]
    after = [e for e in people if e.start >= match.end()]
    chosen = before[-1] if before and not match.group(0).lower().endswith("by") else (after[0] if after else None)
    return chosen.text if chosen else None


def _from_text(value: str, chunk: Chunk, start: int, end: int) -> dict:
    return {"value": value, "source": "text", "chunk_id": chunk.chunk_id, "start": start, "end": end,
            "sentence": chunk.text[start:end]}


__all__ = ["meeting_facts"]
