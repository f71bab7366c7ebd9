"""A named person's post or organisation, read from how the report introduces them.

Reports introduce people by their post and body: 'Aníbal Fernández, Minister of Justice, Security, and Human Rights
of the Argentine Republic', 'Ana Salvadó (Alianza por tus Derechos)', 'Mr. Felipe de la Torre of the United Nations
Office on Drugs and Crime (UNODC)'. A question that names the person and asks for their post ('What cabinet
portfolio did Aníbal Fernández hold?', '¿Qué cargo ocupaba Christopher Hernández-Roy?') or their body ('Which NGO did
Ana Salvadó speak for?', '¿A qué ministerio pertenecía Felipe Michelini?') is answered by that introduction, in the
sentence the sentence model picked; the span of the kind asked for that the usual step would pick there is another
person's ('Business and Professional Women’s Club' is Patricia Seale's) or none at all (a post is no entity).

The short answer still goes through the answer model, which decides from its calibrated probability whether to give it.
"""
from __future__ import annotations

import re

from ..language.entities import ROLE_WORDS, Entity
from .questions import Question, analyse
from .spans import chunk_entities, named_in_question

# What the question asks for: a body ('which ministry', 'represented', 'worked for') or a post ('which post', 'what
# job', 'portfolio', 'cargo'). Checked on the question as asked and on its English rendering.
_BODY = re.compile(r"\b(?:ministr(?:y|ies)|ministerios?|organi[sz]ations?|organismos?|institutions?|instituci[oó]n\w*|"
                   r"agenc(?:y|ies)|agencias?|ngos?|ongs?|departments?|departamentos?|oficinas?|bod(?:y|ies)|entit(?:y|ies)|"
                   r"entidad\w*|represent\w*|work\w*\s+for|trabaj\w*\s+(?:para|en)|pertenec\w*|belong\w*|"
                   r"speak\w*\s+for|spoke\s+for|on\s+behalf)\b", re.I)
_POST = re.compile(r"\b(?:posts?|positions?|jobs?|titles?|cargos?|puestos?|roles?|funci[oó]n|portfolios?|carteras?|"
                   r"offices?|capacity|direcci[oó]n|occupation|ocupaci[oó]n)\b", re.I)

# After the name: ', Post ...' (the post runs on past commas in Title Case: 'Minister of Justice, Security, and Human
# Rights'; a lower-case word other than a connective ends it: ', who described', ', served as', ' to serve as'),
# '(Body)', or ' of the Body'.
_CONNECTIVE = r"(?:of|and|for|on|against|the|in|de|del|la|las|los|el|y|e|en|contra|para|sobre)"
_TITLE_WORD = r"[A-ZÁÉÍÓÚÑ][\w’'.&-]*"
_RUN = rf"{_TITLE_WORD}(?:(?:\s+{_CONNECTIVE})*\s+{_TITLE_WORD})*"
_APPOSITIVE = re.compile(rf"\s*,\s+(?:the\s+|el\s+|la\s+)?(?P<post>{_RUN}(?:,\s+(?:and\s+|y\s+)?{_RUN})*)")
_PARENS = re.compile(r"\s*\((?P<body>[^()\d]{2,100})\)")
_OF = re.compile(rf"\s+(?:of|from|de|del)\s+(?:the\s+|la\s+|el\s+)?(?P<body>{_RUN})")
_OF_INSIDE = re.compile(r"\b(?:of|at|de|del)\s+(?:the\s+|la\s+|el\s+)?(?P<body>[A-ZÁÉÍÓÚÑ])")
_BEFORE = re.compile(rf"\b(?:the|el|la)\s+(?P<post>{_RUN}(?:,\s+(?:and\s+|y\s+)?{_RUN})*),\s+$")


def asked(q: Question) -> str | None:
    """'body' or 'post' when q names a person and asks for their body or post (by its words), else None. The kind
    the question's words give counts, not only the kind read from its meaning (kinds.refine): 'What was X's
    position?' reads as a question about a person."""
    if not any(e.kind == "person" for e in q.entities):
        return None
    if q.expected not in ("organisation", "other") and analyse(q.text).expected not in ("organisation", "other"):
        return None
    text = f"{q.text} {q.english}"
    if q.expected == "organisation" or _BODY.search(text):
        return "body"
    return "post" if _POST.search(text) else None


