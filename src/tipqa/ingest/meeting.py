"""The facts of the meeting a report records (who presided, where, when, and its officers: president, vice
presidents, rapporteur, pro tempore chair, each with who nominated them and the post they held), read at ingestion
from the report's own text, else from its metadata (the sidecar's place and date), each with where it was found.

Questions about "the meeting" are answered from these facts, never from a sentence about another meeting the
report mentions (a preparatory meeting, an earlier one): a sentence only counts when it speaks of "this meeting"
or of the meeting without naming another ("the First Meeting", "the preparatory meeting").
"""
from __future__ import annotations

import re

from ..language.entities import NAME_PATTERN, Entity, find_entities, slug
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


# An officer's post as a report gives it when someone is put in it: 'to serve as (the meeting's) First Vice
# President', 'as chair of the meeting', 'served as the meeting's pro tempore chair', 'para ocupar la
# Vicepresidencia', 'como Relatora'; 'to chair the meeting' / 'para presidir la reunión'. A post held in another
# body ('as chair of the working group') is not the meeting's.
_RANK = r"first|second|third|primer[oa]?|segund[oa]|tercer[oa]?"
_POST = (rf"(?:(?P<rank>{_RANK})\s+)?(?P<post>vice[\s-]?president[ea]?|vice[\s-]?presidency"
         r"|vice[\s-]?chair(?:person|man|woman)?"
         r"|vicepresident[ea]|vicepresidencia|deputy\s+chair(?:person|man|woman)?"
         r"|(?:pro\s+tempore|interim|provisional|temporary)\s+(?:chair(?:person|man|woman)?|president)"
         r"|president[ea]?\s+(?:pro\s+t[eé]mpore|provisional|interin[oa])|presidencia\s+(?:pro\s+t[eé]mpore|provisional)"
         r"|president[ea]?|presidency|presidencia|chair(?:person|man|woman)?|rapporteur|relator[a]?)"
         rf"(?:\s+(?P<rank_after>{_RANK}))?")
_OF_MEETING = rf"(?:\s+(?:of|de)\s+{_THIS_MEETING})"
_APPOINTED = re.compile(
    rf"\b(?:(?:to\s+(?:serve|act)\s+|(?:served|acted|elected|appointed|designated|chosen)\s+)?as|como|(?:para\s+)?"
    rf"(?:ocupar|ejercer|desempe[nñ]ar)(?:\s+el\s+cargo\s+de)?)\s+(?:(?:the|el|la)\s+)?(?:meeting['’]s\s+)?{_POST}"
    rf"(?P<meeting>{_OF_MEETING})?(?!\s+(?:of|de|del)\b)"
    rf"|\b(?:to|para)\s+(?P<chair>chair|preside\s+over|presidir)\s+{_THIS_MEETING}\b", re.I)
OPENING_CHARS = 1000
ROLES = ("president", "vice_president", "rapporteur", "interim_chair")


def _role(post: str) -> str:
    post = post.lower()
    if re.search(r"tempore|interim|provisional|temporary|interin", post):
        return "interim_chair"
    if re.match(r"vice|deputy", post):
        return "vice_president"
    return "rapporteur" if post.startswith(("rapporteur", "relator")) else "president"


def officers(chunks: list[Chunk]) -> list[dict]:
    """The meeting's officers, in the report's order: {role (one of ROLES), rank (1, 2 or None), person, post
    (the office they held, as the report gives it), country (of that office), nominated_by (the delegation that
    put them forward), chunk_id, start, end, sentence}. The first sentence that gives a role wins."""
    found: dict[tuple[str, int | None], dict] = {}
    for chunk in chunks:
        for start, end in chunk.sentences:
            sentence = chunk.text[start:end]
            if _OTHER_MEETING.search(sentence) or not _APPOINTED.search(sentence):
                continue
            for officer in _officers_in(sentence):
                key = (officer["role"], officer["rank"])
                if key not in found:
                    found[key] = {**officer, **_from_text(officer["person"], chunk, start, end)}
                    del found[key]["value"]
    return list(found.values())


def _officers_in(sentence: str) -> list[dict]:
    """Each post given in SENTENCE, with the person named last before it in its clause (the text since the
    previous post), the delegation named before that person, and the office and country of the appositive."""
    entities = find_entities(sentence)
    found = [e for e in entities if e.kind == "person"]
    # 'Ambassador Bayney Karran, Permanent Representative of ...': the title in his appositive is not a person
    found = [e for e in found if not any(o.end <= e.start and e.text in (o.role or "") for o in found)]
    out, clause = [], 0
    for match in _APPOINTED.finditer(sentence):
        people = [e for e in found if clause <= e.start and e.end <= match.start()]
        if not people:
            people = _nominee(sentence, clause, match.start())
        if people:
            person = people[-1]
            countries = [e for e in entities if e.kind == "country"]
            before = [e for e in countries if clause <= e.start < person.start]
            between = [e for e in countries if person.end <= e.start < match.start()]
            rank = (match.group("rank") or match.group("rank_after") or "").lower()
            out.append({
                "role": "president" if match.group("chair") else _role(match.group("post")),
                "rank": (1 if rank.startswith(("pri", "first")) else 2 if rank.startswith(("seg", "second")) else 3)
                if rank else None,
                "person": person.name, "person_text": person.text,
                "post": _post_held(sentence, person, match.start()),
                "country": between[0].name if between else None,
                "nominated_by": before[-1].name if before and _NOMINATED.search(sentence[clause:person.start])
                else None,
            })
        clause = match.end()
    return out


