"""Extractive answering: pick the answering sentence and clause, then the span of the expected type.

Pure Python + numpy over retrieved Hits; the only model call is the sentence embedder handed in.
The short answer is always a span of the passage (or a list of spans), never text made up per question.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np

from ..language.entities import Entity, find_entities, fold
from .questions import Question, analyse, covers, passage_ordinals, stem, stems
from .retrieval import Hit

SENTENCE_PASSAGES = 5  # sentences are taken (and passages reranked) from this many top passages
RESCORE = 3  # best sentences rescored with their own vectors (see _score_sentences)
ABSTAIN_BELOW = 0.42  # calibrated on eval/seed_qa.jsonl (see evaluate.py and the README figures)
TYPED = ("section", "document", "date", "number", "place", "nationality", "organisation", "country", "person", "agent")
_KINDS = {"country": ("country",), "nationality": ("country",), "organisation": ("organisation",),
          "person": ("person",), "agent": ("country", "organisation", "person"), "date": ("date",),
          "document": ("document",), "number": ("number",)}


@dataclass
class Extracted:
    hit: Hit
    span: tuple[int, int]  # of the evidence sentence inside hit.chunk.text
    answer: str | None
    answer_type: str
    confidence: float
    abstain: bool
    features: dict = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # hit indices, best passage first (reranked by sentences)


def retrieval_text(question: str) -> str:
    q = analyse(question)
    text = q.english if q.language != "en" else question
    if q.expected == "section":  # 'Which article ...' asks for a heading: 'article' in the text is noise
        text = _UNIT.sub(" ", text)
    if re.search(r"\bdefin", text, re.I):  # legal texts define terms as '"X" shall mean ...' under 'Use of terms'
        text += " shall mean use of terms"
    return text


def answer_question(question: str, hits: list[Hit], sentence_vectors, query_vector: np.ndarray) -> Extracted | None:
    if not hits:
        return None
    q = analyse(question)
    candidates = [(hit, span) for hit in hits[:SENTENCE_PASSAGES] for span in hit.chunk.sentences]
    if not candidates:
        return None
    scores, dense = _score_sentences(q, candidates, sentence_vectors, query_vector)
    best, answer, kind = _first_answering(q, candidates, scores)
    hit, span = candidates[best]
    features = _features(q, hit, span, float(dense[best]), answer)
    confidence = _confidence(features)
    abstain = _abstain(q, features, confidence)
    order = _rerank(hits, candidates, scores, evidence=hit)
    return Extracted(hit, span, None if abstain else answer, kind, confidence, abstain, features, order)


def _rerank(hits: list[Hit], candidates, scores: np.ndarray, evidence: Hit) -> list[int]:
    """Passages ordered by their best sentence, the evidence passage first: the sentence scorer reads the
    question more closely than passage retrieval does."""
    best: dict[int, float] = {}
    index = {id(h): i for i, h in enumerate(hits)}
    for (hit, _), score in zip(candidates, scores):
        i = index[id(hit)]
        best[i] = max(best.get(i, -1e9), float(score))
    best[index[id(evidence)]] = float("inf")
    ranked = sorted(best, key=lambda i: -best[i])
    return ranked + [i for i in range(len(hits)) if i not in best]


def _first_answering(q: Question, candidates, scores: np.ndarray, margin: float = 0.3) -> tuple[int, str | None, str]:
    """The best sentence that holds a span of the expected type, if one scores within margin of the best."""
    order = np.argsort(-scores, kind="stable")
    first = int(order[0])
    for index in order[:6]:
        if scores[index] < scores[first] - margin:
            break
        answer, kind = short_answer(q, *candidates[index])
        if answer is not None:
            return int(index), answer, kind
    answer, kind = short_answer(q, *candidates[first])
    return first, answer, kind


# ---- the answering sentence -------------------------------------------------------------------------

def _score_sentences(q: Question, candidates, sentence_vectors, query_vector) -> tuple[np.ndarray, np.ndarray]:
    sources = [(hit, _context_spans(hit, span)) for hit, span in candidates]
    texts = [" ".join(hit.chunk.text[a:b] for a, b in spans) for hit, spans in sources]
    dense = _embed(sentence_vectors, texts, sources) @ query_vector
    overlap = np.array([_coverage(q.terms, stems(t)) for t in texts])
    prior = np.array([1.0 / (hit.rank + 1) for hit, _ in candidates])
    typed = np.array([_has_candidate(q, hit, span) for hit, span in candidates], dtype=np.float32)
    unmet = np.array([_unmet(q, hit) for hit, _ in candidates], dtype=np.float32)
    defines = np.array([_defines(q, hit.chunk.text[a:b]) for hit, (a, b) in candidates], dtype=np.float32)
    rest = 0.5 * overlap + 0.15 * prior + 0.15 * typed - 0.3 * unmet + 0.5 * defines
    # Stored sentence vectors are read in the passage's context (its tokens pooled over the sentence): free at
    # question time, and they rank sentences well, but not always in the order the sentence alone gives
    # (alone: 2 more right answers of 93 on the seed set, 1 of 52 held out). The few that can win are
    # rescored with the sentence encoded on its own (cached across questions); with RESCORE = 3 both
    # evaluation sets give the same answers and evidence as encoding every sentence.
    top = np.argsort(-(dense + rest), kind="stable")[:RESCORE]
    dense[top] = _embed(sentence_vectors, [texts[i] for i in top], None) @ query_vector
    return dense + rest, dense


_DEFINITION = re.compile(r"^\W{0,3}(?:[a-z]\)\s*)?[\"“']?(?P<term>[^\"”']{2,80})[\"”']?\s+(?:shall mean|means|is defined as|"
                         r"refers to|shall be understood as|se entender[aá] por|significa)\b", re.I)


def _defines(q: Question, sentence: str) -> bool:
    """A question about what defines a term favours the sentence that defines it ('"X" shall mean ...')."""
    if not re.search(r"\bdefin|\bmeaning of\b|\bwhat (?:is|are) meant by\b", q.english, re.I):
        return False
    m = _DEFINITION.match(sentence)
    return bool(m) and covers(stem(m.group("term").split()[0]), stems(q.english))


@functools.lru_cache(maxsize=2048)
def _passage_facts(chunk_text: str, section: str) -> tuple[frozenset, str, frozenset]:
    ids = {e.canonical_id for e in chunk_entities(chunk_text)} | {e.canonical_id for e in find_entities(section)}
    return frozenset(ids), fold(section + " " + chunk_text), frozenset(passage_ordinals(section + " " + chunk_text))


def _missing(q: Question, hit: Hit) -> tuple[list[str], list[int]]:
    """What the question names (entities, ordinals) that the passage never mentions."""
    ids, folded, ords = _passage_facts(hit.chunk.text, " ".join(hit.chunk.section_path))
    entities = [e.text for e in q.entities if e.kind in ("country", "organisation", "person", "document")
                and e.canonical_id not in ids and e.canonical_id.rsplit("-", 1)[-1] not in folded
                and not (e.kind == "organisation" and re.search(rf"\b{re.escape(fold(e.name))}\b", folded))]
    # An organisation counts as named when its full name is there, even inside a longer one: 'the UN ... office'
    # is met by 'United Nations Office on Drugs and Crime'.
    return entities, sorted(q.ordinals - ords)


def _unmet(q: Question, hit: Hit) -> int:
    entities, numbers = _missing(q, hit)
    return len(entities) + len(numbers)


def _with_context(hit: Hit, span: tuple[int, int]) -> str:
    """A sentence that opens with 'It also ...' is read with the sentence before it, which names 'it'."""
    return " ".join(hit.chunk.text[a:b] for a, b in _context_spans(hit, span))


def _context_spans(hit: Hit, span: tuple[int, int]) -> list[tuple[int, int]]:
    """The sentence's span, after the span of the earlier sentence it needs to be understood, if any."""
    text = hit.chunk.text[span[0]:span[1]]
    before = [s for s in hit.chunk.sentences if s[1] <= span[0]]
    if _PRONOUN.match(text) and before:
        return [before[-1], span]
    definite = _DEFINITE.match(text)
    if definite and before:  # 'The presentation was delivered by ...' is about the presentation named earlier
        noun = stem(definite.group(1))
        for a, b in reversed(before[-3:]):
            if noun in stems(hit.chunk.text[a:b]):
                return [(a, b), span]
    return [span]


