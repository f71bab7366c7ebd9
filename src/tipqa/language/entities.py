"""Named entities in report text: countries, organisations, people, dates, document symbols, numbers.

One entry point, `find_entities(text) -> list[Entity]`, with stable canonical ids: ISO 3166 alpha-2 codes for
countries (from pycountry, with its Spanish, Portuguese and French names, official long forms, and the demonyms
below), English acronyms for organisations (with their Spanish/French/Portuguese names and acronyms), ISO dates,
normalised symbols and numbers, and a slug of the name for people. Offsets index the text as given.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from .gazetteer import OAS_MEMBERS, Country, Organisation, countries, country_name, organisations

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


# Names that are also common words or first names in running text.
_NAME_DENYLIST = frozenset({"Maurice", "Grenade", "Man", "Jersey", "Guernsey", "Chad", "Jordan", "Georgia", "Niger",
                            "Turkey", "Norfolk", "Christmas", "Congo", "Guinea", "Granada", "America", "Virgin",
                            "Réunion", "Reunión"})  # 'la Séptima Reunión' is a meeting: the island is 'Île de la Réunion'
_KEEP_ANYWAY = {"Chad": "TD", "Jordan": "JO", "Georgia": "GE", "Niger": "NE", "Turkey": "TR"}
# ...but a person is more likely after a first name or a title: "Michael Jordan" is handled by the person pass.


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


class _Match:
    __slots__ = ("_text", "_start", "_end")

    def __init__(self, text: str, start: int, end: int):
        self._text, self._start, self._end = text, start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def span(self) -> tuple[int, int]:
        return self._start, self._end

    def group(self, index: int = 0) -> str:
        return self._text[self._start:self._end]


class NameTrie:
    r"""Names as a prefix tree, matched as `(?<![\w.])(?:name|...)(?![\w])` would match them, the longest name
    that fits winning (finditer: non-overlapping, left to right), by walking the tree at each word start.

    Why not that regex (it was `_trie_pattern` of the names): compiling its ~23,000 characters cost every process
    ~0.3 s (a third of a cold `tipqa ask`); this tree is built in ~10 ms. Walked at word starts only, it reads
    report text about as fast (the nine reports, line by line: 0.05-0.07 s against 0.04-0.08 s)."""

    def __init__(self, names):
        self.root: dict = {}
        for name in names:
            node = self.root
            for char in name:
                node = node.setdefault(char, {})
            node[""] = True  # a name ends here
        initials = "".join(sorted(c for c in self.root if c))
        self._starts = re.compile(r"(?<![\w.])[" + re.escape(initials) + "]") if initials else None

    def finditer(self, text: str):
        if self._starts is None:
            return
        n, root, resume = len(text), self.root, 0
        for start in self._starts.finditer(text):
            p = start.start()
            if p < resume:
                continue
            node, q, best = root, p, -1
            while q < n:
                node = node.get(text[q])
                if node is None:
                    break
                q += 1
                if "" in node and (q == n or not (text[q].isalnum() or text[q] == "_")):  # (?![\w])
                    best = q
            if best > 0:
                resume = best
                yield _Match(text, p, best)


@functools.lru_cache(maxsize=1)
def _gazetteer() -> tuple[NameTrie, dict[str, tuple[str, str, str]]]:
    """Every known name (the longest that fits wins): folded name -> (kind, id, display name)."""
    entries: dict[str, tuple[str, str, str]] = {}
    for org in organisations().values():
        for alias in [org.acronym, org.name, *org.aliases]:
            entries.setdefault(fold(alias), ("organisation", org.acronym, org.name))
    for country in countries().values():
        for name in country.all_names():
            if name in _NAME_DENYLIST and _KEEP_ANYWAY.get(name) != country.code:
                continue
            entries.setdefault(fold(name), ("country", country.code, country.name))
    return NameTrie(entries), entries


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


trie_pattern = _trie_pattern  # for other modules' word lists (attribution's verbs)


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
ROLE_WORDS = _ROLE_WORDS  # words that open a post ('Director', 'Ambassador', 'Ministra')
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
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "mil": 10**3, "millón": 10**6, "millon": 10**6,
           "millones": 10**6, "mil millones": 10**9}
# A currency sign or code is part of an amount ('US$2,250', 'USD 300', '€15'); a fraction of its number word
# ('two-thirds', 'one quarter'); a ratio is one figure ('one in five', '1 in 4', 'uno de cada cinco').
_CURRENCY = r"(?:US\$|USD|EUR|GBP|\$|€|£)\s?"  # not a bare 'US' ('the US 12 agencies' names the country)
_FRACTION = r"(?:[-\s](?:thirds?|quarters?|fifths?|tenths?|halves))"
_ONE = (rf"(?:{_CURRENCY})?(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?|(?:" + "|".join(_NUMBER_WORDS) + rf"){_FRACTION}?)"
        r"(?:\s?(?:%|percent|per\s?cent|por\s+ciento))?"
        r"(?:\s+(?:" + "|".join(sorted(_SCALES, key=len, reverse=True)) + r")\b)?"
        r"(?:\s+(?:in|out\s+of|de\s+cada)\s+(?:\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")\b)?")  # not '40 in 2023'
# How a report qualifies a figure is part of it: 'some 15,000', 'more than ten million', 'between 80 and 90'.
_QUALIFIER = (r"(?:(?:some|about|around|approximately|roughly|nearly|almost|over|more\s+than|less\s+than|fewer\s+than|"
              r"at\s+least|up\s+to|close\s+to|an\s+estimated|estimated|only|just|unos|unas|cerca\s+de|alrededor\s+de|"
              r"más\s+de|menos\s+de|casi|aproximadamente|solo|sólo)\s+)*")
_NUMBER = re.compile(rf"(?<![\w/.,$€£])(?P<q>{_QUALIFIER})(?:(?P<between>between|from|entre|de)\s+(?P<lo>{_ONE})\s+"
                     rf"(?P<link>and|to|y|a)\s+(?P<hi>{_ONE})|(?P<lo2>{_ONE})\s?[–—-]\s?(?P<hi2>{_ONE})(?![\w])|"
                     rf"(?P<one>{_ONE}))(?![\w/])",
                     re.IGNORECASE)
_RANGE_LINKS = {"between": "and", "from": "to", "entre": "y", "de": "a"}


def _number_value(text: str) -> str:
    """'10 million' -> '10000000', '21 per cent' -> '21%', 'ten' -> '10'."""
    low = text.lower()
    percent = bool(re.search(r"%|per\s?cent|percent|por\s+ciento", low))
    scale = next((v for word, v in sorted(_SCALES.items(), key=lambda kv: -len(kv[0]))
                  if re.search(rf"\b{word}\b", low)), 1)
    digits = re.search(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?", low)
    if digits:
        number = float(digits.group(0).replace(",", ""))
    else:
        word = re.search(r"[a-záéíóú]+", low)
        number = float(_NUMBER_WORDS.get(word.group(0), 0)) if word else 0.0
    fraction = re.search(r"[-\s](third|quarter|fifth|tenth|half|halves)", low)
    if fraction:  # 'two-thirds' -> 2/3
        number /= {"third": 3, "quarter": 4, "fifth": 5, "tenth": 10}.get(fraction.group(1), 2)
    ratio = re.search(r"\s(?:in|out\s+of|de\s+cada)\s+(\w+)$", low)
    if ratio:  # 'one in five' -> 1/5
        whole = ratio.group(1)
        number /= float(whole) if whole.isdigit() else float(_NUMBER_WORDS.get(whole, 1) or 1)
    value = round(number * scale, 6)
    return (f"{value:g}" if value != int(value) else str(int(value))) + ("%" if percent else "")


def _currency_length(surface: str) -> int:
    """How many leading characters of a number's surface are its currency ('US$' of 'US$2,250'), after any qualifier."""
    m = re.match(rf"(?:{_QUALIFIER})(?:(?:between|from|entre|de)\s+)?({_CURRENCY})", surface, re.I)
    return m.end() if m and m.group(1) else 0