def described(q: Question, text: str, span: tuple[int, int]) -> tuple[str, str] | None:
    """(the post or body of the person q names, as the sentence text[span] introduces them; its kind: "other" for a
    post, "organisation" for a body), else None."""
    wanted = asked(q)
    if wanted is None:
        return None
    for person in chunk_entities(text):
        if person.kind == "person" and span[0] <= person.start < span[1] and named_in_question(q, person):
            found = introduction(text, person, min(span[1], person.end + 300))
            if found.get(wanted):
                return found[wanted], "organisation" if wanted == "body" else "other"
            fallback = found.get("post") if wanted == "body" else found.get("titled_body")
            if fallback:
                return fallback, "other"
    return None


def introduction(text: str, person: Entity, limit: int) -> dict[str, str]:
    """{'post', 'body', 'titled_body'} of how text introduces PERSON (each where the text gives it): the appositive
    post, the body in parentheses or after 'of' (or the body the post is 'of'), and for a title before the name
    with a body after it ('Undersecretary Felipe Michelini of the Ministry of ...'), the title with that body."""
    after = text[person.end:limit]
    out: dict[str, str] = {}
    before = _BEFORE.search(text, max(0, person.start - 300), person.start)  # 'the Director of ..., Christopher ...'
    if before and not _starts_with_person(text, before.start("post")):
        out["post"] = before.group("post")
    parens = _PARENS.match(after)
    if parens:
        out["body"] = parens.group("body").strip()
        after = after[parens.end():]
    appositive = _APPOSITIVE.match(after)
    if appositive and not _starts_with_person(text, person.end + appositive.start("post")):
        out["post"] = appositive.group("post").strip().rstrip(".,")
    inside = _OF_INSIDE.search(out.get("post", ""))
    if inside and "body" not in out:  # 'Director of the Department of Public Security': its body
        out["body"] = _without_country(out["post"][inside.start("body"):])
    of = _OF.match(after)
    if of and "body" not in out:
        out["body"] = _without_country(of.group("body").strip().rstrip(".,"))
        title = person.text[:len(person.text) - len(person.name)].strip() if person.text.endswith(person.name) else ""
        if title and title.rstrip(".").lower() not in ("mr", "ms", "mrs", "dr", "sr", "sra", "srta"):
            said = of.group(0).strip()  # 'of the Ministry of ...' as the text says it, up to the body's end
            out["titled_body"] = f"{title} {said[:said.index(out['body']) + len(out['body'])]}"
    return out


def _starts_with_person(text: str, at: int) -> bool:
    """'Patricia Seale, Ana Salvadó and ...': a list of people (or countries), not a post. A post says whose it is
    ('of', 'for') or opens with a word of office ('Director', 'Ambassador'); a name does neither."""
    if any(e.kind in ("person", "country") and e.start == at for e in chunk_entities(text)):
        return True
    run = re.match(_RUN, text[at:at + 200])
    return not (run and _POSTLIKE.search(run.group(0)))


_POSTLIKE = re.compile(rf"\b(?:of|for|at|de|del|para)\b|^(?:{ROLE_WORDS})\b")


_COUNTRY_TAIL = re.compile(r"\s+(?:of|de)\s+(?:the\s+|la\s+)?(?:(?:Eastern|Oriental|Argentine|Bolivarian|Plurinational|"
                           r"Federative|Dominican|Cooperative)\s+)?(?:Republic|Rep[uú]blica|State|Estado|Kingdom|Reino)"
                           r"(?:\s+(?:of|de|del)\s+[\w\s]+)?$")


def _without_country(body: str) -> str:
    """'Ministry of Education and Culture' of '... of the Eastern Republic of Uruguay': a country's name at the end is
    whose body it is, not its name."""
    body = body.strip().rstrip(".,")
    cut = _COUNTRY_TAIL.search(body)
    if cut and cut.start() > 0:
        return body[:cut.start()]
    for e in chunk_entities(body):
        if e.kind == "country" and e.end == len(body):
            head = re.sub(r"\s+(?:of|de)\s+(?:the\s+|la\s+)?$", "", body[:e.start])
            if head != body[:e.start] and head:
                return head
    return body
