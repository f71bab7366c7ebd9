"""The short answer chosen among every span of the kind asked for in the answering sentence, by a learned score.

spans.short_answer picks one span by rules on the sentence's grammar; they were written on the seed report's
sentences and pick wrongly where other reports phrase things otherwise ('any one of those States' for 'how long',
'two' of 'a two-thirds majority', nothing at all for 'travel to Central America and Europe'). Here every span that
could answer is a candidate (the entities of the kinds asked for, names read from their form, numbers with the noun
they count, ordinals, Title Case names after a preposition, and the rules' own pick), described by a few features
of position and form (near the words the question shares with the sentence, the clause's subject, inside a role or
parentheses, the rules' pick, ...), and a logistic model fitted by bench/fit_answers.py (never on
eval/test_qa.jsonl) scores them. Its probability for the chosen span is also one of the answer model's features.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..language.entities import fold
from .questions import Question, covers, stem, stems
from .spans import (_COUNT, _QUOTED, _SHARE, KINDS, _best_clause, _distance, _named_by_form, _role_spans, _subject,
                    chunk_entities, named_in_question)

# The kinds whose answer is one span; lists, sections, nationalities and 'other' questions stay with the rules.
RANKED = ("country", "organisation", "person", "agent", "date", "document", "number", "place")
SPAN_FEATURES = ("rule", "gazetteer", "by_form", "kind_first", "in_clause", "subject", "in_role", "in_parens",
                 "quoted", "near", "after_anchor", "follows_person", "position", "words", "sentence_initial",
                 "asked_words", "after_preposition", "candidates", "percent", "share_percent", "count_number",
                 "year_like", "with_noun", "ordinal", "time_unit", "context", "context_gap")
Similar = Callable[[list[str]], np.ndarray]  # texts -> each one's cosine with the question
CONTEXT_BEFORE, CONTEXT_AFTER = 2, 8  # words read around a candidate for its context (see _context)
# Contexts are read only for a sentence with at most this many candidates: a table row read as one sentence can hold
# hundreds (450: 2 s to encode), the most in the nine reports is 48; beyond it the span model goes without them.
CONTEXT_LIMIT = 64


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int
    kind: str
    source: str  # "entity" (the gazetteer's), "form" (read from its form), "rule" (only the rules found it)


_TITLE = re.compile(r"(?<![\w’'-])(?!(?:The|This|These|Those|That|It|Its|In|On|At|For|By|From|To|As|An?|El|La|Los|Las|"
                    r"Un|Una|En|Por|Para|Con|Desde|Este|Esta|Estos|Estas)\b)[A-ZÁÉÍÓÚÑ][\w’'.-]*"
                    r"(?:(?:\s+(?:of|and|for|on|against|de|del|y|para|contra)(?:\s+(?:the|la|las|los|el))?)?"
                    r"\s+[A-ZÁÉÍÓÚÑ][\w’'.-]*)*")
_PREPOSITION = re.compile(r"(?:^|\s)(?:in|at|to|from|into|towards?|by|of|en|a|al|hacia|desde|de|del|por)"
                          r"(?:\s+(?:the|la|el|los|las))?\s*$", re.I)
_NOUN_AFTER = re.compile(r"(?:-[a-záéíóúñ]+)?(?:\s+(?!(?:of|the|and|or|to|in|a|an|de|del|la|el|y|en|que|for|by|"
                         r"with|on|at|from|per|after|before|since|until|than|is|are|was|were|has|have|had|that|which|"
                         r"who|after|se|por|para|con|desde|hasta|después|antes|es|son|fue|fueron)\b)"
                         r"[a-záéíóúñ][\w-]*){1,2}")
_ORDINAL = re.compile(r"\b(?:\d+(?:st|nd|rd|th|º|°)|(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                      r"eleventh|twelfth|[a-z]+teenth|[a-z]+tieth|hundredth|thousandth)|(?:primer[oa]?|segund[oa]|"
                      r"tercer[oa]?|cuart[oa]|quint[oa]|sext[oa]|s[ée]ptim[oa]|octav[oa]|noven[oa]|d[ée]cim[oa]|"
                      r"[a-z]+g[ée]sim[oa]))\b(?:\s+[a-záéíóúñ]+)?", re.I)
_PERCENT = re.compile(r"%|\bper ?cent\b|\bpor ?ciento\b", re.I)
_TIME_UNIT = re.compile(r"\b(?:days?|weeks?|months?|years?|hours?|d[ií]as?|semanas?|mes(?:es)?|años?|horas?)\b", re.I)
_TIME_ASKED = re.compile(r"\bhow (?:long|soon)\b|\bhow many (?:days|weeks|months|years|hours)\b|\bcu[aá]nto tiempo\b|"
                         r"\bcu[aá]nt[oa]s (?:d[ií]as|semanas|meses|años|horas)\b", re.I)


def candidates(q: Question, text: str, span: tuple[int, int], rule: str | None) -> list[Span]:
    """Every span of the sentence that could be the short answer to q, the rules' pick included."""
    kinds = KINDS.get(q.expected, ("country",) if q.expected == "place" else ())
    found: dict[tuple[int, int], Span] = {}
    asked = fold(q.text + " " + q.english)
    note = note_number(text, span)

    def add(a: int, b: int, kind: str, source: str) -> None:
        piece = text[a:b].rstrip(" .,;:")
        b = a + len(piece)
        said = re.search(rf"(?<!\w){re.escape(fold(piece))}(?!\w)", asked)  # what the question says is no answer
        if b > a and (a, b) not in found and not said and not _item_marker(text, span, a, b) and (a, b) != note:
            found[(a, b)] = Span(piece, a, b, kind, source)

    for e in chunk_entities(text):
        if span[0] <= e.start < span[1] and e.kind in kinds and not named_in_question(q, e):
            add(e.start, e.end, e.kind, "entity")
            # 'two' -> 'two-thirds majority', 'six' -> 'six months'; a share has its noun ('38 per cent owed' is none)
            if e.kind == "number" and not _PERCENT.search(e.text):
                m = _NOUN_AFTER.match(text, e.end)
                if m:
                    words = list(re.finditer(r"\S+", text[e.end:m.end()]))
                    for w in words:
                        add(e.start, e.end + w.end(), "number", "form")
    for e in _named_by_form(text, span, kinds):
        add(e.start, e.end, e.kind, "form")
    if q.expected == "number":
        count = bool(_COUNT.search(asked))
        for m in _ORDINAL.finditer(text, span[0], span[1]):
            # 'how many' is answered by 'the fortieth instrument', never by an ordinal that is part of a name
            # ('Second Meeting', 'Tercer Plan'): those answered 'how many recommendations ...' and 'cuántos días ...'
            if not (count and m.group(0)[0].isupper()):
                add(m.start(), m.end(), "number", "form")
    if q.expected in ("place", "organisation"):  # a title in quotation marks names a talk or a text, not these
        quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(text, span[0], span[1])]
        # ... nor a piece of a document's symbol ('RTP-II' of 'RTP-II/INF.12/09')
        quoted += [(e.start, e.end) for e in chunk_entities(text) if e.kind == "document"]
        for m in _TITLE.finditer(text, span[0], span[1]):
            if (m.start() > span[0] or len(m.group(0).split()) > 1 or "-" in m.group(0)) \
                    and not any(a <= m.start() < b for a, b in quoted):
                add(m.start(), m.end(), q.expected, "form")
    if rule:  # the rules' pick, also where it is the subject of the sentence before ('It also proposed ...')
        at = text.find(rule, span[0], span[1] + len(rule))
        at = at if at >= 0 else text.rfind(rule, 0, span[0])
        if at >= 0:
            add(at, at + len(rule), q.expected, "rule")
    return sorted(found.values(), key=lambda s: s.start)


