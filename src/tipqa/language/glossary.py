"""Spanish questions over English reports, offline: a domain glossary plus multilingual entity names.

`to_english("¿Quién presidió el grupo de redacción?")` -> "who chaired the drafting group?". Entity names
(Brasil, ACNUR, Estados Unidos) become their English names via entities.py; the glossary covers question
words and the vocabulary of meetings on trafficking in persons. Unknown words pass through unchanged, which
is often right for names and cognates ("protocolo" still shares a stem with "protocol" for BM25).
"""
from __future__ import annotations

import re

from .entities import find_entities, fold

_SPANISH_HINTS = frozenset(
    "que qué quien quién quienes cual cuál cuales cuándo cuando donde dónde cuantos cuántos cuantas cuántas "
    "como cómo el la los las del por para una uno fue fueron se su sus es son pais país delegacion delegación "
    "reunion reunión grupo trata propuso presidio presidió".split()
)
_SPANISH_HINTS_FOLDED = frozenset(fold(h) for h in _SPANISH_HINTS)

# Multi-word phrases first (matched on folded text), then single words. Values are English.
_PHRASES = {
    "grupo de redaccion": "drafting group", "grupo de trabajo": "working group", "grupos de trabajo": "working groups",
    "grupo tecnico": "technical group", "sociedad civil": "civil society", "trata de personas": "trafficking in persons",
    "derechos humanos": "human rights", "crimen organizado": "organized crime", "codigo de etica": "ethics code",
    "codigo etico": "ethics code", "equipos conjuntos de investigacion": "joint investigation teams",
    "documento final": "final document", "autoridades nacionales": "national authorities",
    "estados miembros": "member states", "ceremonia de apertura": "opening ceremony",
    "ceremonia de clausura": "closing ceremony", "primer vicepresidente": "first vice president",
    "segundo vicepresidente": "second vice president", "en que fecha": "on what date", "en que ano": "in what year",
    "que dia": "what day", "cual es": "what is", "cuales son": "what are", "cuantas veces": "how many times",
    "a que organizacion": "which organization", "estado de derecho": "rule of law", "hoja de ruta": "road map",
    "hojas de ruta": "road maps", "derecho a la identidad": "right to identity", "fue elegido": "was elected",
    "fue elegida": "was elected", "operadores de justicia": "justice system operators",
    "victimas extranjeras": "foreign victims", "lucha contra": "fight against", "contra la trata": "against trafficking",
    "punto de vista": "perspective", "reunion preparatoria": "preparatory meeting", "ley contra": "law against",
    "planes de estudio": "curricula",
}
_WORDS = {
    "que": "which", "quien": "who", "quienes": "who", "cual": "which", "cuales": "which", "cuando": "when",
    "donde": "where", "cuanto": "how much", "cuantos": "how many", "cuantas": "how many", "como": "how",
    "por": "by", "para": "for", "con": "with", "sin": "without", "sobre": "about", "entre": "between",
    "de": "of", "del": "of the", "el": "the", "la": "the", "los": "the", "las": "the", "un": "a", "una": "a",
    "y": "and", "o": "or", "en": "in", "a": "to", "al": "to the", "su": "its", "sus": "its", "se": "",
    "es": "is", "son": "are", "fue": "was", "fueron": "were", "ha": "has", "han": "have", "hubo": "there was",
    "pais": "country", "paises": "countries", "delegacion": "delegation", "delegaciones": "delegations",
    "estado": "state", "estados": "states", "gobierno": "government", "organizacion": "organization",
    "organizaciones": "organizations", "organismo": "agency", "organismos": "agencies", "agencia": "agency",
    "reunion": "meeting", "sesion": "session", "plenaria": "plenary", "grupo": "group", "presidente": "president",
    "vicepresidente": "vice president", "relator": "rapporteur", "relatora": "rapporteur", "secretario": "secretary",
    "ministro": "minister", "ministra": "minister", "embajador": "ambassador", "director": "director",
    "presidio": "chaired", "presidia": "chaired", "dirigio": "led", "encabezo": "led", "preside": "chairs",
    "propuso": "proposed", "propusieron": "proposed", "propone": "proposes", "sugirio": "suggested",
    "planteo": "proposed", "postulo": "nominated", "nomino": "nominated", "designo": "nominated",
    "presento": "presented", "presentaron": "presented", "expuso": "presented", "hablo": "spoke",
    "representaba": "represented", "representa": "represents", "represento": "represented",
    "destaco": "underscored", "subrayo": "underscored", "enfatizo": "emphasized", "resalto": "stressed",
    "reconocio": "recognized", "menciono": "mentioned", "describio": "described", "senalo": "pointed out",
    "relaciono": "linked", "vinculo": "linked", "aprobo": "passed", "adopto": "adopted", "adoptaron": "adopted",
    "aprobado": "adopted", "adoptado": "adopted", "ratifico": "ratified", "clausuro": "closed", "cerro": "closed",
    "inauguro": "opened", "abrio": "opened", "elegido": "elected", "elegida": "elected", "nombrado": "appointed",
    "celebro": "held", "celebrada": "held", "realizo": "held", "tuvo": "took", "lugar": "place",
    "alento": "encouraged", "pidio": "called for", "solicito": "requested", "anuncio": "announced",
    "trata": "trafficking", "victimas": "victims", "victima": "victim", "ley": "law", "leyes": "laws",
    "delito": "crime", "delitos": "crimes", "crimen": "crime", "prevencion": "prevention", "proteccion": "protection",
    "persecucion": "prosecution", "enjuiciamiento": "prosecution", "cooperacion": "cooperation",
    "asistencia": "assistance", "consular": "consular", "protocolo": "protocol", "documento": "document",
    "documentos": "documents", "signatura": "symbol", "simbolo": "symbol", "codigo": "code", "numero": "number",
    "agenda": "agenda", "calendario": "schedule", "conclusiones": "conclusions", "recomendaciones": "recommendations",
    "medidas": "measures", "conjuntas": "joint", "conjuntos": "joint", "castigar": "punish", "sancionar": "punish",
    "demanda": "demand", "pobreza": "poverty", "vulnerabilidad": "vulnerability", "identidad": "identity",
    "derecho": "right", "derechos": "rights", "importancia": "importance", "ninos": "children", "ninas": "girls",
    "mujeres": "women", "escuelas": "schools", "escuela": "school", "educacion": "education",
    "nacionalidades": "nationalities", "nacionalidad": "nationality", "extranjeras": "foreign",
    "extranjeros": "foreign", "origen": "origin", "destino": "destination", "presupuesto": "budget",
    "programas": "programmes", "programa": "programme", "rescatadas": "rescued", "rescatados": "rescued",
    "identificadas": "identified", "condenas": "convictions", "tasa": "rate", "poblacion": "population",
    "directorio": "directory", "equipos": "teams", "investigacion": "investigation", "judicial": "judicial",
    "informacion": "information", "mecanismos": "mechanisms", "practicas": "practices", "buena": "good",
    "mejor": "best", "primer": "first", "primera": "first", "primero": "first", "segundo": "second",
    "segunda": "second", "tercer": "third", "tercera": "third", "tercero": "third", "cuarta": "fourth",
    "ano": "year", "fecha": "date", "dia": "day", "mes": "month", "sede": "headquarters", "ciudad": "city",
    "final": "final", "apertura": "opening", "clausura": "closing", "contra": "against", "combatir": "combat",
    "lucha": "fight", "perspectiva": "perspective", "regional": "regional", "region": "region",
    "normas": "standards", "minimas": "minimum", "definicion": "definition", "define": "defines", "definen": "define",
    "articulo": "article", "articulos": "articles", "seccion": "section", "capitulo": "chapter", "anexo": "annex",
    "parrafo": "paragraph", "protocolo": "protocol", "significa": "means", "penas": "sentences",
    "armonizar": "harmonize", "etica": "ethics", "operadores": "operators", "justicia": "justice",
    "acuerdos": "agreements", "base": "base", "datos": "data", "canales": "channels", "comunicacion": "communication",
    "formales": "formal", "informales": "informal", "estado de": "state of", "fortalecer": "strengthen",
    "empoderamiento": "empowering", "empoderar": "empowering", "reintegracion": "reintegrating",
    "reintegrar": "reintegrating", "sociedad": "society", "recien": "newly", "nacidos": "born",
    "documentos de identidad": "I.D.s", "hablaron": "spoke", "participaron": "took part", "participo": "took part",
    "asiaticos": "Asian", "dijo": "said", "trabajo": "labour", "forzoso": "forced", "financiacion": "funding",
    "recibio": "received", "fundada": "founded", "fundado": "founded", "secretaria": "secretary",
    "general": "general", "naciones": "nations", "unidas": "united", "redaccion": "drafting",
    # Reports say 'was declared closed/opened': Spanish puts the same verb and participle the other way round.
    "declaro": "declared", "declararon": "declared", "clausurada": "closed", "clausurado": "closed",
    "inaugurada": "opened", "inaugurado": "opened", "abierta": "opened", "abierto": "opened",
    "inauguraron": "opened", "clausuraron": "closed", "eligio": "elected", "eligieron": "elected",
    "postularon": "nominated", "nominaron": "nominated", "presidieron": "chaired", "encabezaron": "led",
    "destacaron": "underscored", "subrayaron": "underscored", "senalaron": "pointed out", "sugirieron": "suggested",
    "recomendo": "recommended", "recomendaron": "recommended", "insto": "urged", "exhorto": "urged",
    "crear": "create", "establecer": "establish", "fondo": "fund", "compensar": "compensate",
    "indemnizar": "compensate", "fiscalia": "prosecutor office", "fiscal": "prosecutor", "fiscales": "prosecutors",
    "especializada": "specialized", "especializado": "specialized", "centro": "center", "capacitacion": "training",
    "formacion": "training", "fronteras": "borders", "frontera": "border", "controles": "controls",
    "tema": "subject", "escolares": "school", "planes": "plans", "declarada": "declared", "declarado": "declared",
    "presidido": "chaired", "presidida": "chaired", "quiere": "wants", "querian": "wanted", "incluir": "include", "incluyo": "included",
}
_TOKEN = re.compile(r"[\wÀ-ÿ'’./-]+|[^\w\s]")


