"""Follow-up questions: turn "And what did Chile say?" into a standalone question using the previous one.

Pure string logic (no model, no gradio) so the web chat and the CLI can share it. The rules are deliberately
small and predictable: an entity-only follow-up ("what about Mexico?") swaps the entity of the previous
question, or asks what that entity said about the previous question's topic; an elliptical question
("And what did Chile say?") gets the previous topic appended. Anything else is returned unchanged.
"""
from __future__ import annotations

import re

# "what about Mexico?", "and how about the United States?", "¿y México?", "¿y qué hay de México?", "¿qué tal Perú?"
_ENTITY_ONLY = [
    re.compile(r"^(?:and\s+|also\s+)?(?:what|how)\s+about\s+(?P<x>.+?)$", re.I),
    re.compile(r"^(?:and\s+)?(?:(?:the\s+)?same\s+for|what\s+of)\s+(?P<x>.+?)$", re.I),
    re.compile(r"^(?:y\s+)?(?:qué\s+hay\s+de|qué\s+(?:pasa\s+|pasó\s+)?con|qué\s+tal)\s+(?P<x>.+?)$", re.I),
]
_LEADING_LINK = re.compile(r"^(?:and|also|then|so|y|también|entonces)\s*,?\s+", re.I)
# A question that stops right after a reporting verb has lost its object: "what did Chile say?"
_BARE_VERB_END = re.compile(
    r"\b(?:say|said|propose|proposed|suggest|suggested|think|recommend|recommended|do|did|stress|stressed|"
    r"emphasi[sz]e|emphasi[sz]ed|mention|mentioned|decir|dijo|propuso|proponer|hizo|opina|opinó)$", re.I)
_TRAILING_PRONOUN = re.compile(r"\s+(?:it|that|this|them|those|eso|esto|ello)$", re.I)
_WH_PREFIX = re.compile(
    r"^(?:(?:which|what)\s+(?:\w+\s+)?(?:country|countries|delegation|delegations|state|states|organi[sz]ation|"
    r"person|document|body|group|member\s+state)\s+"
    r"|(?:qué|cuál|cuáles)\s+(?:país|países|delegación|estado|organización|documento)\s+"
    r"|(?:who|whom|what|when|where|which|how\s+many|how\s+much|how|why|quién|quiénes|qué|cuándo|dónde|cómo)\s+"
    r"(?:(?:did|does|do|was|were|is|are|has|have|had|will|would|can|could)\s+)?)", re.I)
_LEADING_VERB = re.compile(r"^(?:\w+(?:ed|ó|aron|ieron)|\w+s|say|said|propose|chair|lead|led|held|won|"
                           r"propuso|dijo|hizo|pidió|presidió|sugirió)\s+", re.I)
# Spanish puts the subject after the verb: "¿y qué dijo Chile?"
_SPANISH_SAID = re.compile(r"^qu[ée]\s+(?:dijo|propuso|planteó|opinó|señaló|sugirió|hizo)\s+\S+(?:\s+\S+){0,3}$", re.I)
_CONNECTORS = {"and", "of", "de", "del", "y", "la", "el", "the"}
_NOT_ENTITIES = {"What", "Which", "Who", "When", "Where", "How", "Why", "Did", "Does", "Do", "Is", "Are", "Was",
                 "Were", "The", "And", "Qué", "Cuál", "Quién", "Cuándo", "Dónde", "Cómo", "I", "A", "An"}
_SPANISH = re.compile(r"^¿|\b(?:qué|quién|cuál|cuándo|dónde|cómo|dijo|propuso|sobre|país)\b", re.I)


def _bare(question: str) -> str:
    """The question without surrounding space, Spanish/English question marks or final punctuation."""
    return question.strip().lstrip("¿¡").rstrip(" ?!.").strip()


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def is_spanish(question: str) -> bool:
    return bool(_SPANISH.search(question.strip()))


