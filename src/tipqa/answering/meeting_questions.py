"""Questions about the meeting a report records ("Who chaired the meeting?", "¿Dónde se celebró la reunión?"),
answered from the facts ingestion read for that report (ingest/meeting.py: its own text first, its metadata
where the text is silent, and the citation says which), never from a sentence about another meeting.

Only a bare "the meeting" / "this meeting" / "la reunión" counts: "the preparatory meeting" or "the 2012 meeting"
is an ordinary question.
"""
from __future__ import annotations

import calendar
import re

from ..language.entities import fold
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
        return _cited(question, value, kind, found, report_id, meta, chunks[found["chunk_id"]], passages)
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


# ---- the meeting's officers ------------------------------------------------------------------------------
# A question about one of the posts ingest/meeting.officers() reads (in the question or its English rendering):
# who held it, who nominated them, the office they held, the country they came from. A post in another body
# ('who chaired the working group', 'Chair of the Committee on Hemispheric Security', 'the rapporteur's report')
# is an ordinary question.
_VICE = (r"\bvice[\s-]?(?:presiden\w*|chair\w*)|\bvicepresiden\w*|\bdeputy[\s-]+(?:chair\w*|presid\w*)"
         r"|\bsecond[\s-]in[\s-]command")
_INTERIM = (r"\b(?:pro\s*t[eé]mpore|interim|provisional\w*|provisori\w*|temporar\w*|interin\w*)\b(?:\s+\w+){0,3}?\s+"
            r"(?:chair\w*|presid\w*)|\b(?:chair\w*|presid\w*)\s+(?:\w+\s+){0,3}?(?:pro\s*t[eé]mpore|interim|"
            r"provisional\w*|provisori\w*|temporar\w*|interin\w*)\b|\btemporar\w*\s+presided")
_RAPPORTEUR = r"\brapporteur\w*|\brelator[a]?\b"
_PRESIDENT = r"\bpresid\w*|\bchair(?:ed|s|ing|person|man|woman|manship)?\b|\bhead\s+of\s+the\s+meeting"
_OTHER_BODY = re.compile(r"\b(?:group|groups|grupos?|committee|comit[eé]|"
                         r"commission|comisi[oó]n|council|consejo|panel|workshop|session\s+on|"
                         r"rapporteur['’]s\s+report|report\s+of\s+the\s+rapporteur|informe|special\s+rapporteur|"
                         r"relator\w*\s+especial)\b"
                         r"|\b(?:chair\w*|presid\w*|led|head\w*)\s+(?:over\s+)?(?:the\s+|la\s+|el\s+)?(?:opening|closing|"
                         r"inaugural|ceremon\w*|apertura|clausura|inauguraci\w*)"
                         r"|\bpresident[ea]?\s+(?:of|de)\s+(?:the\s+|la\s+)?(?:republic|rep[uú]blica|nation|naci[oó]n)",
                         re.I)
_NOMINATE = re.compile(r"\b(?:nominat\w*|propos\w*|put\s+(?:[\w'’]+\s+){0,5}?(?:forward|up|in)|submitt?\w*|backed|"
                       r"back(?:s|ing)?|candida\w*|postul\w*|propus\w*|propuso|propone\w*|sponsor\w*|endors\w*|"
                       r"suggest\w*|present[oó]\s+(?:la\s+)?candidatura)\b", re.I)
_OFFICE = re.compile(r"\b(?:office|post|position|job|title|cargo|puesto|ministry|ministerio|body|agency|"
                     r"institution|organi[sz]ation|organismo|instituci[oó]n|department|secretariat|coalition|"
                     r"role|function|funci[oó]n)\b", re.I)
_RANKED = re.compile(r"\b(?P<rank>first|second|1st|2nd|primer[oa]?|segund[oa])\b\s+(?:\w+\s+)?(?:vice|deputy)"
                     r"|(?:vice\w*|deputy\s+chair\w*)\s+(?P<after>primer[oa]?|segund[oa]|first|second)\b", re.I)


def officer_question(question: str, english: str, expected: str) -> dict | None:
    """{"role", "rank", "asked": person | nominated_by | post | country} when the question asks about one of the
    meeting's officers, else None. expected: the kind of answer the question analysis read."""
    text = f"{question} || {english}"
    if re.search(_INTERIM, text, re.I):
        role = "interim_chair"
    elif re.search(_VICE, text, re.I):
        role = "vice_president"
    elif re.search(_RAPPORTEUR, text, re.I):
        role = "rapporteur"
    elif re.search(_PRESIDENT, text, re.I):
        role = "president"
    else:
        return None
    if _OTHER_BODY.search(text):
        return None
    ranked = _RANKED.search(text) if role == "vice_president" else None
    word = (ranked.group("rank") or ranked.group("after")).lower() if ranked else ""
    rank = (1 if word.startswith(("first", "1st", "primer")) else 2) if word else None
    nominate = bool(_NOMINATE.search(text))
    if expected in ("country", "nationality"):  # delegations nominate; an officer comes from a country
        asked = "nominated_by" if nominate or re.search(r"\bdelegaci", text, re.I) else "country"
    elif expected in ("person", "agent"):
        asked = "nominated_by" if nominate and expected == "agent" else "person"
    elif _OFFICE.search(text):
        asked = "post"
    else:
        return None
    return {"role": role, "rank": rank, "asked": asked}