_MARKER_AFTER = re.compile(r"[.)]\s")
_NUMERAL = re.compile(r"\d{1,3}|[ivxlc]{1,6}|[IVXLC]{1,6}")


def _item_marker(text: str, span: tuple[int, int], a: int, b: int) -> bool:
    """Whether text[a:b] is the numeral that numbers the item the sentence opens ('1. This Protocol shall ...',
    '(2) ...', 'iv) ...'): a list's numbering, never what the sentence says ('(UNODC) reported ...' is no item).
    It was picked as the short answer for 8 of the 783 fitting questions (how many instruments, how many
    languages), always wrongly."""
    return bool(_NUMERAL.fullmatch(text, a, b)) and not text[span[0]:a].strip(" \t\n(") \
        and bool(_MARKER_AFTER.match(text, b))


_OPENING_NUMBER = re.compile(r"[ \t]*([1-9]\d{0,2})[ \t]+(?=[^\W\d])")


def note_number(text: str, span: tuple[int, int]) -> tuple[int, int] | None:
    """Where the sentence is a note ('137 Radoslaw L. Malinowski and others, Displacement, ... Kenya, (HAART,
    2016).'), the note's number: a line that opens with a number when another line of the passage opens with a
    number at most three before or after it (notes that wrap over lines are cut into several passages). It is a
    marker, not a figure the report gives: read as one it answered 'how many traffickers were convicted in Kenya?'.
    As a sentence feature ('note'), one report left out at fixed thresholds: short answers 0.413 -> 0.438, declined
    0.763 -> 0.773, with the ordinal rule in candidates (bench/README.md, "Notes, ordinals and trees")."""
    m = _OPENING_NUMBER.match(text, span[0])
    if not m or text[text.rfind("\n", 0, m.start(1)) + 1:m.start(1)].strip():
        return None
    n = int(m.group(1))
    near = "|".join(str(k) for k in (n - 3, n - 2, n - 1, n + 1, n + 2, n + 3) if k > 0)
    if not re.search(rf"(?m)^[ \t]*(?:{near})[ \t]+[^\W\d]", text):
        return None
    return m.start(1), m.end(1)


