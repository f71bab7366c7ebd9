"""Who said what: each sentence of a report attributed to its speaker(s), with the verb of the statement.

Attribution runs at ingestion on the report's paragraphs (a paragraph is the scope in which "It also ..." or
"For its part, it ..." points back to the previous speaker), then each sentence is mapped to its chunk and its
character span there, so a statement can be cited and highlighted like any evidence. Speakers are canonical:
ISO 3166 codes for countries, one id per organisation (entities.py), a slug for people. Groups ("Speakers",
"the states", "The delegations present") are kept as a group with no single speaker.

Pure Python over entities.py and text.py: no model, no index. `attribute_report` is the entry point for
ingestion; the Statement records it gives are queried through statements.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..language.entities import NAME_PATTERN, NOT_NAMES, Entity, find_entities, fold, slug, trie_pattern
from ..text import sentence_spans
from . import documents
from . import spanish as es
from .statements import Statement

VERSION = 2  # bump when the rules change: generations built with another version are re-attributed

# Reporting verbs, longest first so "submitted the candidacy" wins over "submitted".
_VERBS_EN = (
    "submitted the candidacy|submitted the nomination|made explicit mention|drew attention|put forward|"
    "pointed out|pointed to|referred to|called for|called on|called upon|took up|spoke of|spoke about|"
    "reported on|commented on|expressed concern|"
    "said|stated|noted|added|explained|recalled|highlighted|emphasized|emphasised|stressed|underscored|"
    "underlined|acknowledged|recognized|recognised|described|proposed|suggested|encouraged|announced|"
    "reported|presented|shared|mentioned|indicated|informed|expressed|urged|requested|welcomed|thanked|"
    "cautioned|warned|argued|affirmed|reaffirmed|reiterated|observed|commented|remarked|declared|"
    "maintained|insisted|supported|endorsed|recommended|nominated|raised|outlined|summarized|summarised|"
    "advocated|questioned|objected|opposed|concluded|asked|invited|offered|explained|proposes|says|notes|"
    "recommends|stresses|underscores"
)
# One prefix tree of every verb (the longest that fits wins): ~2x faster than the plain alternation of 250 verbs.
_VERB = re.compile(rf"(?<![\w-])(?:{trie_pattern(_VERBS_EN.split('|') + es.VERBS_ES.split('|'))})(?![\w-])", re.I)
# Statements reported in the passive or as a noun: "was taken up by", "a presentation by".
_PASSIVE = re.compile(
    r"\b(?:was|were)\s+(?:also\s+)?(?P<verb>delivered|presented|made|given|proposed|raised|submitted|taken up|"
    r"suggested|declared\s+(?:opened|open|closed)|put forward|expressed|shared|stressed|underscored)\s+by\b"
    r"|\b(?:fue|fueron)\s+(?:también\s+)?(?P<verb_es>presentad[oa]s?|propuest[oa]s?|planteadas?|planteados?|"
    r"expresad[oa]s?|formulad[oa]s?|destacad[oa]s?|señalad[oa]s?|subrayad[oa]s?)\s+por\b"
    r"|\b(?P<noun>presentations?|statements?|remarks|speech|proposal|intervention|address)\s+by\b", re.I)
# Passive phrases that name people without a statement ("was led by", "chaired by"): 'They both ...' after them.
_AGENT_BY = re.compile(r"\b(?:led|chaired|opened|closed|headed|moderated|hosted|given)\s+by\b", re.I)

_LEAD_ADVERBS = re.compile(
    r"^(?:(?:for\s+(?:its|their|his|her)\s+part|finally|in\s+addition|also|then|however|similarly|likewise|"
    r"moreover|furthermore|lastly|in\s+turn|meanwhile|subsequently|further|here|por\s+su\s+parte|"
    rf"{es.LEAD_ADVERBS_ES})\s*,?\s*)+", re.I)
_FOR_ITS_PART = re.compile(r"^\s*(?:for\s+(?:its|their|his|her)\s+part|por\s+su\s+parte)\b", re.I)
_TRAIL_ADVERBS = re.compile(r"(?:\s+(?:also|then|both|further|later|again|too|subsequently|likewise|"
                            rf"in\s+turn|jointly|in\s+particular|specifically|similarly|{es.TRAIL_ADVERBS_ES}))+\s*$",
                            re.I)
_ANAPHOR = re.compile(
    r"^(?:it|he|she|they|they\s+both|both|its\s+delegation|the\s+delegation|this\s+delegation|that\s+delegation|"
    r"the\s+report|the\s+presentation|the\s+country|this\s+country|that\s+country|the\s+latter|the\s+speaker|"
    rf"the\s+representative|the\s+government|{es.ANAPHORS_ES})$", re.I)
_PERSONAL = re.compile(rf"^(?:he|she|{es.PERSONAL_ES})$", re.I)
_GROUP = re.compile(
    r"^(?:the\s+|several\s+|many\s+|some\s+|most\s+|all\s+(?:the\s+)?|other\s+|various\s+|numerous\s+)?"
    r"(?:speakers|states|member\s+states|delegations|participants|representatives|countries|experts|"
    r"governments|panelists|panellists|authorities|national\s+authorities)\b"
    rf"|^{es.GROUPS_ES}\b", re.I)
_ROLE_HEADS = ("assistant secretary general", "secretary general", "deputy secretary general", "minister",
               "director", "chair", "chairman", "chairperson", "president", "vice president", "rapporteur",
               "executive secretary", "permanent representative", "coordinator", "ambassador", *es.ROLE_HEADS_ES)
_APPOSITIVE_NAME = re.compile(
    r"(?P<role>(?:[A-Z][\w-]*\s+){0,4}?(?:Assistant Secretary General|Secretary General|Minister|Director|Chair|"
    r"President|Rapporteur|Executive Secretary|Permanent Representative|Coordinator|"
    rf"{es.ROLE_WORDS_ES})[^,;]{{0,120}}?),\s+"
    rf"(?:(?:Ambassador|Mr\.|Ms\.|Mrs\.|Dr\.|{es.PERSON_TITLES_ES})\s+)?"
    r"(?P<name>[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+(?:\s+[A-Z]\.)?"
    r"(?:\s+[A-ZÁÉÍÓÚÑ][\wáéíóúñ'’-]+){1,3}),")
_QUOTE_OPEN, _QUOTE_CLOSE = "“«", "”»"
_SUBJECT_WORDS = 14  # a subject longer than this is a clause, not a speaker
_SUBJECT_LEADS = (re.compile(r"(?:the\s+)?(?:(?:delegations?|governments?|representatives?|authorities)\s+"
                              r"(?:of\s+(?:the\s+)?)?)?", re.I), re.compile(es.SUBJECT_LEAD_ES, re.I))
_PLACE_WORDS = frozenset("africa asia america americas europe oceania southeast northeast southwest northwest sahel "
                         "gulf islands region".split())  # 'Southeast Asia reported': a region, not a person
_PASSIVE_BEFORE = re.compile(r"\b(?:was|were|is|are|be|been|being|fue|fueron|es|son|ser|sido)\s+"
                             r"(?:also\s+|también\s+)?$", re.I)


@dataclass
class Attribution:
    """One sentence of a paragraph: who made it, with what verb, and how the speaker was found."""

    start: int  # span in the paragraph text
    end: int
    speakers: list[dict] = field(default_factory=list)  # [{kind, id, name, affiliation?}]
    verb: str | None = None  # None: not a statement
    resolved_from: str | None = None  # "pronoun" | "for its part" | "quotation" | "role" | None
    group: str | None = None  # "Speakers", "the states": said by many, attributed to no single speaker

    @property
    def is_statement(self) -> bool:
        return self.verb is not None


# ---- one paragraph ------------------------------------------------------------------------------------------
class _Context:
    """What earlier sentences leave for later ones: the last speakers (paragraph scope), known people (report)."""

    def __init__(self) -> None:
        self.people: dict[str, dict] = {}  # surname or slug -> speaker record
        self.roles: list[tuple[str, dict]] = []  # (folded role, person), most recent last
        self.last: Attribution | None = None  # the last statement in this paragraph
        self.previous_paragraph: Attribution | None = None  # for 'he said' across press-release paragraphs
        self.agents: list[dict] = []  # people named by 'led by ...' in the sentence before
        self.issuer: str | None = None  # the organisation whose resolution this is (from its symbol)
        self.enacting: dict | None = None  # the organ a resolution's clauses are said by
        self.speech: dict | None = None  # the speaker of a speech: every sentence is theirs

    def new_paragraph(self) -> None:
        if self.last is not None:
            self.previous_paragraph = self.last
        self.last, self.agents = None, []


def attribute_paragraphs(paragraphs: list[str]) -> list[list[Attribution]]:
    """Attribute every sentence of consecutive paragraphs (one section or one report, in order).

    Returns:
        For each paragraph, one Attribution per sentence of paragraph.strip() (spans from text.sentence_spans).
    """
    context = _Context()
    out = []
    for paragraph in paragraphs:
        context.new_paragraph()
        out.append(_attribute_paragraph(paragraph.strip(), context))
    return out


def _attribute_paragraph(text: str, context: _Context) -> list[Attribution]:
    results: list[Attribution] = []
    quote_depth = 0
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        _learn_people(sentence, context)
        clause = _resolution_clause(sentence, context) if not results else None
        if clause is not None:
            found = clause
            found.start, found.end = start, end
        elif quote_depth > 0 and context.last is not None:
            found = _continued(start, end, context.last, "quotation")  # still inside the opened quotation
        else:
            found = _attribute_sentence(sentence, context, first=not results)
            found.start, found.end = start, end
        quote_depth = max(0, quote_depth + sum(sentence.count(c) for c in _QUOTE_OPEN)
                          - sum(sentence.count(c) for c in _QUOTE_CLOSE))
        if sentence.count('"') % 2:
            quote_depth = 0 if quote_depth else 1
        if not found.is_statement and context.speech is not None and re.search(r"[^\W\d_]", sentence):
            found = Attribution(start, end, [dict(context.speech)], "speech", "speech")  # a speech: all the speaker's
        if found.is_statement:
            context.last = found
        results.append(found)
    return results


def _learn_enacting(line: str, context: _Context) -> bool:
    """A resolution's symbol tells whose it is; 'LA ASAMBLEA GENERAL,' (a line or a heading) who speaks in it."""
    context.issuer = context.issuer or documents.issuer_in(line)
    organ = documents.enacting_organ(line, context.issuer)
    if organ is False:
        return False
    context.enacting = _speaker(organ, line, 0, context) if organ else None
    return True