_DEFINITE = re.compile(r"^(?:The|This|That|These|Those)\s+([a-z]{4,})\s+(?:was|were|is|are|had|has)\b")


def _embed(sentence_vectors, texts: list[str], sources) -> np.ndarray:
    """Sentence vectors, each distinct text once. sentence_vectors(texts, sources) reads them from the index
    where it stored them (sources: (hit, spans) of each text), else encodes (and caches) the texts."""
    first = {}
    for i, text in enumerate(texts):
        first.setdefault(text, i)
    unique = list(first)
    vectors = np.asarray(sentence_vectors(unique, sources and [sources[i] for i in first.values()]), dtype=np.float32)
    row = {text: i for i, text in enumerate(unique)}
    return vectors[[row[t] for t in texts]]


def _coverage(terms: list[str], words: set[str]) -> float:
    if not terms:
        return 0.0
    return sum(covers(t, words) for t in terms) / len(terms)


def _has_candidate(q: Question, hit: Hit, span: tuple[int, int]) -> bool:
    kinds = _KINDS.get(q.expected)
    if not kinds:
        return False
    ents = [e for e in chunk_entities(hit.chunk.text) if span[0] <= e.start < span[1] and e.kind in kinds]
    return any(not _named_in_question(q, e) for e in ents) or bool(_PRONOUN.match(hit.chunk.text[span[0]:span[1]]))