def _nominee(sentence: str, clause: int, end: int) -> list[Entity]:
    """The name a nomination verb puts forward, where the entity finder knew no person ('The delegation of
    Chile nominated Sandra Chávez, Technical Secretary of ...')."""
    match = re.search(rf"\b(?:nominated|proposed|put\s+forward|(?:nomination|candidacy|election)\s+of|"
                      rf"(?:postul[oó]|propuso|nomin[oó])\s+al?|(?:candidatura|postulaci[oó]n)\s+del?)\s+"
                      rf"(?:(?:Mr|Ms|Mrs|Dr|Sr|Sra)\.\s+|(?:la\s+)?se[nñ]or[a]?\s+)?(?P<name>{NAME_PATTERN})",
                      sentence[clause:end])
    if not match or len(match.group("name").split()) < 2:
        return []
    name, start = match.group("name"), clause + match.start("name")
    return [Entity("person", slug(name), name, start, start + len(name), name)]


_NOMINATED = re.compile(r"\b(?:nominat\w*|propos\w*|submitted|put\s+forward|candida\w*|postul\w*|propus\w*|"
                        r"propuso|nomin\w*|present[oó])\b", re.I)


def _post_held(sentence: str, person, post_start: int) -> str | None:
    """'Coordinator General of International Issues of the Argentine Republic' from the appositive after the
    name; 'Undersecretary' + ' of the Ministry of ...' when the title precedes the name."""
    tail = sentence[person.end:post_start]
    titles = [r.strip() for r in (person.role or "").split(";") if r.strip()]
    title = titles[0] if titles and titles[0] in person.text else None
    appositive = re.match(r"\s*,\s*(?P<office>[^;]{3,240}?)[\s,]*$", tail)
    if appositive and not re.match(r"(?:to|para|as|como|who|quien)\b", appositive.group("office"), re.I):
        return appositive.group("office").strip().rstrip(".,")
    of = re.match(r"\s+(?P<office>(?:of|de)\s+[^,;]+)", tail)
    if of and title and title.lower() not in ("mr.", "ms.", "mrs.", "dr.", "sr.", "sra."):
        return f"{title} {of.group('office').strip()}"
    return None


def meeting_facts(report: Report, chunks: list[Chunk]) -> dict:
    """{"presiding": fact?, "place": fact?, "date": fact?, "officers": [officer, ...]?, "opening": text?}; a fact
    is {"value", "source": "text" | "metadata", and for text the chunk_id, start, end and sentence}; officers as
    officers(); opening: the report's first OPENING_CHARS characters, where it names its meeting."""
    facts: dict = {}
    opening = " ".join(chunk.text for chunk in chunks[:4])[:OPENING_CHARS]
    if opening:
        facts["opening"] = opening  # how the report names its meeting (title page, first lines): see identity()
    elected = officers(chunks)
    if elected:
        facts["officers"] = elected
        president = next((o for o in elected if o["role"] == "president"), None)
        if president:
            facts["presiding"] = {"value": president["person_text"], **{k: president[k] for k in (
                "source", "chunk_id", "start", "end", "sentence")}}
    facts.update(_title_page(chunks[:2]))
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
    if report.date and "date" not in facts:
        facts["date"] = {"value": report.date, "source": "metadata"}
    return facts


# A title page names its meeting in Title Case ('Third Meeting of National Authorities' / 'on Trafficking in
# Persons'), then its dates and place on lines of their own ('October 15 to 16, 2012' / 'Guatemala City, Guatemala'),
# where the report's own date ('12 November 2012', above the title) is not the meeting's.
_TITLE_LINE = re.compile(r"^(?:[A-ZÁÉÍÓÚ][\w’'-]*\s+){0,3}?(?:Meeting|Reuni[oó]n|Conference|Conferencia|Session|"
                         r"Sesi[oó]n|Encuentro)\b[^.;:]{0,80}$")
_PLACE_LINE = re.compile(r"^[A-ZÁÉÍÓÚ][\w’'.-]*(?:\s+(?:de\s+|of\s+)?[A-ZÁÉÍÓÚ][\w’'.-]*){0,3},\s+"
                         r"[A-ZÁÉÍÓÚ][\w’'.-]*(?:\s+[A-ZÁÉÍÓÚ][\w’'.-]*){0,2}$")


def _title_page(chunks: list[Chunk]) -> dict:
    """{"date": fact?, "place": fact?} from the lines under the meeting's name on the report's title page."""
    lines = [(chunk, start, end) for chunk in chunks for start, end in chunk.sentences]
    for i, (chunk, start, end) in enumerate(lines):
        if not _TITLE_LINE.match(chunk.text[start:end].strip()):
            continue
        facts: dict = {}
        for chunk, start, end in lines[i + 1:i + 5]:
            line = chunk.text[start:end].strip()
            dates = find_entities(line)
            if "date" not in facts and dates and dates[0].kind == "date" and len(dates[0].text) >= 0.8 * len(line):
                facts["date"] = _from_text(dates[0].text, chunk, start, end)
            elif "place" not in facts and _PLACE_LINE.match(line) and any(e.kind == "country" for e in dates):
                facts["place"] = _from_text(line, chunk, start, end)
            elif facts or not line[:1].islower() and not _TITLE_CONTINUES.match(line):
                break  # past the title, its date and place
        return facts
    return {}


_TITLE_CONTINUES = re.compile(r"^(?:on|of|in|sobre|de|en)\s+[A-ZÁÉÍÓÚ]")


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


__all__ = ["ROLES", "meeting_facts", "officers"]
