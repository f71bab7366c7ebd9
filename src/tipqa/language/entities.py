"""Named entities in report text: countries, organisations, people, dates, document symbols, numbers.

One entry point, `find_entities(text) -> list[Entity]`, with stable canonical ids: ISO 3166 alpha-2 codes for
countries (from pycountry, with its Spanish, Portuguese and French names, official long forms, and the demonyms
below), English acronyms for organisations (with their Spanish/French/Portuguese names and acronyms), ISO dates,
normalised symbols and numbers, and a slug of the name for people. Offsets index the text as given.
"""
from __future__ import annotations

import functools
import gettext
import re
import unicodedata
from dataclasses import dataclass, field

KINDS = ("country", "organisation", "person", "date", "document", "number")


@dataclass(frozen=True)
class Entity:
    kind: str  # one of KINDS
    canonical_id: str  # "AR", "UNODC", "raul-ricardes", "2009-03-27", "RTP-II/doc.5/09 rev. 9", "4"
    name: str  # canonical display name: "Argentina", "United Nations Office on Drugs and Crime", "Raúl Ricardes"
    start: int
    end: int
    text: str  # the surface form, text[start:end]
    role: str | None = None  # people: title and appositive ("Ambassador; Coordinator General of ...")


@dataclass
class Country:
    code: str  # ISO 3166-1 alpha-2
    name: str  # short English name: "Bolivia"
    names: dict[str, list[str]] = field(default_factory=dict)  # language -> names and long forms
    demonyms: list[str] = field(default_factory=list)  # "Paraguayan", "Paraguayans", "paraguayo", ...

    def all_names(self) -> list[str]:
        return [n for names in self.names.values() for n in names] + self.demonyms


@dataclass
class Organisation:
    acronym: str  # canonical id: the English acronym
    name: str  # English full name
    aliases: list[str] = field(default_factory=list)  # other languages' names and acronyms


# ---- countries ----------------------------------------------------------------------------------------

OAS_MEMBERS = frozenset(
    "AG AR BS BB BZ BO BR CA CL CO CR CU DM DO EC SV US GD GT GY HT HN JM MX NI PA PY PE KN LC VC SR TT UY VE".split()
)

# English demonym (singular) and Spanish masculine singular; plurals and feminine forms are derived.
_DEMONYMS = """
AG Antiguan|antiguano  AR Argentine,Argentinian|argentino  BS Bahamian|bahameño  BB Barbadian,Bajan|barbadense
BZ Belizean|beliceño  BO Bolivian|boliviano  BR Brazilian|brasileño,brasilero  CA Canadian|canadiense
CL Chilean|chileno  CO Colombian|colombiano  CR Costa Rican|costarricense  CU Cuban|cubano  DM Dominican (Dominica)|
DO Dominican|dominicano  EC Ecuadorian,Ecuadorean|ecuatoriano  SV Salvadoran,Salvadorean|salvadoreño
US American|estadounidense,norteamericano  GD Grenadian|granadino  GT Guatemalan|guatemalteco  GY Guyanese|guyanés
HT Haitian|haitiano  HN Honduran|hondureño  JM Jamaican|jamaiquino  MX Mexican|mexicano  NI Nicaraguan|nicaragüense
PA Panamanian|panameño  PY Paraguayan|paraguayo  PE Peruvian|peruano  KN Kittitian,Nevisian|sancristobaleño
LC Saint Lucian|santalucense  VC Vincentian|sanvicentino  SR Surinamese|surinamés  TT Trinidadian,Tobagonian|trinitense
UY Uruguayan|uruguayo  VE Venezuelan|venezolano  ES Spanish,Spaniard|español  PT Portuguese|portugués
FR French|francés  IT Italian|italiano  DE German|alemán  GB British|británico  NL Dutch|neerlandés,holandés
CN Chinese|chino  JP Japanese|japonés  KR Korean,South Korean|surcoreano  IN Indian|indio,hindú  RU Russian|ruso
UA Ukrainian|ucraniano  PL Polish|polaco  RO Romanian|rumano  BG Bulgarian|búlgaro  TR Turkish|turco
NG Nigerian|nigeriano  GH Ghanaian|ghanés  ZA South African|sudafricano  EG Egyptian|egipcio  MA Moroccan|marroquí
KE Kenyan|keniano  ET Ethiopian|etíope  PH Filipino|filipino  TH Thai|tailandés  VN Vietnamese|vietnamita
ID Indonesian|indonesio  MY Malaysian|malasio  AU Australian|australiano  IL Israeli|israelí  SE Swedish|sueco
NO Norwegian|noruego  AT Austrian|austriaco  CH Swiss|suizo  BE Belgian|belga  GR Greek|griego  IE Irish|irlandés
MD Moldovan|moldavo  AL Albanian|albanés  NP Nepalese,Nepali|nepalí  BD Bangladeshi|bangladesí  PK Pakistani|paquistaní
"""