def _named(officer: dict, names: list[str]) -> bool:
    """Whether the question names this officer ('Frank Soto', 'Subillaga Dubón')."""
    surname = officer["person"].split()[-1].lower()
    return any(surname in name.lower() or name.lower() in officer["person"].lower() for name in names)


def officer_answer(question: str, asked: dict, people: list[str], report_id: str, meta: dict, chunks: dict,
                   passages: list[Passage]) -> Answer | None:
    """The answer from the officers a report records, cited to the sentence that names them; 'not in the reports'
    for a rank the report's election does not give ('second vice chair' where one was elected); None when they
    do not settle it (no such post, two vice presidents and no rank, the detail not given), for the usual answer."""
    officers = (meta.get("meeting") or {}).get("officers") or []
    chosen = [o for o in officers if _named(o, people)] if people else []
    if chosen and asked["asked"] == "person":
        return None  # 'Who nominated Frank Soto?' read as a person question: not ours to guess
    if not chosen:
        same = [o for o in officers if o["role"] == asked["role"]]
        chosen = [o for o in same if asked["rank"] in (None, o["rank"])]
        if same and not chosen:  # the report elects that post, but not a 'second' one: a sole vice chair is not
            return Answer(question, None, None, 0.0, None, passages, outcome="not_found")
    if len(chosen) != 1:
        return None
    officer = chosen[0]
    value = officer["person_text"] if asked["asked"] == "person" else officer.get(asked["asked"])
    if not value or officer.get("chunk_id") not in chunks:
        return None
    kind = {"person": "person", "nominated_by": "country", "country": "country", "post": "other"}[asked["asked"]]
    return _cited(question, value, kind, officer, report_id, meta, chunks[officer["chunk_id"]], passages)


def _cited(question: str, value: str, kind: str, fact: dict, report_id: str, meta: dict, chunk,
           passages: list[Passage]) -> Answer:
    """VALUE cited to the sentence of FACT, its passage listed first."""
    title = meta.get("title") or report_id
    evidence = Evidence(fact["sentence"], report_id, title, chunk.section, chunk.chunk_id, fact["start"], fact["end"],
                        chunk.page)
    own = Passage(1, chunk.text, report_id, title, chunk.section, chunk.chunk_id, 1.0, chunk.page,
                  list(chunk.section_path))
    rest = [p for p in passages if p.chunk_id != chunk.chunk_id]
    for rank, passage in enumerate(rest, start=2):
        passage.rank = rank
    return Answer(question, value, kind, 0.9, evidence, [own, *rest], outcome="answer")


_ORDINALS = {"first": 1, "primer": 1, "primera": 1, "primero": 1, "1st": 1, "second": 2, "segunda": 2, "segundo": 2,
             "2nd": 2, "third": 3, "tercera": 3, "tercer": 3, "3rd": 3, "fourth": 4, "cuarta": 4, "fifth": 5,
             "quinta": 5, "sixth": 6, "sexta": 6, "seventh": 7, "septima": 7, "séptima": 7, "eighth": 8, "octava": 8}
_ORDINAL_MEETING = re.compile(rf"\b({'|'.join(_ORDINALS)})\s+(?:(?!vice|deputy|president|chair|group|working|technical)"
                              r"[\w-]+\s+){0,4}?(?:meeting|gathering|session|conference|reuni[oó]n|encuentro|sesi[oó]n)",
                              re.I)


_CAPITAL = r"[A-ZÁÉÍÓÚÑ][\wÀ-ÿ’'-]*"
_TITLE_RUN = re.compile(rf"{_CAPITAL}(?:\s+(?:(?:de|del|la|las|los|en|of|on|in|the|and|y|sobre)\s+)*{_CAPITAL})*")
_MEETING_WORD = re.compile(r"\b(?:Meeting|Reuni[oó]n|Session|Sesi[oó]n|Conference|Encuentro|Gathering)\b")


def meeting_cues(question: str, english: str) -> list[str]:
    """What the question says of which meeting it means: years, 'third meeting', capitalised names ('Buenos
    Aires', 'Guatemala City'); folded lower case, ordinals as their number."""
    text = f"{question} {english}"
    cues = set(re.findall(r"\b(?:19|20)\d\d\b", text))
    cues |= {f"#{_ORDINALS[m.group(1).lower()]}" for m in _ORDINAL_MEETING.finditer(text)}
    # a meeting's title ('Tercera Reunión de Autoridades Nacionales') says which by its ordinal, in its language
    titles = [m.span() for m in _TITLE_RUN.finditer(question) if _MEETING_WORD.search(m.group(0))]
    words = list(re.finditer(r"\b[A-ZÁÉÍÓÚÑ][\wÀ-ÿ’'-]{3,}", question))
    cues |= {fold(m.group(0)) for m in words if re.search(r"\w", question[:m.start()])  # not the opening word
             and not any(a <= m.start() < b for a, b in titles)}
    return sorted(cues)


