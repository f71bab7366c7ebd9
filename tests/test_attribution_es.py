"""Who said what in Spanish: the rules on made-up paragraphs, the Spanish labelled set, and a Spanish report indexed
beside the English seed with the real model (API, question, CLI and the Speakers page list both languages together).
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tipqa.cli import cli
from tipqa.speakers.attribution import attribute_paragraphs, attribute_sections
from tipqa.speakers.labels import evaluate_labels

from .conftest import ROOT, SEED_ID, open_seed_assistant

SPANISH_REPORT = """INFORME DE LA REUNIÓN TÉCNICA SOBRE TRATA DE PERSONAS

Grupo de Trabajo sobre Prevención

La delegación del Perú propuso crear un registro regional de víctimas de trata. Asimismo, destacó la necesidad de capacitar a fiscales y jueces en la identificación de víctimas.

El representante de Costa Rica señaló que su país reformó la ley contra la trata en 2009 y que la cooperación judicial es esencial.

Por su parte, Paraguay sugirió fortalecer los equipos conjuntos de investigación en la triple frontera.

Los Estados subrayaron la importancia de la prevención en las comunidades de origen.

Grupo de Trabajo sobre Protección

El Perú informó sobre su nueva fiscalía especializada. La delegación paraguaya agregó que los albergues requieren más recursos.