# Common names pycountry lacks, and acronyms (matched case-sensitively like every name).
_EXTRA_NAMES = {
    "US": ["US", "USA", "U.S.A.", "U.S.", "United States of America", "the States", "EE.UU.", "EEUU", "EE. UU.", "EUA",
           "Estados Unidos de América", "Estados Unidos da América", "États-Unis d'Amérique"],
    "GB": ["UK", "U.K.", "Britain", "Great Britain", "Reino Unido"], "RU": ["Russia", "Rusia"],
    "KR": ["South Korea", "Corea del Sur"], "KP": ["North Korea", "Corea del Norte"], "IR": ["Iran", "Irán"],
    "SY": ["Syria", "Siria"], "VN": ["Vietnam", "Viet Nam"], "LA": ["Laos"], "CZ": ["Czech Republic"],
    "CI": ["Ivory Coast", "Costa de Marfil"], "TZ": ["Tanzania"], "MD": ["Moldova"], "TR": ["Turkey", "Turquía"],
    "BO": ["Bolivia"], "VE": ["Venezuela"], "NL": ["Holland", "Holanda"], "TW": ["Taiwan"],
    "CD": ["Democratic Republic of the Congo", "DRC"], "VA": ["Vatican", "Holy See"], "BR": ["Brasil"],
    "KN": ["St. Kitts and Nevis", "Saint Kitts"], "LC": ["St. Lucia"], "VC": ["St. Vincent and the Grenadines"],
    "TT": ["Trinidad"], "AG": ["Antigua"], "DO": ["Dominican Rep."], "MX": ["Méjico"],
}
# Names that are also common words or first names in running text.
_NAME_DENYLIST = frozenset({"Maurice", "Grenade", "Man", "Jersey", "Guernsey", "Chad", "Jordan", "Georgia", "Niger",
                            "Turkey", "Norfolk", "Christmas", "Congo", "Guinea", "Granada", "America", "Virgin"})
_KEEP_ANYWAY = {"Chad": "TD", "Jordan": "JO", "Georgia": "GE", "Niger": "NE", "Turkey": "TR"}
# ...but a person is more likely after a first name or a title: "Michael Jordan" is handled by the person pass.


def _plural_en(word: str) -> list[str]:
    if word.endswith(("ese", "ch", "sh", "ss", "Swiss")) or word in ("Thai",):
        return [word]
    return [word, word + "s"]


def _forms_es(word: str) -> list[str]:
    if word.endswith("o"):
        return [word, word[:-1] + "a", word + "s", word[:-1] + "as"]
    if word.endswith(("ñol", "és", "án")):
        base = fold(word[-2:]) if word.endswith(("és", "án")) else word[-2:]
        stem = word[:-2] + base
        return [word, stem + "a", stem + "es", stem + "as"]
    if word.endswith(("e", "a", "í", "ú")):
        return [word, word + "s"]
    return [word, word + "es"]


def _translator(language: str):
    import pycountry
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
    except OSError:  # a pycountry build without that locale: English names still work
        return lambda s: s


def _variants(name: str) -> list[str]:
    """'Bolivia, Plurinational State of' -> ['Bolivia, Plurinational State of', 'Bolivia']; drop '(French part)'."""
    name = re.sub(r"\s*\(.*?\)", "", name).strip()
    out = [name]
    if "," in name:
        head, tail = [p.strip() for p in name.split(",", 1)]
        out = [head, f"{tail} {head}".strip()]
    return out


