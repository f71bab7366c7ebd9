"""The short answer inside the answering sentence: the span of the kind the question asks for (a country, person,
organisation, date, number, place, document symbol, a list of them) or the answering clause; always text of the
passage, never made up. Rules on the sentence's grammar (its subject, a passive 'by', 'It also ...' pointing back, a
role after a name), not on the question's words.
"""
from __future__ import annotations

import functools
import re

from ..language.entities import Entity, find_entities, fold
from .questions import Question, covers, stem, stems
from .retrieval import Hit

KINDS = {"country": ("country",), "nationality": ("country",), "organisation": ("organisation",),
          "person": ("person",), "agent": ("country", "organisation", "person"), "date": ("date",),
          "document": ("document",), "number": ("number",)}


def coverage(terms: list[str], words: set[str]) -> float:
    if not terms:
        return 0.0
    return sum(covers(t, words) for t in terms) / len(terms)


@functools.lru_cache(maxsize=4096)
def chunk_entities(text: str) -> tuple[Entity, ...]:
    return tuple(find_entities(text))


PRONOUN = re.compile(r"^(?:It|They|He|She|Its|This country|The country|That country)\b")
_SUBJECT_LEAD = re.compile(
    r"^(?:[^,]{3,90},\s*)?(?:(?:for its part|for their part|finally|in addition|also|then|however|similarly|likewise|moreover|"
    r"furthermore|at the same time|in this regard|lastly|first|second|third|next),?\s*)*"
    r"(?:the\s+)?(?:(?:delegation|government|representative)s?\s+of(?:\s+the)?)?\s*$", re.I)
_AGENT_BEFORE = re.compile(r"\bby\s+(?:the\s+)?(?:(?:delegation|government|representative)s?\s+of\s+(?:the\s+)?)?$", re.I)
_CLAUSE_BREAK = re.compile(r";\s+|,\s+and\s+(?=(?:the\s+)?(?:delegation|[A-Z]))|,\s+(?:while|whereas|but)\s+")


def short_answer(q: Question, hit: Hit, span: tuple[int, int]) -> tuple[str | None, str]:
    """The span of the expected type in the evidence sentence, or the answering clause for other questions."""
    text = hit.chunk.text
    clause = _best_clause(q, text, span)
    kind = q.expected
    if kind == "section":
        return _section(q, hit) or article_in(q, text, span), "section"
    if kind == "place":
        return _place(text, clause, span), "place"
    if kind == "other":
        return _other(q, text, clause), "other"
    if q.plural or kind == "nationality":
        items = _list_items(q, text, span)
        if items and not q.plural:  # 'Which nationality ...?': the first the sentence names
            return items[0], "country"
        return (", ".join(items) if items else None), "list"
    entity = _pick(q, text, clause, span)
    if entity is None:
        return None, kind if kind != "agent" else "person"
    people = _enumerated_people(q, text, span, entity)
    if people:
        return ", ".join(people), "list"
    return _display(entity), entity.kind if kind == "agent" else kind


def _clauses(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    out, start = [], span[0]
    for m in _CLAUSE_BREAK.finditer(text, span[0], span[1]):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, span[1]))
    return out


def _best_clause(q: Question, text: str, span: tuple[int, int]) -> tuple[int, int]:
    clauses = _clauses(text, span)
    if len(clauses) == 1:
        return clauses[0]
    def score(clause):
        words = stems(text[clause[0]:clause[1]])
        named = sum(any(e.canonical_id == c.canonical_id for c in chunk_entities(text) if clause[0] <= c.start < clause[1])
                    for e in q.entities)
        return coverage(q.terms, words) + 0.5 * named
    return max(clauses, key=score)


def named_in_question(q: Question, entity: Entity) -> bool:
    if entity.canonical_id in q.entity_ids:
        return True
    if entity.kind == "person":  # 'Ricardes' in the question names 'Ambassador Raúl Ricardes'
        surname = entity.canonical_id.rsplit("-", 1)[-1]
        return surname in {w for w in re.findall(r"[a-z]+", fold(q.text + " " + q.english))}
    return False