def is_spanish(question: str) -> bool:
    """Spanish when the question opens with '¿' or most of its function words are Spanish."""
    if question.lstrip().startswith(("¿", "¡")):
        return True
    words = re.findall(r"[a-záéíóúñü]+", question.lower())
    hits = sum(fold(w) in _SPANISH_HINTS_FOLDED for w in words)
    english = sum(w in ("the", "which", "who", "what", "did", "was", "of", "when", "how") for w in words)
    return hits >= 2 and hits > english


def to_english(question: str) -> str:
    """A word-by-word English rendering good enough for retrieval and answer typing (not for display)."""
    text = question.replace("¿", "").replace("¡", "")
    # Entity names first so 'Estados Unidos' does not become 'states united'.
    pieces, last = [], 0
    for entity in find_entities(text, kinds=("country", "organisation", "person", "document")):
        pieces.append(_translate_words(text[last:entity.start]))
        pieces.append(_english_name(entity))
        last = entity.end
    pieces.append(_translate_words(text[last:]))
    return re.sub(r"\s+", " ", " ".join(p for p in pieces if p)).strip()


def _english_name(entity) -> str:
    if entity.kind in ("country", "organisation") and entity.kind == "organisation" and len(entity.canonical_id) <= 8:
        return entity.canonical_id  # ACNUR -> UNHCR: the acronym the English reports use
    return entity.name if entity.kind in ("country", "organisation") else entity.text


_PHRASE_PATTERNS = [(phrase, re.compile(rf"\b{re.escape(phrase)}\b")) for phrase in sorted(_PHRASES, key=len, reverse=True)]


def _translate_words(text: str) -> str:
    """Glossary phrases, then words; unknown words keep their case ('Juan Carlos Murillo')."""
    folded = fold(text)  # same length as text, so spans found here splice into the original
    for phrase, pattern in _PHRASE_PATTERNS:
        for match in reversed(list(pattern.finditer(folded))):
            english = "_".join(_PHRASES[phrase].split())
            pad = " " * (match.end() - match.start() - len(english))
            folded = folded[:match.start()] + english + pad + folded[match.end():]
            text = text[:match.start()] + english + pad + text[match.end():]
    out = []
    for token in _TOKEN.findall(text):
        english = _WORDS.get(fold(token), token)
        out.append(english.replace("_", " ") if english else "")
    return " ".join(t for t in out if t).replace("_", " ").replace(" ?", "?")