@functools.lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    """Every ISO 3166 country with English/Spanish/Portuguese/French names, long forms and demonyms."""
    import pycountry
    translate = {lang: _translator(lang) for lang in ("es", "pt", "fr")}
    table: dict[str, Country] = {}
    for record in pycountry.countries:
        english = [getattr(record, a) for a in ("common_name", "name", "official_name") if hasattr(record, a)]
        short = _variants(english[0])[0]
        names = {"en": [v for n in english for v in _variants(n)]}
        for lang, tr in translate.items():
            names[lang] = [v for n in english for v in _variants(tr(n))]
        names["en"] += _EXTRA_NAMES.get(record.alpha_2, [])
        table[record.alpha_2] = Country(record.alpha_2, short, {k: _dedupe(v) for k, v in names.items()})
    for line in _DEMONYMS.split("  "):
        for item in filter(None, (part.strip() for part in line.split("\n"))):
            code, rest = item.split(" ", 1)
            english, _, spanish = rest.partition("|")
            if "(" in english:  # 'Dominican (Dominica)': ambiguous with the Dominican Republic, keep it there
                continue
            forms = [f for w in english.split(",") for f in _plural_en(w.strip())]
            forms += [f for w in spanish.split(",") if w.strip() for f in _forms_es(w.strip())]
            table[code].demonyms = _dedupe(forms)
    return table


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


# ---- organisations ------------------------------------------------------------------------------------

_ORGANISATIONS = [
    ("UNODC", "United Nations Office on Drugs and Crime", "ONUDD|UNODOC|Oficina de las Naciones Unidas contra la Droga y el Delito|Office des Nations Unies contre la drogue et le crime|Escritório das Nações Unidas sobre Drogas e Crime"),
    ("IOM", "International Organization for Migration", "OIM|Organización Internacional para las Migraciones|Organisation internationale pour les migrations|Organização Internacional para as Migrações|International Organisation for Migration"),
    ("ILO", "International Labour Organization", "OIT|International Labor Organization|International Labour Organisation|Organización Internacional del Trabajo|Organisation internationale du Travail|Organização Internacional do Trabalho"),
    ("UNICEF", "United Nations Children's Fund", "Fondo de las Naciones Unidas para la Infancia|Fonds des Nations unies pour l'enfance|Fundo das Nações Unidas para a Infância"),
    ("UNHCR", "Office of the United Nations High Commissioner for Refugees", "ACNUR|HCR|UN Refugee Agency|United Nations High Commissioner for Refugees|Alto Comisionado de las Naciones Unidas para los Refugiados|Haut Commissariat des Nations unies pour les réfugiés|Alto Comissariado das Nações Unidas para Refugiados"),
    ("OAS", "Organization of American States", "OEA|Organisation of American States|Organización de los Estados Americanos|Organisation des États américains|Organização dos Estados Americanos"),
    ("UN", "United Nations", "ONU|UNO|Naciones Unidas|Nations Unies|Nações Unidas|Organización de las Naciones Unidas|Organisation des Nations unies|Organização das Nações Unidas"),
    ("OHCHR", "Office of the United Nations High Commissioner for Human Rights", "ACNUDH|HCDH|Oficina del Alto Comisionado de las Naciones Unidas para los Derechos Humanos"),
    ("UNDP", "United Nations Development Programme", "PNUD|Programa de las Naciones Unidas para el Desarrollo"),
    ("UNFPA", "United Nations Population Fund", "Fondo de Población de las Naciones Unidas"),
    ("UN Women", "United Nations Entity for Gender Equality and the Empowerment of Women", "ONU Mujeres|ONU Femmes|ONU Mulheres"),
    ("IACHR", "Inter-American Commission on Human Rights", "CIDH|Comisión Interamericana de Derechos Humanos"),
    ("IACtHR", "Inter-American Court of Human Rights", "Corte IDH|Corte Interamericana de Derechos Humanos"),
    ("CIM", "Inter-American Commission of Women", "Comisión Interamericana de Mujeres"),
    ("IIN", "Inter-American Children's Institute", "Instituto Interamericano del Niño, la Niña y Adolescentes|Instituto Interamericano del Niño"),
    ("IDB", "Inter-American Development Bank", "BID|Banco Interamericano de Desarrollo"),
    ("ECLAC", "Economic Commission for Latin America and the Caribbean", "CEPAL|Comisión Económica para América Latina y el Caribe"),
    ("PAHO", "Pan American Health Organization", "OPS|Organización Panamericana de la Salud"),
    ("WHO", "World Health Organization", "OMS|Organización Mundial de la Salud"),
    ("UNESCO", "United Nations Educational, Scientific and Cultural Organization", "Organización de las Naciones Unidas para la Educación, la Ciencia y la Cultura"),
    ("INTERPOL", "International Criminal Police Organization", "Interpol|OIPC"),
    ("Europol", "European Union Agency for Law Enforcement Cooperation", "EUROPOL"),
    ("EU", "European Union", "UE|Unión Europea|Union européenne|União Europeia"),
    ("OSCE", "Organization for Security and Co-operation in Europe", "OSCE|Organización para la Seguridad y la Cooperación en Europa"),
    ("CoE", "Council of Europe", "Consejo de Europa|Conseil de l'Europe"),
    ("AU", "African Union", "Unión Africana|Union africaine"),
    ("ASEAN", "Association of Southeast Asian Nations", "ASEAN"),
    ("MERCOSUR", "Southern Common Market", "MERCOSUL|Mercosur|Mercado Común del Sur"),
    ("SICA", "Central American Integration System", "Sistema de la Integración Centroamericana"),
    ("CARICOM", "Caribbean Community", "Comunidad del Caribe"),
    ("World Bank", "World Bank", "Banco Mundial|Banque mondiale"),
    ("ICRC", "International Committee of the Red Cross", "CICR|Comité Internacional de la Cruz Roja"),
    ("DPS", "Department of Public Security", "Departamento de Seguridad Pública|Secretariat for Multidimensional Security"),
    ("CICTE", "Inter-American Committee against Terrorism", "Comité Interamericano contra el Terrorismo"),
    ("IACW", "Inter-American Commission of Women", ""),
    ("BPW", "Business and Professional Women's Club", "Business and Professional Women|BPW International"),
    ("UNGIFT", "United Nations Global Initiative to Fight Human Trafficking", "UN.GIFT|UN-GIFT"),
    ("GAATW", "Global Alliance Against Traffic in Women", "Alianza Global contra la Trata de Mujeres"),
    ("ECPAT", "End Child Prostitution and Trafficking", "ECPAT International"),
]