La OIM presentó su programa de retorno voluntario, y México recordó que las víctimas deben ser protegidas sin condiciones.
"""


def _ids(found) -> list[list[str]]:
    return [[s["id"] for s in a.speakers] for a in found]


def test_spanish_delegations_anaphora_groups_and_organisations():
    paragraphs = ["La delegación de Chile propuso crear un registro. Asimismo, destacó la capacitación.",
                  "El representante de México señaló que la cooperación es esencial. Por su parte, Brasil sugirió "
                  "equipos conjuntos.",
                  "Los Estados subrayaron la importancia de la prevención.",
                  "El ACNUR recordó la protección internacional. La ONUDD informó sobre el Informe Mundial. "
                  "La OEA expresó su apoyo.",
                  "Costa Rica, por su parte, indicó que su ley fue reformada. La delegación uruguaya agregó que era "
                  "necesario."]
    chile, mexico, states, organisations, asides = attribute_paragraphs(paragraphs)
    assert _ids(chile) == [["CL"], ["CL"]] and chile[1].resolved_from == "pronoun" and chile[1].verb == "destacó"
    assert _ids(mexico) == [["MX"], ["BR"]] and mexico[0].verb == "señaló"
    assert states[0].speakers == [] and states[0].group == "Los Estados" and states[0].verb == "subrayaron"
    assert _ids(organisations) == [["UNHCR"], ["UNODC"], ["OAS"]]
    assert _ids(asides) == [["CR"], ["UY"]]


def test_spanish_countries_are_never_people_and_posts_name_people():
    paragraphs = ["El Perú señaló que había creado una fiscalía. La República Oriental del Uruguay propuso un protocolo.",
                  "La Ministra de Seguridad, Patricia Bullrich, señaló que las denuncias se duplicaron. "
                  "La Ministra destacó la línea 145.",
                  "Se señaló que la trata afecta sobre todo a mujeres y niñas. Asimismo, destacó la prevención."]
    countries, people, impersonal = attribute_paragraphs(paragraphs)
    assert [[(s["kind"], s["id"]) for s in a.speakers] for a in countries] == [[("country", "PE")], [("country", "UY")]]
    assert _ids(people) == [["patricia-bullrich"], ["patricia-bullrich"]] and people[1].resolved_from == "pronoun"
    assert not any(a.is_statement for a in impersonal)  # 'Se señaló': nobody; 'Asimismo' then has no antecedent


def test_a_resolution_speaks_through_its_enacting_organ():
    from tipqa.ingest.reports.base import Section
    spanish = [Section("Text", ["AG/RES. 2551 (XL-O/10)"]),
               Section("LA ASAMBLEA GENERAL,", ["TENIENDO PRESENTE las resoluciones AG/RES. 2019 (XXXIV-O/04);",
                                               "RESUELVE: Aprobar el Plan de Trabajo."])]
    english = [Section("Text", ["A/RES/55/25", "THE GENERAL ASSEMBLY,", "RECALLING its resolution 53/111,",
                                "The Protocol was adopted."])]
    found = [(text, a) for report in (spanish, english) for _, text, attributions in attribute_sections(report)
             for a in attributions]
    said = [(text[a.start:a.end][:20], [s["id"] for s in a.speakers], a.verb) for text, a in found if a.is_statement]
    assert said == [("TENIENDO PRESENTE la", ["OAS"], "teniendo presente"), ("RESUELVE: Aprobar el", ["OAS"], "resuelve"),
                    ("RECALLING its resolu", ["UN"], "recalling")]


def test_a_speech_is_its_speakers_and_a_report_is_not_a_speech():
    from tipqa.ingest.reports.base import Section
    speech = [Section("Text", ["Buenos días a todos. Quiero agradecer al Gobierno de Chile.",
                               "La trata es un delito.\n\n• la tecnología;", "[…]"])]
    found = [a for _, _, attributions in attribute_sections(speech, "Discurso de la OEA en Santiago") for a in attributions]
    assert [[s["id"] for s in a.speakers] for a in found] == [["OAS"]] * 4 + [[]]  # Chile is thanked, not speaking
    assert {(a.verb, a.resolved_from) for a in found[:4]} == {("speech", "speech")}
    report = [Section("Text", ["La delegación de Chile propuso un registro. La trata es un delito."])]
    found = [a for _, _, attributions in attribute_sections(report, "Informe de la OEA") for a in attributions]
    assert [[s["id"] for s in a.speakers] for a in found] == [["CL"], []]


def test_labelled_accuracy_english_unchanged_and_spanish_measured():
    english = evaluate_labels(ROOT / "eval" / "attribution_labels.jsonl", ROOT)
    spanish = evaluate_labels(ROOT / "eval" / "attribution_labels_es.jsonl", ROOT)
    assert english["correct"] == english["sentences"] == 80
    # 56 before any Spanish rule (issue 17); one labelled sentence (1,396 characters) is over text's 1,000 cap
    assert spanish["sentences"] == 72 and spanish["correct"] >= 66
    assert not [e for e in spanish["errors"] if e["predicted"]]  # no speaker invented in the Spanish documents


# ---- a Spanish report beside the English seed, with the real model --------------------------------------------
@pytest.fixture(scope="module")
def bilingual(real_embedder, tmp_path_factory):
    return open_seed_assistant(tmp_path_factory.mktemp("attribution-es"), real_embedder,
                               {"reunion-tecnica-trata.txt": SPANISH_REPORT})


def test_three_delegations_speak_in_a_spanish_report(bilingual):
    spanish = [s for s in bilingual.data.statements if s.report_id == "reunion-tecnica-trata"]
    by_speaker = {}
    for s in spanish:
        for speaker in s.speakers:
            by_speaker.setdefault(speaker["id"], []).append(s)
    peru = [s.sentence for s in by_speaker["PE"]]
    assert peru == ["La delegación del Perú propuso crear un registro regional de víctimas de trata.",
                    "Asimismo, destacó la necesidad de capacitar a fiscales y jueces en la identificación de víctimas.",
                    "El Perú informó sobre su nueva fiscalía especializada."]
    assert [s.resolved_from for s in by_speaker["PE"]] == [None, "pronoun", None]
    assert [s.sentence[:30] for s in by_speaker["CR"]] == ["El representante de Costa Rica"]
    assert [s.verb for s in by_speaker["PY"]] == ["sugirió", "agregó"]
    assert not any(sp["kind"] == "person" for s in spanish for sp in s.speakers)  # countries spoke, nobody else
    group = next(s for s in spanish if s.sentence.startswith("Los Estados"))
    assert group.speakers == [] and group.group == "Los Estados"
    assert {sp["id"] for s in spanish for sp in s.speakers} == {"PE", "CR", "PY", "IOM", "MX"}


@pytest.mark.parametrize("question", ["¿Qué dijo el Perú?", "What did Peru say?"])
def test_what_did_peru_say_in_either_language(bilingual, question):
    answer = json.loads(json.dumps(bilingual.ask(question).to_dict()))
    assert answer["answer_type"] == "statements"
    # Peru's 3 Spanish statements and its 2 in the English seed, by report
    assert answer["answer"].splitlines()[0] == "Peru: 5 statements"
    assert "Asimismo, destacó la necesidad" in answer["answer"]
    assert {p["report_id"] for p in answer["passages"]} == {SEED_ID, "reunion-tecnica-trata"}


def test_one_speaker_in_english_and_spanish_reports_together(bilingual):
    mexico = bilingual.statements("México")
    assert {s.report_id for s in mexico} == {SEED_ID, "reunion-tecnica-trata"}
    s = bilingual.settings
    result = CliRunner().invoke(cli, ["statements", "--speaker", "Perú", "--json", "--corpus", str(s.corpus_dir),
                                      "--index", str(s.index_dir)])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["speaker"]["id"] == "PE" and record["count"] == 5
    assert {st["report_id"] for st in record["statements"]} == {SEED_ID, "reunion-tecnica-trata"}
    from tipqa.web.speakers import api_statements
    api = api_statements(bilingual, "Mexico")
    assert {r["report_id"] for r in api["reports"]} == {SEED_ID, "reunion-tecnica-trata"}