def _resolution_clause(sentence: str, context: _Context) -> Attribution | None:
    """A preambular or operative clause of a resolution, said by its enacting organ; None for anything else."""
    if _learn_enacting(sentence, context):
        return None
    verb = documents.clause_verb(sentence) if context.enacting is not None else None
    return Attribution(0, 0, [dict(context.enacting)], verb, "pronoun") if verb else None


def _continued(start: int, end: int, source: Attribution, how: str) -> Attribution:
    return Attribution(start, end, [dict(s) for s in source.speakers], source.verb, how, source.group)


def _attribute_sentence(sentence: str, context: _Context, first: bool) -> Attribution:
    entities = find_entities(sentence, kinds=("country", "organisation", "person"))
    passive = _PASSIVE.search(sentence)
    verb = _first_verb(sentence, passive)
    if verb is None:
        context.agents = _agents(sentence, entities) if _AGENT_BY.search(sentence) else []
        if sentence.lstrip().startswith(tuple(_QUOTE_OPEN + '"')):
            # A quotation with no verb of its own goes on quoting the last speaker (across a paragraph break only
            # when it opens the paragraph, as press releases do).
            source = context.last or (context.previous_paragraph if first else None)
            if source is not None:
                return _continued(0, 0, source, "quotation")
        return Attribution(0, 0)
    if passive is not None and passive.start() <= verb.start():
        speakers = _agents(sentence[passive.end():], _shift(entities, -passive.end(), passive.end()))
        verb_text = passive.group("verb") or passive.group("verb_es") or passive.group("noun")
        found = Attribution(0, 0, speakers, verb_text.lower())
    else:
        found = _active(sentence, verb, entities, context)
    _more_clauses(sentence, verb.end() if found.speakers else len(sentence), entities, found)
    context.agents = []
    return found