@functools.lru_cache(maxsize=1)
def organisations() -> dict[str, Organisation]:
    table: dict[str, Organisation] = {}
    for acronym, name, aliases in _ORGANISATIONS:
        table[acronym] = Organisation(acronym, name, [a for a in aliases.split("|") if a])
    return table


# ---- matching -----------------------------------------------------------------------------------------

def _fold_char(char: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    low = base.lower() if len(base) == 1 else char.lower()
    return "'" if char == "’" else (low if len(low) == 1 else char)


class _FoldTable(dict):
    """str.translate table of _fold_char, filled on first sight of each character (one output char per input)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower-case and strip accents, one output character per input character, so offsets still hold."""
    if text.isascii():
        return text.lower()  # the same as the per-character rule for ASCII, at C speed
    return text.translate(_FOLD_TABLE)


@functools.lru_cache(maxsize=1)
def _gazetteer() -> tuple[re.Pattern, dict[str, tuple[str, str, str]]]:
    """One pattern of every known name (the longest that fits wins): folded name -> (kind, id, display name)."""
    entries: dict[str, tuple[str, str, str]] = {}
    for org in organisations().values():
        for alias in [org.acronym, org.name, *org.aliases]:
            entries.setdefault(fold(alias), ("organisation", org.acronym, org.name))
    for country in countries().values():
        for name in country.all_names():
            if name in _NAME_DENYLIST and _KEEP_ANYWAY.get(name) != country.code:
                continue
            entries.setdefault(fold(name), ("country", country.code, country.name))
    pattern = re.compile(r"(?<![\w.])(?:" + _trie_pattern(entries) + r")(?![\w])")
    return pattern, entries


def _trie_pattern(names) -> str:
    """One regex alternation of names as a prefix tree: 'a(?:rgentin(?:a|e)|...)'. It matches what the plain
    alternation of the names longest first matches (the longest name that the context allows, as greedy optional
    tails backtrack from longer to shorter), but tries one branch per character instead of every name at every
    position: ~40x faster over report text, which is most of entity finding."""
    trie: dict = {}
    for name in names:
        node = trie
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}  # a name ends here

    def build(node: dict) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _case_ok(surface: str, strict: bool) -> bool:
    """Names start with a capital in running text; acronyms are all capitals ('US' yes, 'us' no)."""
    if not strict:
        return surface[:1].isupper() or len(surface) > 3
    letters = [c for c in surface if c.isalpha()]
    if len(letters) <= 4 and "." not in surface and " " not in surface:
        return surface[:1].isupper() and (surface.isupper() or len(letters) > 3 or surface in ("Peru", "Cuba"))
    return surface[:1].isupper()


