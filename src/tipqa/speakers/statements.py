"""Statements, the record attribution gives for each sentence with a speaker, and the queries over them.

statements.jsonl holds one Statement per line (DESIGN.md); find_speaker maps a name in any language or alias
to its speaker, statements_of and speakers list them, group_by_report and summary_text lay them out by report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import TipqaError
from ..language.entities import canonical, find_entities, fold


class SpeakerNotFound(TipqaError):
    def __init__(self, name: str, known: list[str]):
        listing = (", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")) or "none yet"
        super().__init__(f"No statements by {name!r} in the indexed reports. Speakers with statements: {listing}. "
                         f"See 'tipqa statements' for the full list.")


@dataclass
class Statement:
    """A stored statement: the record of DESIGN.md's statements.jsonl."""

    report_id: str
    chunk_id: str
    section: str
    sentence: str
    start: int  # span of the sentence in the chunk's text
    end: int
    speakers: list[dict]
    verb: str
    resolved_from: str | None = None
    group: str | None = None
    report_title: str = ""
    section_path: list[str] = field(default_factory=list)
    page: int | None = None
    position: int = 0  # order of the sentence in its report

    def to_record(self) -> dict:
        # By hand: dataclasses.asdict deep-copies field by field, ~10x slower, and an index write serialises
        # every statement of the corpus.
        record = {name: getattr(self, name) for name in self.__dataclass_fields__}
        record["speakers"] = [dict(s) for s in self.speakers]
        record["section_path"] = list(self.section_path)
        return record

    @classmethod
    def from_record(cls, record: dict) -> "Statement":
        return cls(**record)

    def speaker_ids(self) -> set[str]:
        ids = {s["id"] for s in self.speakers}
        return ids | {s["affiliation"]["id"] for s in self.speakers if s.get("affiliation")}


# ---- queries -------------------------------------------------------------------------------------------------
def find_speaker(name: str, statements: list[Statement]) -> dict:
    """The speaker NAME means, in any language or alias: 'México', 'the Mexican delegation', 'ONUDD', 'Ramdin'.

    Raises:
        SpeakerNotFound: nobody of that name has statements; the message lists who has.
    """
    cleaned = re.sub(r"^(?:the\s+)?(?:delegation|government|representatives?)\s+of\s+", "", name.strip(), flags=re.I)
    known = speakers(statements)
    code = canonical(cleaned) or canonical(name)
    if code is None and len(cleaned) > 3:
        code = next((e.canonical_id for e in find_entities(cleaned, case_sensitive=False)
                     if e.kind in ("country", "organisation")), None)
    if code is not None:
        for speaker in known:
            if speaker["id"] == code or (speaker.get("affiliation") or {}).get("id") == code:
                return {k: v for k, v in speaker.items() if k in ("kind", "id", "name")} if speaker["id"] == code \
                    else speaker["affiliation"]
        raise SpeakerNotFound(name, [s["name"] for s in known])
    wanted = fold(cleaned)
    for speaker in known:
        if speaker["kind"] == "person" and (wanted in (fold(speaker["name"]), speaker["id"])
                                            or wanted == speaker["id"].rsplit("-", 1)[-1]):
            return {k: v for k, v in speaker.items() if k in ("kind", "id", "name")}
    raise SpeakerNotFound(name, [s["name"] for s in known])


def speakers(statements: list[Statement]) -> list[dict]:
    """Everyone with a statement, most statements first, with their count."""
    counts: dict[str, dict] = {}
    for statement in statements:
        for s in statement.speakers:
            entry = counts.setdefault(s["id"], {**s, "count": 0})
            entry["count"] += 1
    return sorted(counts.values(), key=lambda s: (-s["count"], s["name"]))


def statements_of(speaker_id: str, statements: list[Statement], report: str | None = None) -> list[Statement]:
    """A speaker's statements (a person's organisation counts too), in report and sentence order."""
    chosen = [s for s in statements if speaker_id in s.speaker_ids() and (report is None or s.report_id == report)]
    return sorted(chosen, key=lambda s: (s.report_id, s.position))


# ---- laid out by report --------------------------------------------------------------------------------
def group_by_report(statements: list[Statement], reports: dict[str, dict]) -> list[dict]:
    """Statements grouped by report (oldest meeting first) then section, in order: the side-by-side view.

    Returns:
        [{"report_id", "title", "date", "sections": [{"section", "statements": [Statement]}]}]
    """
    groups: dict[str, dict] = {}
    for s in sorted(statements, key=lambda s: (s.report_id, s.position)):
        meta = reports.get(s.report_id, {})
        report = groups.setdefault(s.report_id, {"report_id": s.report_id, "title": meta.get("title") or s.report_title,
                                                 "date": meta.get("date"), "sections": []})
        if not report["sections"] or report["sections"][-1]["section"] != s.section:
            report["sections"].append({"section": s.section, "statements": []})
        report["sections"][-1]["statements"].append(s)
    return sorted(groups.values(), key=lambda g: (g["date"] or "9999", g["report_id"]))


def summary_text(speaker: dict, statements: list[Statement], reports: dict[str, dict]) -> str:
    """'Ecuador: 3 statements' then each report and section with its sentences, in order (plain text)."""
    lines = [f"{speaker['name']}: {len(statements)} statement{'s' if len(statements) != 1 else ''}"]
    for report in group_by_report(statements, reports):
        lines.append(f"{report['title']}" + (f" ({report['date']})" if report["date"] else ""))
        for section in report["sections"]:
            lines.append(f"  {section['section']}")
            lines += [f"    - {s.sentence}" for s in section["statements"]]
    return "\n".join(lines)