def _first_verb(sentence: str, passive: re.Match | None) -> re.Match | None:
    """The main reporting verb: the first one (or the passive/noun form, if it comes first)."""
    verb = next((m for m in _VERB.finditer(sentence) if not _PASSIVE_BEFORE.search(sentence[:m.start()])), None)
    if passive is not None and (verb is None or passive.start() <= verb.start()):
        return passive
    return verb


def _active(sentence: str, verb: re.Match, entities: list[Entity], context: _Context) -> Attribution:
    lo, hi = _subject_span(sentence, verb.start())
    subject = _TRAIL_ADVERBS.sub("", sentence[lo:hi]).strip(" ,;")
    for_its_part = bool(_FOR_ITS_PART.match(sentence))
    subject = _LEAD_ADVERBS.sub("", subject).strip(" ,;")
    found = Attribution(0, 0, verb=verb.group(0).lower())
    if not subject and es.SUBJECTLESS.match(verb.group(0)):
        # Spanish drops a known subject: 'Asimismo, destacó ...' is the paragraph's last speaker speaking again.
        found = _resolve_anaphor(found, subject, for_its_part, context)
        found.verb = found.verb if found.speakers or found.group else None
        return found
    if not subject or len(subject.split()) > _SUBJECT_WORDS:
        found.verb = None  # no speaker in front of the verb: a reporting verb inside some other clause
        return found
    if _ANAPHOR.match(subject):
        return _resolve_anaphor(found, subject, for_its_part, context)
    if _GROUP.match(subject) and not _speakers_in(subject, _shift(entities, -lo, lo, hi)):
        found.group = subject
        return found
    speakers, how = _name_speakers(subject, _shift(entities, -lo, lo, hi), sentence, lo, context)
    if not speakers:
        found.verb = None  # 'The meeting noted ...', 'The document stated ...': not a speaker we know
        return found
    found.speakers, found.resolved_from = speakers, how
    return found


