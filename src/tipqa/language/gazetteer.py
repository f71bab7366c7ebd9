"""The names tipqa knows countries and organisations by: every ISO 3166 country with its English, Spanish,
Portuguese and French names, long forms and demonyms (pycountry), and the organisations of the field with their
acronyms in each language. entities.py finds them in text; their ids are the canonical ids of Entity.
"""
from __future__ import annotations

import functools
import gettext
import re
from dataclasses import dataclass, field

from ..text import fold


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
DZ Algerian|argelino  AO Angolan|angoleño  BJ Beninese|beninés  BW Motswana,Botswanan|botsuano
BF Burkinabe,Burkinabè|burkinés,burkinabé  BI Burundian|burundés  CV Cape Verdean,Cabo Verdean|caboverdiano
CM Cameroonian|camerunés  TD Chadian|chadiano  KM Comoran,Comorian|comorense  CD Congolese|congoleño,congolés
DJ Djiboutian|yibutiano  GQ Equatoguinean,Equatorial Guinean|ecuatoguineano  ER Eritrean|eritreo  SZ Swazi|suazi
GA Gabonese|gabonés  GM Gambian|gambiano  GN Guinean|guineano  GW Bissau-Guinean|bisauguineano  CI Ivorian|marfileño
LS Basotho,Mosotho|lesotense  LR Liberian|liberiano  LY Libyan|libio  MG Malagasy|malgache
MW Malawian|malauí,malawiano  ML Malian|maliense  MR Mauritanian|mauritano  MU Mauritian|mauriciano
MZ Mozambican|mozambiqueño  NA Namibian|namibio  NE Nigerien|nigerino  RW Rwandan|ruandés
ST Santomean,São Toméan|santotomense  SN Senegalese|senegalés  SC Seychellois|seychellense
SL Sierra Leonean|sierraleonés  SO Somali|somalí  SS South Sudanese|sursudanés,sudsudanés  SD Sudanese|sudanés
TZ Tanzanian|tanzano  TG Togolese|togolés  TN Tunisian|tunecino  UG Ugandan|ugandés  ZM Zambian|zambiano
ZW Zimbabwean|zimbabuense  AF Afghan|afgano  AM Armenian|armenio  AZ Azerbaijani,Azeri|azerbaiyano,azerí
BH Bahraini|bareiní  BT Bhutanese|butanés  BN Bruneian|bruneano  KH Cambodian|camboyano  CY Cypriot|chipriota
GE Georgian|georgiano  IR Iranian|iraní  IQ Iraqi|iraquí  JO Jordanian|jordano
KZ Kazakh,Kazakhstani|kazajo,kazajistano  KW Kuwaiti|kuwaití  KG Kyrgyz,Kyrgyzstani|kirguís,kirguiso
LA Laotian|laosiano  LB Lebanese|libanés  MV Maldivian|maldivo  MN Mongolian|mongol  MM Burmese|birmano
KP North Korean|norcoreano  OM Omani|omaní  QA Qatari|catarí  SA Saudi,Saudi Arabian|saudí,saudita
SG Singaporean|singapurense  LK Sri Lankan|esrilanqués,srilanqués,ceilanés  SY Syrian|sirio
TJ Tajik,Tajikistani|tayiko  TL Timorese,East Timorese|timorense  TM Turkmen|turkmeno,turcomano  AE Emirati|emiratí
UZ Uzbek,Uzbekistani|uzbeko  YE Yemeni|yemení  PS Palestinian|palestino  TW Taiwanese|taiwanés
HK Hong Konger,Hongkonger|hongkonés  AD Andorran|andorrano  BY Belarusian|bielorruso
BA Bosnian|bosnio,bosnioherzegovino  HR Croatian,Croat|croata  CZ Czech|checo  DK Danish,Dane|danés
EE Estonian|estonio  FI Finnish|finlandés  HU Hungarian|húngaro  IS Icelandic,Icelander|islandés  LV Latvian|letón
LI Liechtensteiner|liechtensteiniano  LT Lithuanian|lituano  LU Luxembourger,Luxembourgish|luxemburgués
MT Maltese|maltés  MC Monegasque|monegasco  ME Montenegrin|montenegrino
MK Macedonian,North Macedonian|macedonio,normacedonio  RS Serbian,Serb|serbio
SM Sammarinese,San Marinese|sanmarinense  SK Slovak,Slovakian|eslovaco  SI Slovenian,Slovene|esloveno
FJ Fijian|fiyiano  KI I-Kiribati|kiribatiano  MH Marshallese|marshalés  FM Micronesian|micronesio
NR Nauruan|nauruano  NZ New Zealander|neozelandés  PW Palauan|palauano  PG Papua New Guinean|papú,papuano
WS Samoan|samoano  SB Solomon Islander|salomonense  TO Tongan|tongano  TV Tuvaluan|tuvaluano
VU Ni-Vanuatu|vanuatuense  PR Puerto Rican|puertorriqueño,boricua
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


def country_name(code: str, language: str = "en") -> str:
    country = countries()[code]
    return country.name if language == "en" else country.names.get(language, [country.name])[0]