def find_named(text: str, case_sensitive: bool = True) -> list[Entity]:
    """Countries and organisations from the tables (all languages, long forms, demonyms, acronyms)."""
    pattern, entries = _gazetteer()
    found = []
    for match in pattern.finditer(fold(text)):
        surface = text[match.start():match.end()]
        if not _case_ok(surface, case_sensitive):
            continue
        kind, cid, name = entries[match.group(0)]
        found.append(Entity(kind, cid, name, match.start(), match.end(), surface))
    return found + _find_unknown_organisations(text)


_CAP = r"[A-ZÁÉÍÓÚÑÜ][\w'’\-]*"
_LINK = r"(?:\s+(?:of|for|on|and|against|the|de|del|la|los|las|por|para|tus|y|contra)\b)*\s+"
_PAREN = re.compile(r"\(([^()]{3,80})\)")


def _find_unknown_organisations(text: str) -> list[Entity]:
    """Organisations the tables lack: 'Business and Professional Women's Club', 'Alianza por tus Derechos'.

    Only names in parentheses after a person, or names whose head word marks an organisation, are taken.
    """
    found = []
    for paren in _PAREN.finditer(text):
        inner = paren.group(1).strip()
        if re.fullmatch(rf"{_CAP}(?:(?:\s+|{_LINK}){_CAP})*", inner) and not re.search(r"\d", inner):
            found.append(Entity("organisation", slug(inner), inner, paren.start(1), paren.start(1) + len(inner), inner))
    return found


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


# ---- people -------------------------------------------------------------------------------------------

TITLES = ("Mr.|Mrs.|Ms.|Dr.|Prof.|Sr.|Sra.|Srta.|Amb.|Hon.|Mr|Mrs|Ms|Dr|Ambassador|Minister|Undersecretary|"
          "Under-Secretary|Vice Minister|Deputy Minister|Secretary|Judge|Justice|Professor|President|Senator|"
          "Commissioner|Doctor|Señor|Señora|Embajador|Embajadora|Ministro|Ministra|Subsecretario|Subsecretaria|"
          "Licenciado|Licenciada|Don|Doña|Madame|Monsieur|Mme|Mme.|M.")
_PARTICLE = r"(?:de|del|de la|la|da|das|do|dos|van|von|der|y|e|di|le)"
_NAME_TOKEN = r"[A-ZÁÉÍÓÚÑÜ][a-záéíóúñüçãõâêôàèìòùäëïö'’]+(?:-[A-ZÁÉÍÓÚÑÜ][a-záéíóúñüçãõâêôàèìòùäëïö]+)?"
_NAME = rf"{_NAME_TOKEN}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_TOKEN}){{0,4}}"
_TITLES_RE = TITLES.replace(".", r"\.")
_TITLED = re.compile(rf"(?<![\w.])(?P<title>(?:{_TITLES_RE}))\s+(?P<name>{_NAME})")
_ROLE_WORDS = (r"Minister|Director|Director-General|Assistant Secretary|Secretary|Coordinator|Deputy|Ambassador|"
               r"President|Vice President|Chair|Chairman|Chairperson|Head|Chief|Undersecretary|Representative|"
               r"Delegate|Commissioner|Adviser|Advisor|Officer|Judge|Prosecutor|Attorney|Permanent|Executive|"
               r"Special|General|Ministro|Ministra|Director[a]?|Secretari[oa]|Coordinador[a]?|Embajador[a]?|Jefe|Jefa")