@functools.lru_cache(maxsize=4096)
def chunk_entities(text: str) -> tuple[Entity, ...]:
    return tuple(find_entities(text))


# ---- the short answer -------------------------------------------------------------------------------

_PRONOUN = re.compile(r"^(?:It|They|He|She|Its|This country|The country|That country)\b")
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
        return _section(q, hit), "section"
    if kind == "place":
        return _place(text, clause, span), "place"
    if kind == "other":
        return _other(q, text, clause), "other"
    if q.plural or kind == "nationality":
        items = _list_items(q, text, span)
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
        return _coverage(q.terms, words) + 0.5 * named
    return max(clauses, key=score)


def _named_in_question(q: Question, entity: Entity) -> bool:
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
    kinds = _KINDS[q.expected]
    roles = _role_spans(text) if q.expected in ("country", "agent") else []

    def usable(e: Entity, lo: int, hi: int) -> bool:
        inside_role = any(a <= e.start < b for a, b in roles)
        return lo <= e.start < hi and e.kind in kinds and not _named_in_question(q, e) and not inside_role

    in_clause = [e for e in chunk_entities(text) if usable(e, *clause)]
    if q.expected in ("country", "agent"):
        subject = _subject(text, clause, in_clause)
        if subject is not None:
            return subject
        if _PRONOUN.match(text[span[0]:span[1]]) or _PRONOUN.match(text[clause[0]:clause[1]]):
            return _antecedent(q, text, span, usable)
    if in_clause:
        return _nearest(q, text, clause, in_clause)
    in_sentence = [e for e in chunk_entities(text) if usable(e, *span)]
    return in_sentence[0] if in_sentence else None


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
        if not _PRONOUN.match(text[start:end]):
            break  # a sentence with another subject ends the chain
    return None