def _role_spans(text: str) -> list[tuple[int, int]]:
    """Where people's roles run ('..., Coordinator General of International Issues of the Argentine Republic'):
    a country there is someone's employer, not the one that acted."""
    spans = []
    for e in chunk_entities(text):
        if e.kind == "person" and e.role:
            role = e.role.split("; ")[-1]
            at = text.find(role, e.end, e.end + 220)
            if at >= 0:
                tail = _ROLE_TAIL.match(text, at + len(role))  # ', International Trade, and Worship of the Argentine Republic'
                spans.append((e.end, tail.end() if tail else at + len(role)))
    return spans


# A role's name may run on past commas in Title Case ('Ministry of Foreign Affairs, International Trade, and Worship
# of the Argentine Republic'); a lower-case word ('to serve', 'and the delegation of') ends it.
_ROLE_TAIL = re.compile(r"(?:,\s+(?:and\s+)?[A-ZÁÉÍÓÚ][\w’'-]*(?:\s+(?:[A-ZÁÉÍÓÚ][\w’'.-]*|of|and|the|for|on|de|y))*)+")


def _pick(q: Question, text: str, clause: tuple[int, int], span: tuple[int, int]) -> Entity | None:
    kinds = KINDS[q.expected]
    roles = _role_spans(text) if q.expected in ("country", "agent") else []

    def usable(e: Entity, lo: int, hi: int) -> bool:
        inside_role = any(a <= e.start < b for a, b in roles)
        return lo <= e.start < hi and e.kind in kinds and not named_in_question(q, e) and not inside_role

    found = chunk_entities(text) + _named_by_form(text, span, kinds)
    in_clause = _by_measure(q, [e for e in found if usable(e, *clause)])
    if q.expected in ("country", "agent"):
        subject = _subject(text, clause, in_clause)
        if subject is not None:
            return subject
        if PRONOUN.match(text[span[0]:span[1]]) or PRONOUN.match(text[clause[0]:clause[1]]):
            return _antecedent(q, text, span, usable)
    if in_clause:
        return _nearest(q, text, clause, in_clause)
    in_sentence = _by_measure(q, [e for e in found if usable(e, *span)])
    return in_sentence[0] if in_sentence else None


_SHARE = re.compile(r"\b(?:share|percentage|proportion|per ?cent|fraction|portion)\b|%|\bporcentaje|\bproporci[oó]n",
                    re.I)
_COUNT = re.compile(r"\bhow many\b|\bcu[aá]nt[oa]s\b", re.I)


def _by_measure(q: Question, entities: list[Entity]) -> list[Entity]:
    """A question for a share takes a percentage where the sentence has one; 'how many ...?' a count where it has
    one ('26 per cent of girls ... (for a total of 138 girls)')."""
    if q.expected != "number" or not entities:
        return entities
    asked = q.text + " " + q.english
    share = [e for e in entities if e.canonical_id.endswith("%")]
    if _SHARE.search(asked):
        return share or entities
    if _COUNT.search(asked):
        return [e for e in entities if not e.canonical_id.endswith("%")] or entities
    return entities


# Names the gazetteer does not know, read from their form: an acronym in capitals ('PROTEX'), a name in Title Case
# headed by a word for a body ('Comisión Nacional de Comunicaciones'), a reference to a legal text ('Resolución Nº
# 187', 'article 17', 'Ley 26.842').
_BODY = (r"(?:Commission|Comisi[óo]n|Committee|Comit[ée]|Ministry|Ministerio|Office|Oficina|Agency|Agencia|Programme|"
         r"Program|Programa|Unit|Unidad|Department|Departamento|Secretariat|Secretar[íi]a|Council|Consejo|Fiscal[íi]a|"
         r"Procuradur[íi]a|Organi[sz]ation|Organizaci[óo]n|Fund|Fondo|Institute|Instituto|Centre|Center|Centro|Network|"
         r"Red|Club|Alliance|Alianza|Court|Tribunal|Police|Polic[íi]a|Directorate|Direcci[óo]n|Association|"
         r"Asociaci[óo]n|Foundation|Fundaci[óo]n|Union|Uni[óo]n|Bank|Banco|Service|Servicio|Bureau|Board|Authority|"
         r"Autoridad|Group|Grupo|Movement|Movimiento|Coalition|Task Force|Observatory|Observatorio)(?![\w’'-])")