_APPOSITIVE = re.compile(rf"^,\s+(?P<role>(?:the\s+|el\s+|la\s+)?(?:{_ROLE_WORDS})\b[^,;()\n]*)")
_BEFORE_ROLE = re.compile(rf"(?:{_ROLE_WORDS})\b[^,;()]*,\s+$")
# Capitalised words that start names of things, not of people.
_NOT_NAMES = frozenset(
    "the a an this that these those meeting meetings group groups working technical national authorities "
    "conclusions recommendations trafficking persons part one two three four opening closing ceremony "
    "election officers dialogue presidency plenary chair drafting document documents report state states "
    "member members republic ministry department office organization organisation first second third "
    "vice president for its in on of at by during after once here finally speakers delegation delegations "
    "protocol palermo hemisphere international united nations american inter directory consular assistance "
    "prevention prosecution punishment victims law general special affairs justice security human rights "
    "foreign trade worship education culture public issues coordinator director minister ambassador secretary "
    "undersecretary civil society preparatory headquarters central europe latin caribbean north south east "
    "west march april may june july august september october november december january february monday "
    "tuesday wednesday thursday friday saturday sunday business professional women club alianza derechos "
    "crime drugs migration approach refugees strategies cooperation institution strengthening comprehensive "
    "protection situation children adolescents including and or with from to as consideration adoption final "
    "it they he she we mr mrs ms dr".split()
)


NAME_PATTERN = _NAME  # for other modules: a personal name of 1-5 capitalised tokens with particles
NOT_NAMES = _NOT_NAMES


def find_people(text: str, avoid: list[Entity] = ()) -> list[Entity]:
    """People: after a title ('Ambassador Raúl Ricardes'), before an appositive role ('Jorge Taiana, Minister
    of ...'), after a role ('the Director ..., Christopher Hernández-Roy'), or before an organisation in
    parentheses ('Javier González-Olaechea (ILO)')."""
    taken = [(e.start, e.end) for e in avoid]
    found: list[Entity] = []
    for match in _TITLED.finditer(text):
        name = _trim_name(match.group("name"))
        if name and not _overlaps(match.start("name"), match.start("name") + len(name), taken):
            start, end = match.start("title"), match.start("name") + len(name)
            found.append(_person(text, start, end, match.group("title"), name))
    spans = [(e.start, e.end) for e in found] + taken
    for match in re.finditer(rf"(?<![\w.])(?P<name>{_NAME})", text):
        name = _trim_name(match.group("name"))
        start, end = match.start(), match.start() + len(name)
        if not name or len(name.split()) < 2 or _overlaps(start, end, spans):
            continue
        if _looks_like_person(text, start, end):
            found.append(_person(text, start, end, None, name))
            spans.append((start, end))
    return _link_people(sorted(found, key=lambda e: e.start))


def _trim_name(name: str) -> str:
    """Drop trailing words that are not part of a name ('Pablo Tettamanti Director' cannot happen, but
    'Felipe Michelini of' is cut by the pattern already); keep at most the leading name-like tokens."""
    words = name.split()
    while words and (fold(words[-1]) in _NOT_NAMES or re.fullmatch(_PARTICLE, words[-1])):
        words.pop()
    if words and fold(words[0]) in _NOT_NAMES:
        return ""
    return " ".join(words)


def _looks_like_person(text: str, start: int, end: int) -> bool:
    words = text[start:end].split()
    if any(fold(w) in _NOT_NAMES for w in words if not re.fullmatch(_PARTICLE, w)):
        return False
    after, before = text[end:end + 120], text[max(0, start - 160):start]
    if _APPOSITIVE.match(after) or re.match(r"\s*\((?!\d)", after):
        return True
    return bool(_BEFORE_ROLE.search(before)) or bool(re.search(r"\b(?:by|and)\s+$", before) and after[:2] in (" (", ", "))


