"""The Spanish half of attribution's grammar: reporting verbs (singular and plural), the words that head a speaker
("la delegación de", "el representante del"), pointing back ("Asimismo, destacó ...": Spanish drops the subject),
groups ("Los Estados", "Varias delegaciones") and the posts people hold. attribution.py joins them to the English.
"""
from __future__ import annotations

import re

# Third person preterite, singular: the plural is derived (-ó -> -aron, -ió -> -ieron) or listed when irregular.
_SINGULAR = (
    "dijo señaló destacó subrayó propuso sugirió manifestó expresó indicó afirmó reconoció mencionó presentó "
    "planteó informó resaltó enfatizó recordó agregó añadió explicó solicitó instó postuló nominó declaró advirtió "
    "reiteró reafirmó sostuvo insistió pidió exhortó apoyó respaldó recomendó agradeció felicitó observó comentó "
    "describió anunció compartió consideró ofreció invitó alertó aclaró precisó puntualizó coincidió "
    "lamentó celebró valoró acogió propició abogó convocó"
).split()
_IRREGULAR = {"dijo": "dijeron", "propuso": "propusieron", "sostuvo": "sostuvieron", "hizo": "hicieron",
              "puso": "pusieron"}
# Phrases that report a statement as a whole ("hizo hincapié en"), and pronominal verbs whose 'se' belongs to them
# ("se refirió a": the speaker referred to, not an impersonal 'se').
_PHRASES = ("hizo hincapié|hicieron hincapié|hizo referencia|hicieron referencia|hizo un llamado|hicieron un llamado|"
            "puso de relieve|pusieron de relieve|puso de manifiesto|pusieron de manifiesto|llamó la atención|"
            "llamaron la atención|dio a conocer|dieron a conocer|tomó la palabra|se refirió|se refirieron|"
            "se pronunció|se pronunciaron|se manifestó|se manifestaron|se sumó|se sumaron")


def _plural(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("ió"):
        return verb[:-2] + "ieron"
    return verb[:-1] + "aron" if verb.endswith("ó") else verb


VERBS_ES = _PHRASES + "|" + "|".join(sorted({f for v in _SINGULAR for f in (v, _plural(v))}, key=len, reverse=True))
# Verbs no subject may be dropped before: 'Asimismo, destacó ...' points back only with a past reporting verb.
SUBJECTLESS = re.compile(rf"^(?:{VERBS_ES})$", re.I)

# What heads a speaker: 'la delegación de(l)', 'el Gobierno de', 'el representante de', 'la delegación uruguaya'.
SUBJECT_LEAD_ES = (r"(?:(?:el|la|los|las)\s+)?(?:(?:delegaci[oó]n(?:es)?|gobiernos?|"
                   r"representantes?(?:\s+permanentes?)?|delegad[oa]s?|autoridades|embajad(?:or|ora|a)|misi[oó]n\s+permanente)\s+"
                   r"(?:(?:de|del)\s+(?:(?:el|la|los|las)\s+)?)?)?")
LEAD_ADVERBS_ES = r"por\s+su\s+parte|asimismo|finalmente|además|también|igualmente|a\s+su\s+vez|por\s+último|luego|" \
                  r"posteriormente|en\s+ese\s+sentido|en\s+este\s+sentido|de\s+igual\s+manera|del\s+mismo\s+modo"
TRAIL_ADVERBS_ES = r"además|también|asimismo|igualmente|a\s+su\s+vez|por\s+su\s+parte|conjuntamente|luego"
ANAPHORS_ES = (r"él|ella|ellos|ellas|(?:la|esta|dicha|esa)\s+delegaci[oó]n|(?:el|la|este|esta|dicho|dicha)\s+"
               r"(?:representante|delegad[oa]|orador[a]?)|(?:el|este|ese|dicho)\s+país|(?:el|este|dicho)\s+gobierno|"
               r"(?:el|la)\s+ministr[oa]|(?:el|la)\s+president[ea]")
PERSONAL_ES = r"él|ella"
GROUPS_ES = (r"(?:(?:los|las|varios|varias|algunos|algunas|muchos|muchas|numerosos|numerosas|otros|otras|diversos|"
             r"diversas|todos\s+los|todas\s+las)\s+)(?:estados(?:\s+miembros)?|delegaciones|participantes|"
             r"representantes|pa[ií]ses|expertos|expertas|gobiernos|autoridades(?:\s+nacionales)?|oradores|"
             r"panelistas|ministros|delegados)")
# Posts: 'la Ministra de Seguridad, Patricia Bullrich' (folded heads for _by_role, capitalised for the appositive).
ROLE_HEADS_ES = ("ministro", "ministra", "viceministro", "viceministra", "director", "directora", "secretario general",
                 "secretaria general", "secretario general adjunto", "presidente", "presidenta", "relator", "relatora",
                 "embajador", "embajadora", "coordinador", "coordinadora", "representante permanente",
                 "subsecretario", "subsecretaria", "fiscal general", "procurador", "procuradora")
ROLE_WORDS_ES = ("Ministr[oa]|Viceministr[oa]|Director[a]?|Secretari[oa] General(?: Adjunt[oa])?|President[ea]|"
                 "Relator[a]?|Embajador[a]?|Coordinador[a]?|Representante Permanente|Subsecretari[oa]|Fiscal General|"
                 "Procurador[a]?")
# A name in apposition may be introduced by a Spanish title too: 'el Embajador Juan Pérez'.
PERSON_TITLES_ES = r"Sr\.|Sra\.|Dr\.|Dra\.|Lic\.|Embajador|Embajadora|Don|Doña"
# The first word of a subject that makes it a noun phrase, never a person's name: 'El Perú', 'La República'.
ARTICLES = frozenset({"el", "la", "los", "las", "the"})
# Coordinated clauses with their own speaker: '..., y la delegación de Colombia propuso ...'.
CLAUSE_BREAKS_ES = r",\s+y\s+|\s+y\s+|,\s+que\s+|,\s+quien\s+|,\s+mientras\s+que\s+|\s+mientras\s+que\s+"