_CAP = r"[A-ZÁÉÍÓÚÑ][\w’'-]+"
_LINK = r"(?:\s+(?:of|the|for|on|and|in|against|de|del|la|las|los|el|y|para|contra|sobre|en)){0,2}"
_BODY_NAME = re.compile(rf"(?:{_CAP}\s+)*{_BODY}(?:{_LINK}\s+{_CAP})*|{_CAP}(?:{_LINK}\s+{_CAP})*{_LINK}\s+{_BODY}"
                        rf"(?:{_LINK}\s+{_CAP})*")
_ACRONYM = re.compile(r"\b[A-Z]{3,}(?:-[A-Z]+)?\b")
_LEGAL = re.compile(r"\b(?:Resoluci[óo]n|Resolution|Ley|Law|Decreto|Decree|Art[íi]culo|Article|Art\.)\s+(?:N[º°o]\.?\s*)?"
                    r"\d+(?:[./]\d+)*(?:\s*\([\w./-]+\))?(?:,?\s+(?:paragraph|p[áa]rrafo|inciso)\s+\d+)?", re.I)


def _named_by_form(text: str, span: tuple[int, int], kinds: tuple[str, ...]) -> tuple[Entity, ...]:
    """Candidates of the kinds asked for, in the sentence, that the gazetteer left out."""
    out = []
    known = [(e.start, e.end) for e in chunk_entities(text) if e.kind in kinds]
    def add(kind, m):
        a, b = m.start(), m.end()
        if not any(x < b and a < y for x, y in known):
            out.append(Entity(kind, fold(m.group(0)), m.group(0), a, b, m.group(0)))
            known.append((a, b))
    if "document" in kinds:
        for m in _LEGAL.finditer(text, span[0], span[1]):
            add("document", m)
    if "organisation" in kinds:
        for m in _BODY_NAME.finditer(text, span[0], span[1]):
            if len(m.group(0).split()) >= 2:
                add("organisation", m)
        for m in _ACRONYM.finditer(text, span[0], span[1]):
            add("organisation", m)
    return tuple(sorted(out, key=lambda e: e.start))


def article_in(q: Question, text: str, span: tuple[int, int]) -> str | None:
    """'Which article ...?' answered by a sentence that names one ('según lo establece el artículo 17 de la Ley')."""
    for m in _LEGAL.finditer(text, span[0], span[1]):
        if re.match(r"(?i)art", m.group(0)) and fold(m.group(0)) not in fold(q.text + " " + q.english):
            return m.group(0)
    return None


def _subject(text: str, clause: tuple[int, int], entities: list[Entity]) -> Entity | None:
    """The actor of the clause: at its start ('For its part, Brazil proposed'), or after 'by' (passive)."""
    for e in entities:
        before = text[clause[0]:e.start]
        after = text[e.end:e.end + 12]
        if _SUBJECT_LEAD.match(before.strip()) or _AGENT_BEFORE.search(before):
            return e
        if after.startswith(" delegation"):  # 'The Argentine delegation also announced'
            return e
    return None


def _antecedent(q: Question, text: str, span: tuple[int, int], usable) -> Entity | None:
    """'It also proposed ...': the subject of the nearest sentence before it that has one."""
    for start, end in reversed([s for s in _sentence_spans_before(text, span)]):
        for clause in _clauses(text, (start, end)):
            entities = [e for e in chunk_entities(text) if usable(e, *clause)]
            subject = _subject(text, clause, entities)
            if subject is not None:
                return subject
        if not PRONOUN.match(text[start:end]):
            break  # a sentence with another subject ends the chain
    return None