def _person(text: str, start: int, end: int, title: str | None, name: str) -> Entity:
    roles = [title] if title else []
    appositive = _APPOSITIVE.match(text[end:end + 200])
    if appositive:
        role = re.split(r"\s+to\s+(?:serve|act)\b|\.\s", appositive.group("role").strip())[0]
        roles.append(role.strip().rstrip("."))
    paren = re.match(r"\s*\(([^()\d]{2,80})\)", text[end:end + 90])
    if paren:
        roles.append(paren.group(1).strip())
    return Entity("person", slug(name), name, start, end, text[start:end], "; ".join(roles) or None)


def _link_people(people: list[Entity]) -> list[Entity]:
    """'Ambassador Ricardes' gets the id of 'Raúl Ricardes' when the same text names him in full."""
    full = {e.canonical_id.rsplit("-", 1)[-1]: e for e in people if "-" in e.canonical_id}
    out = []
    for e in people:
        if "-" not in e.canonical_id and e.canonical_id in full:
            known = full[e.canonical_id]
            e = Entity(e.kind, known.canonical_id, known.name, e.start, e.end, e.text, e.role)
        out.append(e)
    return out


def _overlaps(start: int, end: int, spans) -> bool:
    return any(start < b and a < end for a, b in spans)


# ---- dates, symbols, numbers --------------------------------------------------------------------------

MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
MONTHS.update({m: i + 1 for i, m in enumerate(
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split())})
MONTHS.update({"setiembre": 9, "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7,
               "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12})
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")"
_DATE_PATTERNS = [  # each with named groups m (month), d (day), d2 (second day), y (year)
    rf"\b(?P<m>{_MONTH})\s+(?P<d>\d{{1,2}})(?:\s*(?:and|to|-|–)\s*(?P<d2>\d{{1,2}}))?(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?\b",
    rf"\b(?P<d>\d{{1,2}})(?:\s*(?:and|to|-|–|y|al)\s*(?P<d2>\d{{1,2}}))?\s+(?:de\s+)?(?P<m>{_MONTH})(?:,?\s+(?:de\s+|of\s+)?(?P<y>\d{{4}}))?\b",
    rf"\b(?P<m>{_MONTH})\s+(?:de\s+|of\s+)?(?P<y>\d{{4}})\b",
    r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b",
    r"(?<![\w/.])(?P<y>(?:19|20)\d{2})(?![\w/])",
]
_DATES = [re.compile(p) for p in _DATE_PATTERNS]


def find_dates(text: str) -> list[Entity]:
    folded = fold(text)
    found: list[Entity] = []
    for pattern in _DATES:
        for m in pattern.finditer(folded):
            if _overlaps(m.start(), m.end(), [(e.start, e.end) for e in found]):
                continue
            found.append(_date_entity(text, m))
    return sorted(found, key=lambda e: e.start)


def _date_entity(text: str, m: re.Match) -> Entity:
    parts = m.groupdict()
    month = parts.get("m")
    month_no = int(month) if month and month.isdigit() else MONTHS.get(month or "", 0)
    iso = "-".join(p for p in (parts.get("y") or "XXXX", f"{month_no:02d}" if month_no else "",
                               f"{int(parts['d']):02d}" if parts.get("d") else "") if p)
    if parts.get("d2"):
        iso += f"/{int(parts['d2']):02d}"
    surface = text[m.start():m.end()]
    return Entity("date", iso, surface, m.start(), m.end(), surface)


_SYMBOL = re.compile(
    r"(?<![\w/])(?P<s>[A-Z][A-Z0-9.]*(?:-[A-Z0-9]+)*(?:/[A-Za-z]+\.?\s?[\d.]+(?:/\d+)?)+"
    r"(?:\s+(?:rev|corr|add)\.\s*\d+)*|[A-Z]{2}\d{5,})"
)


def find_documents(text: str) -> list[Entity]:
    """Document symbols: 'RTP-II/doc.5/09 rev. 9', 'RTP-II/INF.12/09', 'A/RES/55/25', '(RA00091)'."""
    found = []
    for m in _SYMBOL.finditer(text):
        surface = m.group("s").rstrip(".")
        found.append(Entity("document", normalise_symbol(surface), surface, m.start(), m.start() + len(surface), surface))
    return found


def normalise_symbol(symbol: str) -> str:
    """'rtp-ii/doc. 5/09 Rev.9' -> 'RTP-II/DOC.5/09 REV.9': compare symbols however they are spaced or cased."""
    return re.sub(r"\s+", " ", re.sub(r"\.\s*", ".", symbol.upper())).strip()


_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "thousand": 1000})
_NUMBER_WORDS.update({w: i + 1 for i, w in enumerate(
    "uno dos tres cuatro cinco seis siete ocho nueve diez".split())})
