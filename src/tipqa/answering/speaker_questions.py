"""Questions about speakers: "What did Mexico say?" lists its statements, "What did Chile say about ...?" answers
with the closest one. Both are answered from the statements attribution stored, as an Answer with citations.
"""
from __future__ import annotations

import re

from ..speakers.statements import Statement, group_by_report, summary_text
from .answer import Answer, Evidence, Passage

_SAY_QUESTION = [
    re.compile(r"^\s*what\s+(?:did|has|have|does)\s+(?P<s>.+?)\s+(?:say|said|state|stated|declare|mention)\s*"
               r"(?:at\s+the\s+meetings?|in\s+the\s+reports?)?\s*\??\s*$", re.I),
    re.compile(r"^\s*(?:list\s+)?(?:all\s+)?(?:the\s+)?statements\s+(?:of|by|from)\s+(?P<s>.+?)\s*\??\s*$", re.I),
    re.compile(r"^\s*(?:everything|all)\s+(?:that\s+)?(?P<s>.+?)\s+said\s*\??\s*$", re.I),
    re.compile(r"^\s*¿?\s*qu[ée]\s+(?:dijo|ha\s+dicho|declaró|señaló|planteó)\s+(?P<s>.+?)\s*\??\s*$", re.I),
]


_TOPIC_QUESTION = [
    re.compile(r"^\s*(?:and\s+)?what\s+(?:did|does|has|have)\s+(?P<s>.+?)\s+(?:say|said|state|stated|propose|"
               r"proposed|suggest|suggested|mention|mentioned|note|noted|underscore|underscored|recommend)\s+"
               r"(?:about|on|regarding|concerning|with regard to)\s+(?P<t>.+?)\s*\??\s*$", re.I),
    re.compile(r"^\s*¿?\s*(?:y\s+)?qu[ée]\s+(?:dijo|ha\s+dicho|propuso|señaló|planteó|declaró)\s+(?P<s>.+?)\s+"
               r"(?:sobre|acerca\s+de|respecto\s+(?:a|de)|en\s+cuanto\s+a)\s+(?P<t>.+?)\s*\??\s*$", re.I),
]


def topic_question(question: str) -> tuple[str, str] | None:
    """(speaker, topic) of 'What did Chile say about joint investigation teams?' / '¿Qué dijo Chile sobre ...?'."""
    for pattern in _TOPIC_QUESTION:
        match = pattern.match(question)
        if match and len(match.group("s").split()) <= 8:
            return match.group("s").strip(" ?¿"), match.group("t").strip(" ?¿")
    return None


def topical_answer(question: str, ranked: list[Statement], scores: list[float], chunks: dict, on_topic: bool = True):
    """An Answer for 'What did X say about Y?': X's statement closest to Y, then X's others by closeness.

    on_topic: whether that statement is among what the reports say on Y at all (see Assistant._statements_reply);
    when it is not, it is shown as the closest X came (outcome "closest"), not as X's answer on Y."""
    passages: list[Passage] = []
    for s, score in zip(ranked, scores):
        chunk = chunks.get(s.chunk_id)
        if chunk is not None and all(p.chunk_id != s.chunk_id for p in passages):
            passages.append(Passage(len(passages) + 1, chunk.text, chunk.report_id, chunk.report_title, chunk.section,
                                    chunk.chunk_id, round(float(score), 6), chunk.page, list(chunk.section_path)))
    best = ranked[0]
    evidence = Evidence(best.sentence, best.report_id, best.report_title, best.section, best.chunk_id,
                        best.start, best.end, best.page)
    confidence = round(float(max(0.0, min(1.0, scores[0]))), 3)
    if not on_topic:
        return Answer(question, None, None, confidence, evidence, passages[:5], outcome="closest")
    return Answer(question, best.sentence, "statement", confidence, evidence, passages[:5], outcome="statements")


def speaker_question(question: str) -> str | None:
    """The speaker an enumeration question asks about ('What did Mexico say?', '¿Qué dijo México?'), or None."""
    for pattern in _SAY_QUESTION:
        match = pattern.match(question)
        if match:
            name = match.group("s").strip(" ?¿")
            if len(name.split()) <= 8:
                return name
    return None


def statements_answer(question: str, speaker: dict, statements: list[Statement], chunks: dict, reports: dict):
    """An Answer (DESIGN.md's JSON contract) listing a speaker's statements: the list in `answer`, the first
    statement as evidence, the passages holding them in order.

    Args:
        chunks: chunk_id -> Chunk, to show each statement in its passage.
    """
    ordered = [s for g in group_by_report(statements, reports) for sec in g["sections"] for s in sec["statements"]]
    passages: list[Passage] = []
    for s in ordered:
        chunk = chunks.get(s.chunk_id)
        if chunk is not None and all(p.chunk_id != s.chunk_id for p in passages):
            passages.append(Passage(len(passages) + 1, chunk.text, chunk.report_id, chunk.report_title, chunk.section,
                                    chunk.chunk_id, 1.0, chunk.page, list(chunk.section_path)))
    first = ordered[0]
    evidence = Evidence(first.sentence, first.report_id, first.report_title, first.section, first.chunk_id,
                        first.start, first.end, first.page)
    kind = "statements"
    return Answer(question, summary_text(speaker, ordered, reports), kind, 1.0, evidence, passages, outcome="statements")