def features(q: Question, text: str, span: tuple[int, int], spans: list[Span], rule: str | None,
             similar: Similar | None = None) -> np.ndarray:
    """SPAN_FEATURES of each candidate. SIMILAR (texts -> cosines with the question) reads each candidate's
    context by meaning (_context); without it (or past CONTEXT_LIMIT candidates) those two columns are 0."""
    clause = _best_clause(q, text, span)
    roles = _role_spans(text) if q.expected in ("country", "agent") else []
    entities = [e for e in chunk_entities(text) if e.start >= clause[0] and e.end <= clause[1]]
    subject = _subject(text, clause, [e for e in entities if e.kind in KINDS.get(q.expected, ())])
    anchors = _anchors(q, text, span)
    people = [m.end() for e in q.entities if e.kind == "person"
              for m in re.finditer(re.escape(e.canonical_id.rsplit("-", 1)[-1]), fold(text[span[0]:span[1]]))]
    asked = stems(q.text) | stems(q.english)
    primary = KINDS.get(q.expected, ("place",))[0]
    length = max(span[1] - span[0], 1)
    share, count = bool(_SHARE.search(q.text + " " + q.english)), bool(_COUNT.search(q.text + " " + q.english))
    time_asked = bool(_TIME_ASKED.search(q.text + " " + q.english))
    rows = []
    for s in spans:
        before = text[max(span[0], s.start - 30):s.start]
        distance = min((_distance(s, a) for a in anchors), default=length)
        words = re.findall(r"[\wÀ-ÿ'’-]+", s.text)
        is_percent = bool(_PERCENT.search(s.text))
        rows.append([
            float(rule is not None and s.text == rule), float(s.source == "entity"), float(s.source == "form"),
            float(s.kind == primary), float(clause[0] <= s.start < clause[1]),
            float(subject is not None and subject.start == s.start), float(any(a <= s.start < b for a, b in roles)),
            float(_inside(text, s, "(", ")")), float(_inside(text, s, "“", "”") or _inside(text, s, '"', '"')),
            math.exp(-distance / 60.0), sum(a[1] <= s.start for a in anchors) / len(anchors) if anchors else 0.0,
            max((math.exp(-(s.start - span[0] - p) / 30.0) for p in people if s.start >= span[0] + p), default=0.0),
            max(s.start - span[0], 0) / length,
            math.log1p(len(words)), float(s.start == span[0]),
            sum(stem(w) in asked for w in words) / max(len(words), 1), float(bool(_PREPOSITION.search(before))),
            math.log1p(len(spans)), float(is_percent), float(share and is_percent),
            float(count and s.kind == "number" and not is_percent),
            float(bool(re.fullmatch(r"(?:19|20)\d\d", s.text))), float(s.source == "form" and s.kind == "number"),
            float(bool(_ORDINAL.fullmatch(s.text))), float(time_asked and bool(_TIME_UNIT.search(s.text)))])
    read = similar is not None and 0 < len(spans) <= CONTEXT_LIMIT
    context = similar([_context(text, span, s) for s in spans]) if read else np.zeros(len(spans))
    for row, cosine in zip(rows, context.tolist()):
        row += [cosine, cosine - float(context.max())]
    return np.array(rows, dtype=np.float64).reshape(len(spans), len(SPAN_FEATURES))