def _resolve_anaphor(found: Attribution, subject: str, for_its_part: bool, context: _Context) -> Attribution:
    source = context.last
    if source is None and context.agents:
        found.speakers = [dict(s) for s in context.agents]  # 'They both emphasized' after 'led by A and by B'
    elif source is None and _PERSONAL.match(subject) and context.previous_paragraph is not None:
        source = context.previous_paragraph  # 'he said' in the next paragraph of a press release
    if source is not None:
        found.speakers, found.group = [dict(s) for s in source.speakers], source.group
    found.resolved_from = "for its part" if for_its_part else "pronoun"
    if not found.speakers and found.group is None:
        found.resolved_from = None
    return found


def _subject_span(sentence: str, verb_start: int) -> tuple[int, int]:
    """Where the subject of the verb runs: from the last clause break before it (an appositive is skipped)."""
    head = sentence[:verb_start]
    pieces = [m.end() for m in re.finditer(r"[,;:]\s+|[”\"]\s*,?\s+", head)]
    starts = [0] + pieces
    lo = starts[-1]
    if not _TRAIL_ADVERBS.sub("", head[lo:]).strip() and len(starts) > 1:
        lo = starts[-2]  # 'The Assistant Secretary General of the OAS, Albert Ramdin, highlighted'
    while starts.index(lo) > 0 and _parenthetical(head[lo:]):
        lo = starts[starts.index(lo) - 1]  # 'Costa Rica, por su parte, indicó': the subject is before the aside
    return lo, verb_start


def _parenthetical(piece: str) -> bool:
    """An aside between commas that is only adverbs: ', por su parte,', ', asimismo,', ', for its part,'."""
    return bool(piece.strip()) and not _LEAD_ADVERBS.sub("", piece.strip().rstrip(",") + ",").strip(" ,")


def _shift(entities: list[Entity], offset: int, lo: int = 0, hi: int | None = None) -> list[Entity]:
    """Entities inside [lo, hi) of the sentence, with offsets moved by offset."""
    keep = [e for e in entities if e.start >= lo and (hi is None or e.end <= hi)]
    return [Entity(e.kind, e.canonical_id, e.name, e.start + offset, e.end + offset, e.text, e.role) for e in keep]


def _speakers_in(subject: str, entities: list[Entity]) -> list[Entity]:
    people = [e for e in entities if e.kind == "person"]
    return people or [e for e in entities if e.kind in ("country", "organisation")]


def _name_speakers(subject: str, entities: list[Entity], sentence: str, lo: int,
                   context: _Context) -> tuple[list[dict], str | None]:
    """Speakers named in the subject: people first (a country in a person's role is their employer)."""
    by_role = _by_role(subject, context)
    if by_role is not None:
        return [by_role], "role"
    chosen = _speakers_in(subject, entities)
    lead = max(lead.match(subject).end() for lead in _SUBJECT_LEADS)
    if not chosen and lead:  # 'la delegación uruguaya': Spanish writes the demonym in lower case
        chosen = [e for e in find_entities(subject[lead:], kinds=("country",), case_sensitive=False)
                  if e.start == 0 and not fold(subject[lead:]).startswith(("de ", "del "))]
        chosen = _shift(chosen, lead)
    if chosen and chosen[0].start <= lead:
        # The speaker heads the subject; 'one woman working in Ghana stated' is not Ghana speaking.
        return [_speaker(e, sentence, lo, context) for e in chosen], None
    bare = subject.removeprefix("the ").strip()
    known = context.people.get(fold(bare.split()[-1])) if bare else None
    if known and re.fullmatch(NAME_PATTERN, bare):
        return [dict(known)], None  # 'Ramdin said': a person this report named in full before
    if len(bare.split()) >= 2 and re.fullmatch(NAME_PATTERN, bare) and not entities and \
            fold(bare.split()[0]) not in es.ARTICLES and \
            not any(fold(w) in NOT_NAMES or fold(w) in _PLACE_WORDS for w in bare.split()):
        # 'El Perú', 'La República Oriental del Uruguay' are countries, never people
        return [_person_record(bare)], None
    return [], None