_NUMBER = re.compile(r"(?<![\w/.])(?P<n>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?P<pct>\s?(?:%|percent|per cent))?(?![\w/])"
                     r"|\b(?P<w>" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


def find_numbers(text: str) -> list[Entity]:
    found = []
    for m in _NUMBER.finditer(text):
        raw = m.group("n")
        value = str(_NUMBER_WORDS[m.group("w").lower()]) if m.group("w") else raw.replace(",", "")
        if m.group("pct"):
            value += "%"
        found.append(Entity("number", value, m.group(0), m.start(), m.end(), m.group(0)))
    return found


# ---- all together -------------------------------------------------------------------------------------

_PRIORITY = {"document": 0, "date": 1, "organisation": 2, "country": 3, "person": 4, "number": 5}


def find_entities(text: str, kinds: tuple[str, ...] | None = None, case_sensitive: bool = True) -> list[Entity]:
    """Every entity in text, non-overlapping (longer and more specific spans win), in text order.

    Args:
        kinds: keep only these kinds (see KINDS); None keeps all.
        case_sensitive: False for questions typed in lower case ('which country proposed ... brazil?').
    Returns:
        Entities sorted by start offset; text[e.start:e.end] == e.text.
    """
    chosen = list(_entities_but_numbers(text, case_sensitive))
    if kinds is None or "number" in kinds:  # numbers come last, only where nothing else is: no other kind changes
        spans = [(e.start, e.end) for e in chosen]
        chosen = _resolve(chosen + [n for n in find_numbers(text) if not _overlaps(n.start, n.end, spans)])
    return [e for e in chosen if kinds is None or e.kind in kinds]


@functools.lru_cache(maxsize=2048)
def _entities_but_numbers(text: str, case_sensitive: bool) -> tuple[Entity, ...]:
    """Cached: attribution asks twice of each sentence (its people, then everyone)."""
    chosen = _resolve(find_documents(text) + find_dates(text) + find_named(text, case_sensitive))
    return tuple(_resolve(chosen + find_people(text, avoid=chosen)))


def _resolve(candidates: list[Entity]) -> list[Entity]:
    """Greedy: longest span first, then the more specific kind; drop anything overlapping a kept span."""
    kept: list[Entity] = []
    for e in sorted(candidates, key=lambda e: (-(e.end - e.start), _PRIORITY[e.kind], e.start)):
        if not _overlaps(e.start, e.end, [(k.start, k.end) for k in kept]):
            kept.append(e)
    return sorted(kept, key=lambda e: e.start)


def canonical(text: str, kind: str | None = None) -> str | None:
    """The canonical id of a name on its own ('the Argentine Republic' -> 'AR', 'ACNUR' -> 'UNHCR'), or None."""
    entities = [e for e in find_entities(text, case_sensitive=False) if kind is None or e.kind == kind]
    if len(entities) == 1 and len(entities[0].text) >= len(text.strip(" .,;:¿?¡!\"'").removeprefix("the ")) * 0.6:
        return entities[0].canonical_id
    return None


def country_name(code: str, language: str = "en") -> str:
    country = countries()[code]
    return country.name if language == "en" else country.names.get(language, [country.name])[0]


__all__ = ["Entity", "Country", "Organisation", "KINDS", "OAS_MEMBERS", "find_entities", "find_named",
           "find_people", "find_dates", "find_documents", "find_numbers", "countries", "organisations",
           "canonical", "country_name", "normalise_symbol", "fold"]
