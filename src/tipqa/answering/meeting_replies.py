"""Replies from the facts ingestion read about the meetings the reports record (ingest/meeting.py), for questions
about 'the meeting', about a meeting named by its year, place or ordinal, or about one of its officers: which report's meeting is meant
(meeting_questions.named_reports / meeting_reports), then the fact from that report, cited to its sentence. Each
returns None where the facts do not settle the question, for the usual answer step."""
from __future__ import annotations

from ..store.base import Generation
from .answer import Answer, Passage
from .meeting_questions import (held_question, identity, meeting_answer, meeting_cues, meeting_question,
                                meeting_reports, named_reports, officer_answer, officer_question)
from .questions import analyse
from .retrieval import Hit


def _identities(data: Generation) -> dict[str, str]:
    return {rid: identity({**meta, "report_id": rid}) for rid, meta in data.reports.items()}


def _chunks_of(data: Generation, report_id: str) -> dict:
    return {c.chunk_id: c for c in data.chunks if c.report_id == report_id}


def meeting_reply(question: str, data: Generation, hits: list[Hit], report: str | None) -> Answer | None:
    """Who presided over, where or when 'the meeting' was held (a bare 'the meeting': meeting_question): the one
    the asked-about report records, that is the filtered one, the only one, or the report of the passage that
    matches the question best."""
    about = meeting_question(question)
    if about is None or not hits:
        return None
    chosen = report or (next(iter(data.reports)) if len(data.reports) == 1 else hits[0].chunk.report_id)
    return meeting_answer(question, *about, chosen, data.reports[chosen], _chunks_of(data, chosen),
                          [Passage.from_hit(h) for h in hits])


def reports_named(question: str, data: Generation) -> set[str] | None:
    """The reports whose meeting the question names by year, place or ordinal (None: it names none)."""
    return named_reports(meeting_cues(question, analyse(question).english), _identities(data))


def officer_reply(question: str, data: Generation, hits: list[Hit], report: str | None) -> Answer | None:
    """The answer about one of the officers of the meeting the question means (who, nominated by whom, their post,
    their country), from the officers ingestion read."""
    q = analyse(question)
    asked = officer_question(question, q.english, q.expected)
    if asked is None or not hits:
        return None
    among = [rid for rid, meta in data.reports.items() if (meta.get("meeting") or {}).get("officers")
             and report in (None, rid)]
    if not among:
        return None
    reports, named = meeting_reports(meeting_cues(question, q.english), _identities(data), among,
                                     [h.chunk.report_id for h in hits])
    people = [e.name for e in q.entities if e.kind == "person"]
    passages = [Passage.from_hit(h) for h in hits]
    for chosen in reports:  # the first whose officers settle it; 'not in the reports' only for a named meeting
        answer = officer_answer(question, asked, people, chosen, data.reports[chosen], _chunks_of(data, chosen),
                                passages)
        if answer is not None and (answer.outcome == "answer" or (named and len(reports) == 1)):
            return answer
    return None


def officer_scope(question: str, data: Generation, report: str | None) -> set[str] | None:
    """The reports a question about a meeting's officers may be answered from, when it names the meeting (by year,
    place or ordinal) and the officers ingestion read do not settle it: the reports that name that meeting ('Who
    presided over the seventh meeting?' -> the speech given at it). Empty when none does ('Who chaired the fifth
    meeting?' of reports on the first three): an officer of another meeting, or of a working group, is never the
    answer. None when the question asks about no officer or names no meeting."""
    q = analyse(question)
    if officer_question(question, q.english, q.expected) is None:
        return None
    named = named_reports(meeting_cues(question, q.english), _identities(data), each=False)  # 'at both 2009 and 2012'
    if named is None:
        return None
    return {rid for rid in named if report in (None, rid)}


def held_reply(question: str, data: Generation, hits: list[Hit]) -> Answer | None:
    """Where or when the meeting the question names was held, from the facts ingestion read in its report's text
    (never its metadata: a report's date is not always its meeting's)."""
    q = analyse(question)
    fact = held_question(question, q.english, q.expected)
    if fact is None or not hits:
        return None
    named = named_reports(meeting_cues(question, q.english), _identities(data))
    if not named or len(named) != 1:
        return None
    chosen = next(iter(named))
    found = (data.reports[chosen].get("meeting") or {}).get(fact)
    if not found or found.get("source") != "text":
        return None
    return meeting_answer(question, fact, fact, chosen, data.reports[chosen], _chunks_of(data, chosen),
                          [Passage.from_hit(h) for h in hits])