def find_numbers(text: str) -> list[Entity]:
    found, at = [], 0
    while (m := _NUMBER.search(text, at)) is not None:
        if m.group("between") and _RANGE_LINKS[m.group("between").lower()] != m.group("link").lower():
            m = _NUMBER.match(text, m.start("lo"))  # 'de 2008 and 12': not a range; the first figure alone
        value = (f"{_number_value(m.group('lo'))}-{_number_value(m.group('hi'))}" if m.group("between")
                 else f"{_number_value(m.group('lo2'))}-{_number_value(m.group('hi2'))}" if m.group("lo2")
                 else _number_value(m.group("one")))
        surface = m.group(0).strip()
        found.append(Entity("number", value, surface, m.start(), m.start() + len(surface), surface))
        at = m.end()
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
        numbers = find_numbers(text)
        # ... but the 'US' of 'US$2,250' is the amount's currency, not a mention of the country
        currencies = [(n.start, n.start + length) for n in numbers if (length := _currency_length(n.text))]
        if currencies:
            chosen = [e for e in chosen if not any(a <= e.start and e.end <= b for a, b in currencies)]
        spans = [(e.start, e.end) for e in chosen]
        chosen = _resolve(chosen + [n for n in numbers if not _overlaps(n.start, n.end, spans)])
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


__all__ = ["Entity", "Country", "Organisation", "KINDS", "OAS_MEMBERS", "find_entities", "find_named",
           "find_people", "find_dates", "find_documents", "find_numbers", "countries", "organisations",
           "canonical", "country_name", "normalise_symbol", "fold"]
