"""What a question asks for: its language, an English form for retrieval, the expected answer type, the
entities and ordinals it is constrained by, and its content terms (with paraphrase groups)."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace

from ..language.entities import NAME_PATTERN, NOT_NAMES, Entity, find_entities, fold, slug
from ..language.glossary import is_spanish, to_english

# Expected answer types, tested in order on the English form of the question.
_TYPE_RULES = [
    ("section", r"\b(?:which|what) (?:article|section|chapter|part|paragraph|annex)s?\b"),
    ("document", r"\b(symbol|document (?:number|symbol|code)|(?:which|what) (?:document|doc)\b|reference number)"),
    ("date", r"^\s*(?:when|on (?:what|which) (?:date|day)|(?:what|which) (?:date|day|month|year)|in (?:what|which) "
             r"(?:year|month))\b|\bwhat (?:date|year)\b"),
    ("number", r"\bhow (?:many|much|large|big|high)\b|\b(?:what|which) (?:\w+ )?(?:number|percentage|proportion|share|"
               r"amount|figure|fraction|rate|ratio|portion|sum|total|count)\b|\bwhat per ?cent\b"),
    ("place", r"^\s*where\b|\b(?:in|at) (?:which|what) (?:city|place|venue|location)\b|\b(?:which|what) city\b"),
    ("nationality", r"\bnationalit(?:y|ies)\b|\bwhere (?:do|did|are|were) (?:the )?(?:foreign )?victims come from\b"),
    ("organisation", r"\b(?:which|what) (?:international )?(?:organi[sz]ations?|agenc(?:y|ies)|bod(?:y|ies)|"
                     r"institutions?|ngos?|entit(?:y|ies)|un agenc(?:y|ies))\b"),
    ("country", r"\b(?:which|what) (?:\w+ )?(?:countr(?:y|ies)|delegations?|states?|nations?|governments?|"
                r"member states?)\b|\bwhich of the (?:countries|delegations)\b"),
    # A role may carry modifiers ('Which Uruguayan official', 'Which OAS Assistant Secretary General'); an
    # auxiliary ends them: 'What did the president say?' asks what was said, not who.
    # 'By whom ...?' (and Spanish '¿Por quién ...?') asks for a person as 'Who ...?' does.
    ("person", r"^\s*(?:(?:by|to|for|with|from) )?(?:who|whom)\b|\bwhose\b|\b(?:which|what) "
               r"(?:(?!(?:did|does|do|was|were|is|are|has|had|will|would|can|the|a|an)\b)[\w-]+ ){0,3}?"
               r"(?:person|officials?|ministers?|ambassadors?|experts?|speakers?|representatives?|people|persons|(?:vice )?president|rapporteur|"
               r"secretary(?: general)?|director(?: general)?|undersecretary|coordinator|chair(?:man|person)?)\b"
               r"|\bwhat is the name of\b"),
]
_PLURAL = re.compile(r"\b(?:which|what)\s+(?:\w+\s+)?(?:countries|delegations|states|nations|governments|organi[sz]ations|agencies|bodies|"
                     r"institutions|ngos|entities|nationalities|people|persons|officials|experts|speakers|"
                     r"documents)\b|\bwho were\b|\blist\b|\bname (?:all|the)\b")
# 'who' asks for a person when the verb is about a role or a talk; otherwise for whoever acted (often a country).
_PERSON_VERB = re.compile(
    r"^\s*(?:(?:by|to|for|with|from)\s+)?(?:who|whom)\s+(?:(?:was|were|is|has|had|did|will)\s+(?:been\s+)?)?(?:also\s+)?"
    r"(?:chair|presid|elect|serv|lead|led|head|open|clos|declar|spok|speak|present|gave|give|represent|talk|"
    r"deliver|appoint|chosen|named|nominated as|the\b|a\b|an\b|in charge)", re.I)

# Words that frame a question rather than say what it is about.
FRAME_WORDS = frozenset(
    "which what who whom whose when where how why did does do was were is are the a an of in on at to for by "
    "with from that this these those it its their there has have had be been being any many much country "
    "countries delegation delegations state states nation nations organization organizations organisation "
    "organisations agency agencies person people name date year day month number document symbol report "
    "reports meeting according say said mention mentioned tell told give given about as and or not "
    "one someone something anyone also de la del las los article articles section sections chapter chapters "
    "paragraph paragraphs annex".split()
)

# Paraphrase groups: a question word covers a passage word of the same group.
_SYNONYMS = [
    "propos suggest recommend put forward call advocat urged wanted want plan",
    "chair presid lead led head direct run",
    "nomin candida submit put forward propos",
    "emphas stress underscor highlight noted point insist stress",
    "say said state stated note remark declar argu acknowledg recogn describ spoke speak talk mention",
    "adopt approv pass agreed consensus",
    "open inaugur start",
    "close closin ended conclud",
    "elect chosen choos appoint select",
    "represent speak spoke for from with of",
    "present talk spoke speech gave deliver lectur",
    "worri concern alarm",
    "rising growing increas grow",
    "harmon align standard unif",
    "ethic conduct",
    "informal less formal",
    "teach educat school curricul",
    "topic subject matter issue theme",
    "newborn newly born birth",
    "identit i.d document",
    "circulat dissemin distribut shar spread",
    "punish penal sanction",
    "link connect generat relat",
    "host held take place took venue buenos",
    "rapporteur rapport",
    "agenc organi bodi body",
    "databas data information",
    "reintegr integr society",
    "restor rights",
    "cooper collabor",
    "victim survivor",
    "team group",
    "law legisl act",
    "code protocol",
    "defin mean",
]


# Irregular English verb forms share no prefix with their base ('taught'/'teach'): read as the base.
_IRREGULAR = {
    "taught": "teach", "brought": "bring", "sought": "seek", "thought": "think", "chose": "choose",
    "chosen": "choose", "spoke": "speak", "spoken": "speak", "gave": "give", "given": "give", "took": "take",
    "taken": "take", "made": "make", "told": "tell", "sent": "send", "began": "begin", "begun": "begin",
    "wrote": "write", "written": "write", "held": "hold", "led": "lead", "met": "meet", "kept": "keep",
    "went": "go", "gone": "go", "saw": "see", "seen": "see", "came": "come",
}


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A crude stem: folded, and cut to 5 characters so 'proposed', 'proposing' and 'proposal' meet."""
    word = fold(word).strip(".'’-")
    word = _IRREGULAR.get(word, word)
    return word[:5] if len(word) > 5 else word


