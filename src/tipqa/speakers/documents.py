"""Speakers a whole document speaks through, not named sentence by sentence: a resolution's enacting organ ('LA
ASAMBLEA GENERAL,' then 'TENIENDO PRESENTE ...', 'RECALLING ...') and the speaker of a speech (a text that opens by
addressing its audience: 'Buenos días a todos', 'Quiero iniciar ...', 'Ladies and gentlemen, we ...').
attribution.py asks these of each heading and sentence; they read text only, no model.
"""
from __future__ import annotations

import re

from ..language.entities import Entity, find_entities

# 'LA ASAMBLEA GENERAL,' / 'THE PERMANENT COUNCIL,' on a line of its own (or as a heading), then clauses opening in
# capitals ('TENIENDO PRESENTE las resoluciones ...', 'RECALLING ...', 'RESUELVE:').
_ENACTING = re.compile(r"^(?:LA|EL|THE)\s+[A-ZÁÉÍÓÚÑ]{3,}(?:\s+[A-ZÁÉÍÓÚÑ]{2,}){0,5}\s*,$")
_CLAUSE = re.compile(r"^(?P<verb>[A-ZÁÉÍÓÚÑ]{5,}(?:\s+[A-ZÁÉÍÓÚÑ]{2,}){0,3})(?:\s*:|\s+(?=[a-záéíóúñ“\"]))")
# Whose organ it is comes from the resolution's symbol (AG/RES., CP/RES., OEA/Ser.: the OAS; A/RES/, S/RES/: the UN).
_ISSUERS = (("OAS", re.compile(r"\b(?:AG|CP|CJ)/RES\.|\bOEA/Ser\b", re.I)),
            ("UN", re.compile(r"(?<![\w/])[AS]/RES/\d")))
# A speech opens by addressing its audience, or in the first person singular/plural (outside quotation marks).
_ADDRESS = re.compile(
    r"^(?:buenos\s+d[ií]as|buenas\s+(?:tardes|noches)|señoras\s+y\s+señores|estimad[oa]s|distinguid[oa]s|"
    r"excelent[ií]sim[oa]s?|bienvenid[oa]s|good\s+(?:morning|afternoon|evening)|ladies\s+and\s+gentlemen|"
    r"distinguished|excellencies|dear\s+(?:colleagues|friends))\b", re.I)
_FIRST_PERSON = re.compile(
    r"(?i:\b(?:quiero|queremos|quisiera|deseo|deseamos|agradezco|agradecemos|saludo|nuestro|nuestra|nuestros|"
    r"nuestras|nosotros|nosotras|we|our|my)\b)"
    r"|\bI\s+(?:am|have|had|was|would|will|wish|want|thank|welcome|should|must|can|believe|think|hope|know|join)\b")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|«[^»]*»")


def issuer_in(line: str) -> str | None:
    """The organisation a resolution's symbol belongs to ('AG/RES. 2551 (XL-O/10)' -> 'OAS'), or None."""
    return next((org for org, symbol in _ISSUERS if symbol.search(line)), None)


def enacting_organ(line: str, issuer: str | None) -> Entity | None | bool:
    """For 'LA ASAMBLEA GENERAL,': the organisation speaking (named in the line, else the issuer's); False when
    the line is no enacting formula."""
    if not _ENACTING.match(line.strip()):
        return False
    named = find_entities(line, kinds=("organisation",)) or \
        (find_entities(issuer, kinds=("organisation",)) if issuer else [])
    return named[0] if named else None


def clause_verb(sentence: str) -> str | None:
    """'teniendo presente' of 'TENIENDO PRESENTE las resoluciones ...': a resolution's clause, or None."""
    match = _CLAUSE.match(sentence)
    return match.group("verb").lower() if match else None


def speech_speaker(title: str, opening: str) -> Entity | None:
    """The speaker of a speech: the one organisation (else person, else country) its title names, when its first
    paragraph addresses an audience or speaks in the first person ('Quiero iniciar reconociendo ...'); else None."""
    unquoted = _QUOTED.sub("", opening)
    if not (_ADDRESS.match(opening.strip()) or _FIRST_PERSON.search(unquoted)):
        return None
    found = find_entities(title or "", kinds=("organisation", "country", "person"), case_sensitive=False)
    for kind in ("organisation", "person", "country"):  # 'OAS speech at the meeting in Peru' is the OAS's
        named = {e.canonical_id: e for e in found if e.kind == kind}
        if named:
            return next(iter(named.values())) if len(named) == 1 else None
    return None