def _context(text: str, span: tuple[int, int], s: Span) -> str:
    """The candidate with what its sentence goes on to say of it (CONTEXT_AFTER words, and CONTEXT_BEFORE before
    it): '51 per cent were not paid as agreed before ...' and '550 miners in northern Chad, about 50 per cent ...'
    read against 'what share had not received the wages promised?'. One report left out, right short answers
    before the threshold 459 -> 471 of 885 (bench/README.md, "A candidate's context by meaning"); six words each
    side: 462; six each side with the candidate masked: 464; ten each side: 460."""
    before = re.findall(r"\S+", text[span[0]:s.start])[-CONTEXT_BEFORE:]
    after = re.findall(r"\S+", text[s.end:span[1]])[:CONTEXT_AFTER]
    return " ".join([*before, s.text, *after])


def _anchors(q: Question, text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """Where the sentence has the question's content words."""
    out = []
    for m in re.finditer(r"[\wÀ-ÿ'’.-]+", text[span[0]:span[1]]):
        if any(covers(t, {stem(m.group(0))}) for t in q.terms):
            out.append((span[0] + m.start(), span[0] + m.end()))
    return out


def _inside(text: str, s: Span, opening: str, closing: str) -> bool:
    before = text[max(0, s.start - 200):s.start]
    if opening == closing:
        return before.count(opening) % 2 == 1
    return before.rfind(opening) > before.rfind(closing)


@dataclass(frozen=True)
class Choice:
    answer: str | None
    kind: str
    probability: float | None  # the span model's, when it chose; None where the rules answer alone


def choose(q: Question, text: str, span: tuple[int, int], rule: str | None, rule_kind: str, model,
           similar: Similar | None = None) -> Choice:
    """The candidate the span model scores best, or the rules' answer where the kind is not ranked."""
    if model is None or q.expected not in RANKED or q.plural or rule_kind == "list":
        return Choice(rule, rule_kind, None)
    spans = candidates(q, text, span, rule)
    if not spans:
        return Choice(None, rule_kind, 0.0)
    logits = model.logit(features(q, text, span, spans, rule, similar))
    best = int(np.argmax(logits))
    chosen = spans[best]
    kind = chosen.kind if q.expected == "agent" and chosen.kind in ("country", "organisation", "person") else rule_kind
    return Choice(chosen.text, kind, float(1.0 / (1.0 + math.exp(-float(logits[best])))))