_GROUPS: dict[str, set[int]] = {}
for _i, _line in enumerate(_SYNONYMS):
    for _w in _line.split():
        _GROUPS.setdefault(stem(_w), set()).add(_i)

_WORD = re.compile(r"[A-Za-zÀ-ÿ0-9][\wÀ-ÿ'’.-]*")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}
_CARDINALS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10, "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}


@dataclass
class Question:
    text: str  # as asked
    english: str  # what retrieval and typing work on (a rendering of Spanish questions)
    language: str  # "en" or "es"
    expected: str  # section | document | date | number | place | nationality | organisation | country | person | agent | other
    plural: bool
    entities: list[Entity] = field(default_factory=list)  # named in the question: constraints, never answers
    ordinals: set[int] = field(default_factory=set)  # 'third working group' -> {3}
    terms: list[str] = field(default_factory=list)  # content words (not frame words), in order
    focus: str | None = None  # 'What budget did ...?' -> 'budget': the thing an 'other' answer must be about
    action_object: list[str] = field(default_factory=list)  # 'Which country proposed a regional fund to ...?' -> ['regional', 'fund']

    @property
    def entity_ids(self) -> set[str]:
        return {e.canonical_id for e in self.entities}


def analyse(question: str) -> Question:
    """What the question asks for. Cached: one answer analyses its question twice (retrieval text, then the
    answer); each caller gets its own copy of the lists and sets."""
    q = _analyse(question)
    return replace(q, entities=list(q.entities), ordinals=set(q.ordinals), terms=list(q.terms),
                   action_object=list(q.action_object))


@functools.lru_cache(maxsize=256)
def _analyse(question: str) -> Question:
    spanish = is_spanish(question)
    english = to_english(question) if spanish else question
    low = english.lower()
    expected = next((kind for kind, rule in _TYPE_RULES if re.search(rule, low)), "other")
    if expected == "section" and _part_of_a_place(english):  # 'which part of Argentina': a place, no heading
        expected = "place"
    if expected == "person" and re.match(r"^\s*(?:(?:by|to|for|with|from) )?(?:who|whom)\b", low) \
            and not _PERSON_VERB.search(low):
        expected = "agent"  # 'Who wanted a directory ...?' -> the country that did it
    plural = bool(_PLURAL.search(low)) or (expected == "nationality" and not re.search(r"\bnationality\b", low))
    entities = [e for e in find_entities(question) + find_entities(english)
                if e.kind in ("country", "organisation", "person", "document", "date")]
    entities += _bare_names(english, entities)
    unique = list({(e.kind, e.canonical_id): e for e in entities}.values())
    return Question(question, english, "es" if spanish else "en", expected, plural, unique,
                    ordinals(low), content_terms(english), _focus(low), action_object(low))


# 'Which part of Argentina / of the country ...?' asks for a place, not for a report's Part.
_PART_OF = re.compile(r"\b(?:which|what)\s+parts?\s+of\s+(?:the\s+)?(?P<whole>.{1,40})", re.I)
_PLACE_WORDS = re.compile(r"(?:country|world|region|continent|territory|city|hemisphere|province|state|Africa|"
                          r"Europe|Asia|Oceania|(?:Latin |North |South |Central )?America|Americas|Caribbean)\b", re.I)


