"""entities.py: countries in four languages, long forms and demonyms; organisations; people with roles; dates,
symbols, numbers; offsets that index the text."""
from __future__ import annotations

import pytest

from tipqa.language.entities import OAS_MEMBERS, canonical, countries, find_entities, organisations


def kinds_and_ids(text, kind=None):
    return [(e.kind, e.canonical_id) for e in find_entities(text) if kind is None or e.kind == kind]


@pytest.mark.parametrize("name, code", [
    ("the Argentine Republic", "AR"), ("the Eastern Republic of Uruguay", "UY"), ("Paraguayan", "PY"),
    ("Dominicans", "DO"), ("Brasil", "BR"), ("Estados Unidos", "US"), ("États-Unis", "US"), ("Perú", "PE"),
    ("República Dominicana", "DO"), ("the Plurinational State of Bolivia", "BO"), ("Canadá", "CA"),
    ("México", "MX"), ("Trinidad and Tobago", "TT"), ("Saint Kitts and Nevis", "KN"), ("Uruguai", "UY"),
])
def test_country_names_in_every_language_resolve_to_iso_codes(name, code):
    assert canonical(name, "country") == code


def test_every_oas_member_has_spanish_and_portuguese_names_and_a_demonym():
    table = countries()
    for code in OAS_MEMBERS:
        assert table[code].names["es"] and table[code].names["pt"] and table[code].names["fr"], code
        # 'Dominican' is kept for the Dominican Republic: Dominica's demonym would be ambiguous.
        assert table[code].demonyms or code == "DM", code


@pytest.mark.parametrize("alias, acronym", [("ACNUR", "UNHCR"), ("OIM", "IOM"), ("OIT", "ILO"), ("OEA", "OAS"),
                                            ("International Organization for Migration", "IOM"),
                                            ("Oficina de las Naciones Unidas contra la Droga y el Delito", "UNODC")])
def test_organisation_aliases(alias, acronym):
    assert canonical(alias, "organisation") == acronym
    assert acronym in organisations()


def test_people_with_titles_and_roles():
    text = ("The delegation of Brazil submitted the candidacy of Ambassador Raúl Ricardes, Coordinator General of "
            "International Issues of the Argentine Republic, to serve as President of this meeting.")
    people = [e for e in find_entities(text) if e.kind == "person"]
    assert [(p.text, p.canonical_id) for p in people] == [("Ambassador Raúl Ricardes", "raul-ricardes")]
    assert people[0].role.startswith("Ambassador; Coordinator General of International Issues")
    assert ("country", "BR") in kinds_and_ids(text) and ("country", "AR") in kinds_and_ids(text)


def test_people_named_before_their_organisation_and_surnames_linked():
    text = "Egidi Crotti (UNICEF) spoke. After Ambassador Ricardes ... Ambassador Raúl Ricardes, Coordinator General."
    people = {e.text: e for e in find_entities(text) if e.kind == "person"}
    assert people["Egidi Crotti"].role == "UNICEF"
    assert people["Ambassador Ricardes"].canonical_id == "raul-ricardes"


def test_dates_symbols_and_numbers():
    text = ("The document, contained in document RTP-II/doc.5/09 rev. 9, was adopted on March 27, 2009; "
            "the law of 9 de abril de 2008 and 12 agencies.")
    assert kinds_and_ids(text, "document") == [("document", "RTP-II/DOC.5/09 REV.9")]
    assert kinds_and_ids(text, "date") == [("date", "2009-03-27"), ("date", "2008-04-09")]
    assert kinds_and_ids(text, "number") == [("number", "12")]


@pytest.mark.parametrize("text, surface, value", [
    ("victims repay up to US$2,250 for the crossing", "up to US$2,250", "2250"),  # the currency is the amount's
    ("ransoms ranged from USD3,000 to USD30,000 last year", "from USD3,000 to USD30,000", "3000-30000"),
    ("roughly 30–35 armed conflicts", "roughly 30–35", "30-35"),  # a range written with a dash
    ("adoption requires a two-thirds majority", "two-thirds", "0.666667"),  # a fraction is one figure
    ("one in five of the 746 respondents", "one in five", "0.2"),  # so is a ratio
    ("uno de cada cinco encuestados", "uno de cada cinco", "0.2"),
])
def test_amounts_ranges_fractions_and_ratios_are_one_number(text, surface, value):
    numbers = [e for e in find_entities(text) if e.kind == "number"]
    assert (numbers[0].text, numbers[0].canonical_id) == (surface, value)
    assert "US" not in {e.canonical_id for e in find_entities(text) if e.kind == "country"}


def test_a_figure_in_a_year_is_no_ratio_and_a_bare_us_is_the_country():
    assert kinds_and_ids("the count rose to 10 in 2019", "number") == [("number", "10")]
    assert kinds_and_ids("more than 40 million in 2023", "date") == [("date", "2023")]
    assert kinds_and_ids("in the US 12 agencies signed", "country") == [("country", "US")]


def test_offsets_index_the_text_and_spans_do_not_overlap():
    text = "Mr. Víctor Hugo Peña, Director General of Special Affairs of the Republic of Paraguay, and UNODC."
    entities = find_entities(text)
    assert all(text[e.start:e.end] == e.text for e in entities)
    assert all(a.end <= b.start for a, b in zip(entities, entities[1:]))


def test_common_words_are_not_countries():
    assert kinds_and_ids("we met us in the afternoon; chile peppers; the US delegation", "country") == [("country", "US")]
    # a Spanish meeting's title is no island: 'Reunión' is not Réunion, which keeps its full name
    assert kinds_and_ids("la Séptima Reunión de Autoridades Nacionales", "country") == []
    assert kinds_and_ids("victims on the Île de la Réunion", "country") == [("country", "RE")]


@pytest.mark.parametrize("text, code", [
    ("Senegalese mining districts", "SN"), ("Eritreans", "ER"), ("Sudanese", "SD"), ("South Sudanese", "SS"),
    ("Somali", "SO"), ("Nigerien", "NE"), ("Nigerian", "NG"), ("Ivorian", "CI"), ("Burkinabe", "BF"),
    ("Emirati", "AE"), ("Saudi", "SA"), ("Afghan", "AF"), ("Syrian", "SY"), ("New Zealander", "NZ"),
])
def test_every_states_demonym_is_its_country(text, code):
    assert kinds_and_ids(text, "country") == [("country", code)]


def test_spanish_demonyms_of_states_beyond_the_americas():
    found = [(e.canonical_id, e.text) for e in find_entities("víctimas eritreas y sudanesas, un tratante libio",
                                                             case_sensitive=False) if e.kind == "country"]
    assert found == [("ER", "eritreas"), ("SD", "sudanesas"), ("LY", "libio")]