def _sentence_spans_before(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    from ..text import sentence_spans
    return [s for s in sentence_spans(text) if s[1] <= span[0]]


def _nearest(q: Question, text: str, clause: tuple[int, int], entities: list[Entity]) -> Entity:
    """The candidate closest to the words the question shares with the clause (or to what it names);
    a person whose role matches the question ('the Argentine Minister of Justice') comes first."""
    if entities[0].kind == "person":
        by_role = max(entities, key=lambda e: _coverage(q.terms, stems(e.role or "")))
        if _coverage(q.terms, stems(by_role.role or "")) >= 0.4:
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
    kinds = _KINDS.get(q.expected, ("country", "organisation", "person"))
    seen, items = set(), []
    for e in chunk_entities(text):
        if span[0] <= e.start < span[1] and e.kind in kinds and not _named_in_question(q, e) and e.canonical_id not in seen:
            seen.add(e.canonical_id)
            items.append(e.text if q.expected == "nationality" else _display(e))
    return items


def _display(e: Entity) -> str:
    if e.kind == "organisation" and e.text != e.canonical_id and e.text.isupper():
        return e.text  # 'ACNUR' stays as written
    return e.text


_PLACE = re.compile(r"\b(?:in|at)\s+((?:the\s+)?[A-Z][\w.'’-]*(?:(?:\s+|,\s+)(?:of\s+(?:the\s+)?)?[A-Z][\w.'’-]*)*)")


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
    for lo, hi in (clause, span):
        places = [m.group(1).rstrip(".,") + ("." if m.group(1).endswith("D.C.") else "")
                  for m in _PLACE.finditer(text, lo, hi)]
        places = [p.replace("D.C..", "D.C.") for p in places if not p.lower().startswith(("the meeting", "the plenary"))]
        if places:
            return places[-1]
    return None


_UNIT = re.compile(r"\b(article|section|chapter|part|paragraph|annex)s?\b", re.I)


def _section(q: Question, hit: Hit) -> str | None:
    """'Which article defines ...?' -> the heading of that kind on the passage's section path ('Article 3')."""
    unit = _UNIT.search(q.english)
    for heading in reversed(hit.chunk.section_path):
        if unit and re.match(rf"{unit.group(1)}\b", heading, re.I):
            return heading
    return None


def _other(q: Question, text: str, clause: tuple[int, int]) -> str | None:
    """'What did Brazil propose?' -> what follows the matching verb in the clause."""
    body = text[clause[0]:clause[1]]
    for m in re.finditer(r"[\wÀ-ÿ'’-]+", body):
        word = m.group(0)
        if word[:1].islower() and any(stem(word) == stem(t) for t in q.terms if not t[:1].isupper()):
            rest = body[m.end():].strip(" ,.;:“”\"")
            if len(rest.split()) >= 2:
                return rest
    return body.strip(" .") or None


# ---- how sure, and when to say "not in the reports" -------------------------------------------------

def _features(q: Question, hit: Hit, span: tuple[int, int], dense: float, answer: str | None) -> dict:
    chunk = hit.chunk
    words = stems(" ".join(chunk.section_path) + " " + chunk.text)
    missing_entities, missing_ordinals = _missing(q, hit)
    return {
        "dense": round(dense, 4),
        "sentence_coverage": round(_coverage(q.terms, stems(_with_context(hit, span))), 3),
        "passage_coverage": round(_coverage(q.terms, words), 3),
        "missing_entities": missing_entities,
        "missing_ordinals": missing_ordinals,
        "focus_missing": q.expected == "other" and bool(q.focus) and not covers(q.focus, stems(_with_context(hit, span))),
        "object_missing": _object_missing(q, _with_context(hit, span)),
        "typed": q.expected in TYPED,
        "found": answer is not None,
        "expected": q.expected,
        "language": q.language,
    }


def _object_missing(q: Question, sentence: str) -> bool:
    """'Which country proposed a regional fund ...?' answered by a sentence where a country proposes something
    else: no word of the thing acted on ('regional fund') is in the sentence, so the actor is not the answer."""
    if q.expected not in ("country", "agent") or not q.action_object:
        return False
    words = stems(sentence)
    return not any(covers(w, words) for w in q.action_object)


def _confidence(f: dict) -> float:
    score = 0.55 * f["dense"] + 0.25 * f["passage_coverage"] + 0.2 * f["sentence_coverage"]
    if f["missing_entities"] or f["missing_ordinals"]:
        score *= 0.5
    if f["typed"] and not f["found"]:
        score *= 0.6
    return float(np.clip(score, 0.0, 1.0))


def _abstain(q: Question, f: dict, confidence: float) -> bool:
    if f["missing_entities"] or f["missing_ordinals"]:
        return True  # the question names something the passage never mentions
    if f["typed"] and not f["found"]:
        return True
    if f["focus_missing"] or f["object_missing"] or (not f["typed"] and f["sentence_coverage"] < 0.5):
        return True  # 'What budget ...?' answered by a sentence that never speaks of one
    return confidence < ABSTAIN_BELOW