def _by_role(subject: str, context: _Context) -> dict | None:
    """'the OAS Assistant Secretary General' -> the person this report introduced with that role."""
    folded = fold(subject)
    if re.search(rf"{NAME_PATTERN}\s*$", subject.split(",")[-1].strip()) and "," in subject:
        return None  # 'The Assistant Secretary General ..., Albert Ramdin': the name itself decides
    for head in sorted(_ROLE_HEADS, key=len, reverse=True):
        if match := re.search(rf"\b{head}\b", folded):
            # 'la Ministra de la Mujer' is not 'la Ministra de Seguridad': what follows the post must fit too
            rest = re.sub(r"\b(?:of|the|de|del|la|el|los|las)\b", " ", folded[match.end():]).split()
            for role, person in reversed(context.roles):
                if head in role and all(word in role for word in rest):
                    return dict(person)
            return None
    return None


def _speaker(entity: Entity, sentence: str, lo: int, context: _Context) -> dict:
    if entity.kind != "person":
        return {"kind": entity.kind, "id": entity.canonical_id, "name": entity.name}
    known = context.people.get(entity.canonical_id.rsplit("-", 1)[-1]) or context.people.get(_person_id(entity.name))
    record = dict(known) if known else _person_record(entity.name)
    affiliation = _affiliation(sentence, lo + entity.end)
    if affiliation and "affiliation" not in record:
        record["affiliation"] = affiliation
    return record


def _person_id(name: str) -> str:
    """'Albert R. Ramdin' and 'Albert Ramdin' are one person: initials are dropped from the id."""
    return "-".join(w for w in slug(name).split("-") if len(w) > 1)


def _person_record(name: str) -> dict:
    return {"kind": "person", "id": _person_id(name), "name": name}


def _affiliation(sentence: str, at: int) -> dict | None:
    """'Javier González-Olaechea (ILO)', 'Mr. Felipe de la Torre of the United Nations Office ... (UNODC)'."""
    after = sentence[at:at + 120]
    match = re.match(r"\s*(?:\(|,?\s+(?:of|de|del)\s+(?:the\s+|la\s+|el\s+)?)", after)
    if not match:
        return None
    for e in find_entities(after[match.end():]):
        if e.start == 0 and e.kind in ("organisation", "country"):
            return {"kind": e.kind, "id": e.canonical_id, "name": e.name}
    return None


def _agents(text: str, entities: list[Entity]) -> list[dict]:
    """Who a 'by ...' phrase names: every person outside quoted titles, else the first country/organisation."""
    quoted = [(m.start(), m.end()) for m in re.finditer(r"“[^”]*”|\"[^\"]*\"", text)]
    usable = [e for e in entities if not any(a <= e.start < b for a, b in quoted)]
    people = [e for e in usable if e.kind == "person"]
    if people:
        return [_speaker(e, text, 0, _Context()) for e in people]
    others = [e for e in usable if e.kind in ("country", "organisation")]
    lead = max(p.match(text.lstrip()).end() for p in _SUBJECT_LEADS) + len(text) - len(text.lstrip())
    if others and others[0].start <= lead:
        return [_speaker(others[0], text, 0, _Context())]
    return []