def subject_of(question: str) -> str | None:
    """The first proper-name span of a question ("the United States" -> "United States"), or None.

    The first word is skipped: it is capitalised because it starts the sentence, not because it is a name.
    """
    words = _bare(question).split()
    spans: list[list[str]] = []
    current: list[str] = []
    for index, word in enumerate(words):
        clean = word.strip(",;:'\"()")
        is_name = index > 0 and clean[:1].isupper() and clean not in _NOT_ENTITIES
        if is_name:
            current.append(clean)
        elif current and clean.lower() in _CONNECTORS and index + 1 < len(words) and words[index + 1][:1].isupper():
            current.append(clean)  # "Trinidad and Tobago", "Republic of Korea"
        elif current:
            spans.append(current)
            current = []
    if current:
        spans.append(current)
    return " ".join(spans[0]) if spans else None


def topic_of(question: str) -> str:
    """What a question is about: "Which country proposed joint investigation teams?" -> "joint investigation teams"."""
    bare = _bare(question)
    for marker in (" about ", " on the subject of ", " regarding ", " sobre ", " acerca de "):
        if marker in bare.lower():
            return bare[bare.lower().rindex(marker) + len(marker):].strip()
    rest = _WH_PREFIX.sub("", bare, count=1)
    subject = subject_of(question)
    if subject and rest.startswith(subject):
        rest = rest[len(subject):].lstrip()
    stripped = _LEADING_VERB.sub("", rest, count=1)
    return (stripped or rest).strip()


def _entity_followup(question: str) -> str | None:
    """The entity of "what about Mexico?", "¿y México?", "And Chile?", or None if QUESTION is not like that."""
    bare = _bare(question)
    for pattern in _ENTITY_ONLY:
        match = pattern.match(bare)
        if match and len(match.group("x").split()) <= 6:
            return match.group("x").strip()
    words = _bare(_LEADING_LINK.sub("", bare, count=1)).split()
    name = words[1:] if words and words[0].lower() in ("the", "el", "la", "los") else words
    if 0 < len(name) <= 4 and name[0][:1].isupper() and name[0] not in _NOT_ENTITIES \
            and all(w[:1].isupper() or w.lower() in _CONNECTORS for w in name):
        return " ".join(words)  # "Mexico?", "And Chile?", "¿Y Perú?"
    return None


def rewrite_followup(question: str, previous: str | None) -> str:
    """A standalone version of QUESTION given the PREVIOUS (already standalone) question.

    Args:
        question: what the user typed now.
        previous: the last question actually asked (itself rewritten), or None at the start of a chat.
    Returns:
        The rewritten question, or QUESTION (whitespace-normalised) when it does not read as a follow-up.
    """
    question = " ".join((question or "").split())
    if not previous or not question:
        return question
    entity = _entity_followup(question)
    if entity:
        old = subject_of(previous)
        if old:
            return previous.replace(old, entity, 1)
        topic = topic_of(previous)
        if is_spanish(previous):
            return f"¿Qué dijo {entity} sobre {topic}?"
        return f"What did {entity} say about {topic}?"
    linked = bool(_LEADING_LINK.match(question))
    body = _bare(_LEADING_LINK.sub("", question.lstrip("¿¡"), count=1))
    spanish = is_spanish(question)
    if _BARE_VERB_END.search(body) or (spanish and _SPANISH_SAID.match(body)):
        about = "sobre" if spanish else "about"
        return _finish(f"{body} {about} {topic_of(previous)}", spanish)
    if linked and _TRAILING_PRONOUN.search(body):
        return _finish(_TRAILING_PRONOUN.sub(f" {topic_of(previous)}", body), spanish)
    return question


def _finish(body: str, spanish: bool) -> str:
    body = _capitalize(body)
    return f"¿{body}?" if spanish else f"{body}?"


__all__ = ["rewrite_followup", "subject_of", "topic_of", "is_spanish"]