def _part_of_a_place(english: str) -> bool:
    m = _PART_OF.search(english)
    if not m:
        return False
    whole = m.group("whole")
    return bool(_PLACE_WORDS.match(whole)) or any(e.kind == "country" and e.start == 0 for e in find_entities(whole))


# 'Which country proposed <object> ...?' / 'Who suggested <object> ...?': the words of the thing acted on, up to
# the first preposition but 'of' ('the protection of human rights'), or clause word. An actor is only an answer if its sentence speaks of that thing.
_ACTOR_VERB = re.compile(r"^\s*(?:(?:which|what)\s+(?:[\w’'-]+\s+)?(?:countr(?:y|ies)|delegations?|states?|nations?|"
                         r"governments?)(?:['’]s\s+delegation)?|who)\s+(?P<verb>[a-z-]+)\s+(?P<rest>[^?]*)")
_AUXILIARY = frozenset("do does did was were is are has have had will would can could should may might".split())
_PARTICLES = frozenset("for forward up out about on over part".split())  # 'called for', 'took part in
_PHRASE_END = frozenset("to in on at for with by from as about across into against between among during within "
                        "that which who whom whose where when while because so and or but than was were is are be "
                        "been being should would could will can must".split())
_DETERMINERS = frozenset("a an the its their his her this that these those all any some each every".split())


def action_object(low: str) -> list[str]:
    m = _ACTOR_VERB.match(low)
    if not m or m.group("verb") in _AUXILIARY:
        return []  # 'Who was worried about ...?': no verb-object to check
    words = re.findall(r"[\w’'.-]+|[,;:]", m.group("rest"))
    while words and words[0] in _PARTICLES:
        words = words[1:]
    phrase = []
    for word in words:
        if word in _PHRASE_END or word in ",;:":
            break
        if word not in _DETERMINERS and word != "of" and len(word) > 2:
            phrase.append(word)
    return phrase


_FOCUS = re.compile(r"^\s*(?:what|which)\s+(?:(?:is|was|were|are)\s+(?:the\s+)?(?P<a>[a-z]+)|(?P<b>[a-z]+)\s+"
                    r"(?:did|does|do|was|were|is|are|has|had|will)\b)")


def _focus(low: str) -> str | None:
    m = _FOCUS.match(low)
    word = m and (m.group("a") or m.group("b"))
    return word if word and word not in FRAME_WORDS else None


def _bare_names(text: str, known: list[Entity]) -> list[Entity]:
    """Names in a question need no title to count: 'Which organization did Felipe de la Torre represent?'."""
    taken = [(e.start, e.end) for e in known]
    found = []
    for m in re.finditer(rf"(?<!^)(?<![\w.])({NAME_PATTERN})", text.strip()):
        words = m.group(1).split()
        if len(words) < 2 or any(fold(w) in NOT_NAMES for w in words if w[:1].isupper()):
            continue
        if not any(m.start() < b and a < m.end() for a, b in taken):
            found.append(Entity("person", slug(m.group(1)), m.group(1), m.start(), m.end(), m.group(1)))
    return found


def ordinals(text: str) -> set[int]:
    """Ordinals that pick out one thing ('third working group', 'Working Group 2', 'RTP-III')."""
    found = {_ORDINALS[w] for w in re.findall(r"[a-z0-9]+", text.lower()) if w in _ORDINALS}
    found |= {int(n) for n in re.findall(r"\b(?:group|no\.?|number|part|meeting)\s*(\d{1,2})\b", text.lower())}
    return found


def passage_ordinals(text: str) -> set[int]:
    low = fold(text)
    found = ordinals(low)
    found |= {_CARDINALS[w] for w in re.findall(r"\b(?:part|group|no\.?)\s+([a-z]+)\b", low) if w in _CARDINALS}
    found |= {int(n) for n in re.findall(r"\b(?:groups?|no\.?)\s*(\d{1,2})(?:\s+and\s+(\d{1,2}))?", low) for n in n if n}
    return found


def content_terms(text: str) -> list[str]:
    return [w for w in (m.group(0) for m in _WORD.finditer(text)) if fold(w) not in FRAME_WORDS and len(w) > 1]


def covers(term: str, words: set[str]) -> bool:
    """True when a passage word (as stems) matches the question term or a paraphrase of it."""
    s = stem(term)
    if s in words:
        return True
    groups = _GROUPS.get(s)
    return bool(groups) and any(_GROUPS.get(w, set()) & groups for w in words)


def stems(text: str) -> set[str]:
    return {stem(m.group(0)) for m in _WORD.finditer(text)}