def _more_clauses(sentence: str, after: int, entities: list[Entity], found: Attribution) -> None:
    """'..., and the delegation of Canada proposed ...': later coordinated clauses with their own speaker."""
    for verb in _VERB.finditer(sentence, after):
        head = sentence[:verb.start()]
        brk = max((m for m in re.finditer(rf";\s+|,\s+and\s+|\s+and\s+|,\s+which\s+|,\s+who\s+|{es.CLAUSE_BREAKS_ES}",
                                          head)),
                  key=lambda m: m.end(), default=None)
        if brk is None:
            continue
        subject = _TRAIL_ADVERBS.sub("", head[brk.end():]).strip()
        if not subject or _ANAPHOR.match(subject):
            continue  # 'and proposed', 'and it emphasized', ', which emphasized': the same speaker
        inside = _speakers_in(subject, _shift(entities, -brk.end(), brk.end(), verb.start()))
        if inside and len(subject.split()) <= _SUBJECT_WORDS and head[brk.end():].lstrip()[:1].isupper() or \
                inside and re.match(r"(?:the\s+|la\s+|el\s+)?(?:delegation|government|representative|delegaci[oó]n|"
                                    r"gobierno|representante)", subject, re.I):
            for e in inside:
                record = _speaker(e, sentence, brk.end(), _Context())
                if record["id"] not in {s["id"] for s in found.speakers}:
                    found.speakers.append(record)


def _learn_people(sentence: str, context: _Context) -> None:
    """Remember the people a report names, with their roles, so 'Ramdin' and 'the Assistant Secretary
    General' later in the report resolve to 'Albert Ramdin'."""
    for e in find_entities(sentence, kinds=("person",)):
        if "-" in e.canonical_id:
            record = _person_record(e.name)
            context.people.setdefault(e.canonical_id.rsplit("-", 1)[-1], record)
            context.people.setdefault(record["id"], record)
            if e.role:
                context.roles.append((fold(e.role), record))
    for m in _APPOSITIVE_NAME.finditer(sentence):
        name = m.group("name")
        if any(fold(w) in NOT_NAMES for w in name.split()):
            continue
        record = _person_record(name)
        context.people.setdefault(fold(name.split()[-1]), record)
        context.people.setdefault(record["id"], record)
        context.roles.append((fold(m.group("role")), record))


# ---- a whole report, mapped onto its chunks -----------------------------------------------------------------
def attribute_report(report, chunks) -> list[Statement]:
    """Statements of a Report, each located in its chunk (chunks may split or join paragraphs).

    Args:
        report: a reports.Report; its sections' paragraphs are attributed in order.
        chunks: chunk_report(report) for the same report.
    Returns:
        The statements (sentences with a reporting verb), in report order.
    """
    by_section: dict[str, list] = {}
    for chunk in chunks:
        by_section.setdefault(" › ".join(chunk.section_path), []).append(chunk)
    statements: list[Statement] = []
    position, located, current = 0, None, None
    for section, text, attributions in attribute_sections(report.sections, report.title):
        if section is not current:
            current, located = section, _Locator(by_section.get(section.path_text, []))
        for found in attributions:
            position += 1
            sentence = text[found.start:found.end]
            place = located.find(sentence)
            if found.is_statement and place is not None:
                chunk, start = place
                statements.append(Statement(
                    report.report_id, chunk.chunk_id, chunk.section, sentence, start, start + len(sentence),
                    found.speakers, found.verb, found.resolved_from, found.group, chunk.report_title,
                    list(chunk.section_path), chunk.page, position))
    return statements


def attribute_sections(sections, title: str = ""):
    """Attribute a report's sections in order, headings read too ('LA ASAMBLEA GENERAL,' may be one).

    Args:
        title: the report's title; a speech's speaker is the one it names (documents.speech_speaker).
    Yields:
        (section, paragraph.strip(), [Attribution per sentence]) for every paragraph.
    """
    context = _Context()
    opening = next((p for section in sections for p in section.paragraphs if p.strip()), "")
    speech = documents.speech_speaker(title, opening)
    context.speech = _speaker(speech, title, 0, context) if speech else None
    for section in sections:
        _learn_enacting(section.heading, context)
        for paragraph in section.paragraphs:
            context.new_paragraph()
            text = paragraph.strip()
            yield section, text, _attribute_paragraph(text, context)


class _Locator:
    """Finds successive sentences in a section's chunks, moving forward only (a sentence may repeat)."""

    def __init__(self, chunks: list):
        self.chunks, self.index, self.offset = chunks, 0, 0

    def find(self, sentence: str):
        for i in range(self.index, len(self.chunks)):
            at = self.chunks[i].text.find(sentence, self.offset if i == self.index else 0)
            if at >= 0:
                self.index, self.offset = i, at + len(sentence)
                return self.chunks[i], at
        return None


__all__ = ["Attribution", "VERSION", "attribute_paragraphs", "attribute_report", "attribute_sections"]