def _sentence_spans_before(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    from ..text import sentence_spans
    return [s for s in sentence_spans(text) if s[1] <= span[0]]


def _nearest(q: Question, text: str, clause: tuple[int, int], entities: list[Entity]) -> Entity:
    """The candidate closest to the words the question shares with the clause (or to what it names);
    a person whose role matches the question ('the Argentine Minister of Justice') comes first."""
    if entities[0].kind == "person":
        by_role = max(entities, key=lambda e: coverage(q.terms, stems(e.role or "")))
        if coverage(q.terms, stems(by_role.role or "")) >= 0.4:
            return by_role
    anchors: dict[str, list[tuple[int, int]]] = {}
    for m in re.finditer(r"[\wÀ-ÿ'’.-]+", text[clause[0]:clause[1]]):
        for t in q.terms:
            if covers(t, {stem(m.group(0))}):
                anchors.setdefault(t, []).append((clause[0] + m.start(), clause[0] + m.end()))
    for e in q.entities:  # 'Which organization did Felipe de la Torre represent?': his organisation follows him
        if e.kind == "person":
            surname = e.canonical_id.rsplit("-", 1)[-1]
            for m in re.finditer(re.escape(surname), fold(text[clause[0]:clause[1]])):
                anchors.setdefault("@" + surname, []).append((clause[0] + m.start(), clause[0] + m.end()))
    if not anchors:
        return entities[0]
    weights = {t: (3.0 if t.startswith("@") else 1.0) for t in anchors}
    return min(entities, key=lambda e: sum(weights[t] * min(_distance(e, a) for a in spans) for t, spans in anchors.items()))


def _distance(e: Entity, anchor: tuple[int, int]) -> float:
    if e.start >= anchor[1]:
        return e.start - anchor[1]  # things that follow a mention belong to it
    if e.end <= anchor[0]:
        return (anchor[0] - e.end) * 1.5
    return 0.0


def _enumerated_people(q: Question, text: str, span: tuple[int, int], entity: Entity) -> list[str]:
    """'declared opened by A, Minister ...; B, Minister ...; and C, ...': everyone in the enumeration."""
    if entity.kind != "person" or q.entities:
        return []
    people = [e for e in chunk_entities(text) if e.kind == "person" and span[0] <= e.start < span[1]]
    pair = _coordinated(text, entity, people)
    if pair:
        return pair
    if ";" not in text[span[0]:span[1]]:
        return []
    segments = [text[a:b] for a, b in _clauses(text, span)]
    if len(people) < 2 or len(segments) < 2:
        return []
    starts = sum(bool(re.match(r"^(?:and\s+)?(?:Mr\.|Mrs\.|Ms\.|Dr\.|Ambassador|Minister)?\s*[A-ZÁÉÍÓÚ]", s.split(",")[0]))
                 for s in segments[1:])
    return [_display(p) for p in people] if starts == len(segments) - 1 else []


_AND = re.compile(r"\s*(?:\([^()]{0,80}\))?\s*,?\s+and\s+$")


def _coordinated(text: str, entity: Entity, people: list[Entity]) -> list[str]:
    """'delivered by Patricia Seale (BPW) and Ana Salvadó (...)': both did it, so both are the answer."""
    following = [p for p in people if p.start >= entity.end]
    if following and _AND.fullmatch(text[entity.end:following[0].start]):
        return [_display(entity), _display(following[0])]
    return []


def _list_items(q: Question, text: str, span: tuple[int, int]) -> list[str]:
    kinds = KINDS.get(q.expected, ("country", "organisation", "person"))
    seen, items = set(), []
    for e in chunk_entities(text):
        if span[0] <= e.start < span[1] and e.kind in kinds and not named_in_question(q, e) and e.canonical_id not in seen:
            seen.add(e.canonical_id)
            items.append(e.text if q.expected == "nationality" else _display(e))
    return items


def _display(e: Entity) -> str:
    if e.kind == "organisation" and e.text != e.canonical_id and e.text.isupper():
        return e.text  # 'ACNUR' stays as written
    return e.text


_PLACE = re.compile(r"\b(?:in|at)\s+((?:the\s+)?[A-Z][\w.'’-]*(?:(?:\s+|,\s+)(?:of\s+(?:the\s+)?)?[A-Z][\w.'’-]*)*)")


# A title in quotation marks ('“... Trafficking in Persons”') names a document, not where something happened.
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"")
_HELD_IN = re.compile(r"\b(?:held|took place|met|convened|hosted|headquartered|based)\s+(?=(?:in|at)\s)")