def identity(meta: dict) -> str:
    """A report's own words about which meeting it records: its title, id, place, date and opening text (read at
    ingestion), folded, with its ordinals as numbers ('Third Meeting' -> '#3')."""
    text = " ".join(filter(None, [meta.get("title"), (meta.get("report_id") or "").replace("-", " "),
                                  meta.get("place"), meta.get("date"), (meta.get("meeting") or {}).get("opening")]))
    numbers = {f"#{_ORDINALS[m.group(1).lower()]}" for m in _ORDINAL_MEETING.finditer(text)}
    return fold(text) + " " + " ".join(sorted(numbers))


def named_reports(cues: list[str], identities: dict[str, str], each: bool = True) -> set[str] | None:
    """The reports whose own words (IDENTITIES) hold every cue of the question that some report's words hold (each
    False: any of them, for a question that may name two meetings); None when no cue is in any report's words (the
    question names no meeting)."""
    every = " ".join(identities.values())
    telling = [c for c in cues if c.startswith("#") or re.search(rf"\b{re.escape(c)}\b", every)]
    if not telling:
        return None
    holds = all if each else any
    return {rid for rid, words in identities.items()
            if holds(c in words.split() if c.startswith("#") else re.search(rf"\b{re.escape(c)}\b", words)
                     for c in telling)}


def meeting_reports(cues: list[str], identities: dict[str, str], among: list[str],
                    ranked: list[str]) -> tuple[list[str], bool]:
    """(the reports whose meeting the question may mean, in retrieval's order; whether the question named it).

    Named: the reports of AMONG (those with officers) that named_reports() keeps; none when the question names
    another meeting. Not named: the reports of AMONG that retrieval's first passages (RANKED: their reports, best
    first) come from."""
    named = named_reports(cues, identities)
    if named is None:
        return [rid for rid in dict.fromkeys(ranked[:NAMELESS_PASSAGES]) if rid in among], False
    order = {rid: i for i, rid in enumerate(dict.fromkeys(ranked))}
    return sorted((rid for rid in among if rid in named), key=lambda rid: order.get(rid, len(order))), True


NAMELESS_PASSAGES = 3  # a question that names no meeting: the reports of the first three passages


# ---- where and when a named meeting was held ---------------------------------------------------------------
# 'When was the 2012 Guatemala gathering held?', '¿En qué fechas se desarrolló la tercera reunión?': a meeting
# the question names (by year, place or ordinal: named_reports()) and being held, not something done at it ('When
# did the meeting adopt ...?' is an ordinary question).
_A_MEETING = re.compile(r"\b(?:meeting|gathering|session|conference|summit|reuni[oó]n|encuentro|sesi[oó]n|"
                        r"conferencia|cumbre|cita)\b", re.I)
_HELD_VERB = re.compile(r"\b(?:held|hold|take\s+place|took\s+place|taken\s+place|convene[sd]?|met|meet|happen(?:ed)?|"
                        r"celebr[oó]|celebrad[ao]|celebrar(?:on)?|realiz[oó]|realizad[ao]|desarroll[oó]|"
                        r"tuvo\s+lugar|se\s+reuni[oó]|sesion[oó])\b", re.I)


def held_question(question: str, english: str, expected: str) -> str | None:
    """'place' or 'date' when the question asks where or when a meeting was held, else None."""
    text = f"{question} || {english}"
    if expected not in ("place", "date"):  # 'On what dates ...?' is read as 'other' by the question rules
        expected = "date" if _ASKS_DATE.search(text) else "place" if _ASKS_PLACE.search(text) else ""
    if not expected:
        return None
    if not (_A_MEETING.search(text) and _HELD_VERB.search(text)) or _ANOTHER.search(text):
        return None
    return expected


_ASKS_DATE = re.compile(r"\b(?:when|cu[aá]ndo|(?:what|which|on\s+what)\s+(?:dates?|days?)|qu[eé]\s+(?:fechas?|d[ií]as?))\b",
                        re.I)
_ASKS_PLACE = re.compile(r"\b(?:where|d[oó]nde|(?:what|which)\s+(?:city|place)|qu[eé]\s+(?:ciudad|lugar))\b", re.I)
# a meeting held before or for the one named ('the preparatory session ahead of the second meeting')
_ANOTHER = re.compile(r"\b(?:preparator\w*|ahead\s+of|before|prior\s+to|previ[ao]s?|anterior|consultation|consulta)\b",
                      re.I)