def _place(text: str, clause: tuple[int, int], span: tuple[int, int]) -> str | None:
    for m in _HELD_IN.finditer(text, span[0], span[1]):  # 'held in Margarita' names the venue itself
        place, end = None, m.end()
        while (found := _PLACE.match(text, end)) and found.start() - end < 40:
            place, end = found.group(1).rstrip(".,"), found.end()  # 'at OAS headquarters in Washington'
            following = re.compile(r"[^.;]{0,30}?\b(?=(?:in|at)\s+[A-Z])").match(text, end)
            if not following:
                break
            end = following.end()
        if place:
            return place.replace("D.C", "D.C.").replace("D.C..", "D.C.") if place.endswith("D.C") else place
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text, span[0], span[1])]
    for lo, hi in (clause, span):
        places = [m.group(1).rstrip(".,") + ("." if m.group(1).endswith("D.C.") else "")
                  for m in _PLACE.finditer(text, lo, hi) if not any(a <= m.start() < b for a, b in quoted)]
        places = [p.replace("D.C..", "D.C.") for p in places if not p.lower().startswith(("the meeting", "the plenary"))]
        if places:
            return places[-1]
    return None


UNIT = re.compile(r"\b(article|section|chapter|part|paragraph|annex)s?\b", re.I)


def _section(q: Question, hit: Hit) -> str | None:
    """'Which article defines ...?' -> the heading of that kind on the passage's section path ('Article 3')."""
    unit = UNIT.search(q.english)
    for heading in reversed(hit.chunk.section_path):
        if unit and re.match(rf"{unit.group(1)}\b", heading, re.I):
            return heading
    return None


def _other(q: Question, text: str, clause: tuple[int, int]) -> str | None:
    """'What did Ramdin say the effort should focus on?' -> the part of the clause the question does not already
    say: of its pieces (cut at punctuation, quotation marks and parentheses; a quoted name counts two words more), the
    one with the most words the question does not have and the fewest it does, begun at its first such word; None
    when every such piece is a clause longer than a short answer."""
    best, best_score = None, 0.0
    for answer, score in other_pieces(q, text, clause):
        if score > best_score or (score == best_score and best is not None):
            best, best_score = answer, score
    return best


def other_pieces(q: Question, text: str, clause: tuple[int, int]) -> list[tuple[str, float]]:
    """Every piece of the clause that could answer an 'other' question (_other's candidates), with the rules'
    score: the words the question does not have, less twice those it does, two more for a quoted piece."""
    asked = stems(q.text) | stems(q.english)
    out = []
    for piece, quoted in _pieces(text[clause[0]:clause[1]]):
        words = [w for w in _WORD_IN.findall(piece) if fold(w) not in _LEADING]
        new = [w for w in words if stem(w) not in asked]
        if not new:
            continue
        answer = _after_known(piece, asked)
        if len(answer.split()) > OTHER_WORDS:
            continue  # a clause, not a short answer: the sentence is shown as the closest the reports come
        out.append((answer, len(new) - 2.0 * (len(words) - len(new)) + (2.0 if quoted else 0.0)))
    return out


OTHER_WORDS = 12  # the longest short answer to an 'other' question: a name or a noun phrase, not a clause


_WORD_IN = re.compile(r"[\wÀ-ÿ'’-]+")
# Words that open a piece without being part of what it names: 'is known as kayayie', 'that the first step must be'.
_LEADING = frozenset("that which who is are was were be been being known as called named by to of the a an and or "
                     "must should would could can will may also mainly namely including such el la los las lo que es "
                     "son fue fueron ser por como de del en a y o un una se".split())


def _pieces(body: str) -> list[tuple[str, bool]]:
    """The clause cut at commas, semicolons, colons, dashes, quotation marks and parentheses; quoted pieces flagged."""
    out = [(m.group(1) or m.group(2), True) for m in re.finditer(r"[“\"]([^”\"]{2,120})[”\"]|\(([^()]{2,120})\)", body)]
    plain = re.sub(r"[“\"][^”\"]{2,120}[”\"]|\([^()]{2,120}\)", "|", body)
    out += [(p, False) for p in re.split(r"\s*(?:[,;:|]|\s[–—-]\s)\s*", plain) if p.strip()]
    return out


def _after_known(piece: str, asked: set[str]) -> str:
    """The piece from its first word that is neither one the question has nor one that only leads in."""
    for m in _WORD_IN.finditer(piece):
        if stem(m.group(0)) not in asked and fold(m.group(0)) not in _LEADING:
            return piece[m.start():].strip(" .,;:“”\"()")
    return piece.strip(" .,;:“”\"()")
