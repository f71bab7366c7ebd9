"""Who said what: attribution rules on the real seed, the hand-labelled set, the index, API, CLI and web app."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tipqa.answering.speaker_questions import speaker_question
from tipqa.assistant import Assistant
from tipqa.cli import cli
from tipqa.errors import IndexCorrupt
from tipqa.ingest.chunking import chunk_report
from tipqa.ingest.reports import load_report
from tipqa.speakers.attribution import attribute_paragraphs, attribute_report
from tipqa.speakers.labels import evaluate_labels
from tipqa.speakers.statements import SpeakerNotFound, find_speaker, statements_of, summary_text
from tipqa.store.files import STATEMENTS, IndexStore

from .conftest import ROOT, SEED, SEED_ID, open_seed_assistant

WG1, WG2 = "Technical Working Group 1", "Technical Working Group 2"
ANSWER_KEYS = {"question", "answer", "answer_type", "confidence", "evidence", "passages", "outcome"}


@pytest.fixture(scope="module")
def seed_statements():
    report = load_report(SEED)
    report.report_id = SEED_ID
    chunks = chunk_report(report, 700)
    return attribute_report(report, chunks), {c.chunk_id: c for c in chunks}


def _ids(statement) -> list[str]:
    return [s["id"] for s in statement.speakers]


# ---- the rules, on the real seed report ---------------------------------------------------------------------
def test_ecuador_has_exactly_its_three_statements(seed_statements):
    statements, chunks = seed_statements
    ecuador = statements_of("EC", statements)
    assert [s.section.split(":")[0] for s in ecuador] == [WG1, WG1, WG2]
    assert ecuador[0].sentence.startswith("Finally, Ecuador underscored its concern")
    assert ecuador[1].sentence == "It also suggested encouraging the development of road maps."
    assert ecuador[1].resolved_from == "pronoun" and ecuador[1].verb == "suggested"
    assert ecuador[2].sentence.startswith("Ecuador pointed to the development of a Consular Assistance Protocol")
    for s in ecuador:  # each statement points at its exact span in its chunk
        assert chunks[s.chunk_id].text[s.start:s.end] == s.sentence


def test_brazil_has_the_nomination_and_joint_investigation_teams(seed_statements):
    brazil = statements_of("BR", seed_statements[0])
    assert [(s.section, s.verb) for s in brazil] == [("ELECTION OF OFFICERS OF THE MEETING", "submitted the candidacy"),
                                                    (brazil[1].section, "proposed")]
    assert "joint judicial investigation teams" in brazil[1].sentence and brazil[1].section.startswith(WG1)
    assert brazil[1].resolved_from is None  # 'For its part, Brazil ...' names Brazil itself


def test_speakers_also_underscored_is_no_single_country(seed_statements):
    statements = seed_statements[0]
    speakers = next(s for s in statements if s.sentence.startswith("Speakers also underscored"))
    assert speakers.speakers == [] and speakers.group == "Speakers" and speakers.verb == "underscored"
    they = next(s for s in statements if s.sentence.startswith("They pointed out"))
    assert they.speakers == [] and they.group == "Speakers" and they.resolved_from == "pronoun"
    # the Argentine Republic in Ricardes' title is his employer, not a speaker of the Brazil sentence
    nomination = next(s for s in statements if s.sentence.startswith("The delegation of Brazil"))
    assert _ids(nomination) == ["BR"]


def test_pronouns_resolve_within_the_paragraph_only():
    paragraphs = ["Chile proposed a registry. It also stressed training. For its part, it suggested audits.",
                  "It also underscored the need for data."]
    first, second = attribute_paragraphs(paragraphs)
    assert [[s["id"] for s in a.speakers] for a in first] == [["CL"], ["CL"], ["CL"]]
    assert [a.resolved_from for a in first] == [None, "pronoun", "for its part"]
    assert second[0].speakers == [] and second[0].resolved_from is None  # no antecedent in its paragraph


def test_two_speakers_in_one_sentence_and_people_with_organisations(seed_statements):
    statements = seed_statements[0]
    election = next(s for s in statements if s.sentence.startswith("The delegation of the United States"))
    assert _ids(election) == ["US", "CA"]
    panel = next(s for s in statements if s.sentence.startswith("Working Group No. 2 heard"))
    assert [(p["id"], p["affiliation"]["id"]) for p in panel.speakers] == [
        ("javier-gonzalez-olaechea", "ILO"), ("egidi-crotti", "UNICEF"), ("juan-carlos-murillo", "UNHCR")]
    assert [s.sentence for s in statements_of("UNHCR", statements)] == [panel.sentence]


def test_hand_labelled_accuracy():
    result = evaluate_labels(ROOT / "eval" / "attribution_labels.jsonl", ROOT)
    labels = [json.loads(line) for line in (ROOT / "eval" / "attribution_labels.jsonl").read_text().splitlines()]
    assert result["sentences"] >= 60 and sum(item["sentence"].startswith("It also") for item in labels) >= 5
    assert result["accuracy"] >= 0.95, result["errors"]


def test_speaker_names_in_any_language(seed_statements):
    statements = seed_statements[0]
    assert find_speaker("México", statements)["id"] == "MX"
    assert find_speaker("the delegation of Mexico", statements)["id"] == "MX"
    assert find_speaker("Estados Unidos", statements)["id"] == "US"
    assert find_speaker("ONUDD", statements) == {"kind": "organisation", "id": "UNODC",
                                                 "name": "United Nations Office on Drugs and Crime"}
    assert find_speaker("Fernández", statements)["id"] == "anibal-fernandez"
    with pytest.raises(SpeakerNotFound, match="Speakers with statements: .*Ecuador"):
        find_speaker("Atlantis", statements)
    assert speaker_question("What did Mexico say?") == "Mexico"
    assert speaker_question("¿Qué dijo México?") == "México"
    assert speaker_question("Which country proposed joint investigation teams?") is None


# ---- stored with the index, incrementally -------------------------------------------------------------------
def test_statements_are_stored_verified_and_reused(settings, hash_embedder, second_report):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    data = assistant.data
    assert STATEMENTS in data.manifest["files"] and data.manifest["attribution"]["statements"] == len(data.statements)
    seed_before = [s.to_record() for s in data.statements]
    result = assistant.add([second_report])
    reloaded = IndexStore(settings.index_dir).load()
    assert [s.to_record() for s in reloaded.statements if s.report_id == SEED_ID] == seed_before
    us = assistant.statements("United States")
    assert {s.report_id for s in us} == {SEED_ID, "rtp-iii-2012-guatemala"}
    assert result.embedded == sum(c.report_id == "rtp-iii-2012-guatemala" for c in reloaded.chunks)  # seed reused
    path = reloaded.path / STATEMENTS
    path.write_text(path.read_text().replace("Ecuador", "Ecuadxr"))
    with pytest.raises(IndexCorrupt, match="statements.jsonl.*tipqa build --rebuild"):
        IndexStore(settings.index_dir).load_generation(reloaded.generation)


def test_index_built_before_attribution_gets_statements_without_reembedding(settings, hash_embedder):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    data = assistant.data
    store = IndexStore(settings.index_dir)
    manifest = {k: v for k, v in data.manifest.items() if k != "attribution"}
    with store.lock():
        store.write(data.chunks, data.all_vectors(), manifest)  # as an older tipqa wrote it: no statements
    assert store.load().statements is None
    hash_embedder.reset()
    again = Assistant.open(settings=settings, embedder=hash_embedder)
    assert not hash_embedder.texts and len(again.statements("Ecuador")) == 3


# ---- API with the real model --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def seed_assistant(real_embedder, tmp_path_factory):
    return open_seed_assistant(tmp_path_factory.mktemp("attribution"), real_embedder)


@pytest.mark.parametrize("question", ["What did Mexico say?", "¿Qué dijo México?"])
def test_ask_what_did_mexico_say_lists_every_statement(seed_assistant, question):
    answer = seed_assistant.ask(question)
    record = json.loads(json.dumps(answer.to_dict()))
    assert set(record) == ANSWER_KEYS and record["answer_type"] == "statements"
    lines = record["answer"].splitlines()
    assert lines[0] == "Mexico: 3 statements"
    said = [line.strip()[2:] for line in lines if line.strip().startswith("- ")]
    assert said[0].startswith("Mexico encouraged") and said[1] == "It also underscored the importance of empowering victims."
    assert said[2].startswith("Mexico recognized the importance of empowering and reintegrating victims")
    assert record["evidence"]["sentence"] == said[0] and record["evidence"]["section"].startswith(WG1)
    assert [p["section"].split(":")[0] for p in record["passages"]] == [WG1, WG2]


@pytest.mark.parametrize("question, speaker_start, topic_word, on_topic", [
    # Chile never spoke of joint investigation teams: its closest statement is shown as that, not as its answer
    ("What did Chile say about joint investigation teams?", "Chile acknowledged", "cooperation", False),
    ("What did Mexico say about victims?", "Mexico recognized", "victims", True),
    ("¿Qué dijo México sobre las víctimas?", "Mexico recognized", "victims", True),
    ("What did Ecuador propose about demand?", "Finally, Ecuador underscored", "demand", True),
])
def test_what_did_x_say_about_y_answers_with_xs_closest_statement(seed_assistant, question, speaker_start, topic_word,
                                                                   on_topic):
    answer = seed_assistant.ask(question)
    assert answer.evidence.sentence.startswith(speaker_start) and topic_word in answer.evidence.sentence
    if on_topic:
        assert answer.answer_type == "statement" and answer.answer == answer.evidence.sentence
    else:
        assert answer.answer is None and answer.outcome == "closest"
    speaker = speaker_start.split()[-2] if speaker_start.startswith("Finally") else speaker_start.split()[0]
    assert all(speaker in p.text for p in answer.passages)  # only passages where that speaker speaks


def test_other_questions_still_take_the_usual_path(seed_assistant):
    answer = seed_assistant.ask("Which country proposed joint investigation teams?")
    assert answer.answer == "Brazil" and answer.answer_type == "country"
    assert seed_assistant.ask("What did the report say?").answer_type != "statements"  # not a speaker


def test_statements_api(seed_assistant):
    assert [s.section.split(":")[0] for s in seed_assistant.statements("Ecuador")] == [WG1, WG1, WG2]
    assert seed_assistant.statements("Ecuador", report=SEED_ID) == seed_assistant.statements("ecuador")
    counts = {s["id"]: s for s in seed_assistant.speakers()}
    assert counts["EC"]["count"] == 3 and counts["EC"]["reports"] == {SEED_ID: 3}


# ---- CLI --------------------------------------------------------------------------------------------------
def _cli(seed_assistant, *args):
    s = seed_assistant.settings
    return CliRunner().invoke(cli, ["statements", *args, "--corpus", str(s.corpus_dir), "--index", str(s.index_dir)])


def test_cli_statements(seed_assistant):
    result = _cli(seed_assistant, "--speaker", "Ecuador", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["speaker"]["id"] == "EC" and record["count"] == 3
    assert [s["verb"] for s in record["statements"]] == ["underscored", "suggested", "pointed to"]
    text = _cli(seed_assistant, "--speaker", "Brasil").stdout
    assert text.startswith("Brazil: 2 statements") and "joint judicial investigation teams" in text
    listing = _cli(seed_assistant).stdout.splitlines()
    assert "EC\tcountry\t3\tEcuador" in listing


def test_cli_statements_errors_name_the_fix(seed_assistant):
    unknown = _cli(seed_assistant, "--speaker", "Atlantis")
    assert unknown.exit_code == 1 and "Speakers with statements" in unknown.output
    assert "Traceback" not in unknown.output
    bad_report = _cli(seed_assistant, "--speaker", "Ecuador", "--report", "nope")
    assert bad_report.exit_code == 1 and "tipqa reports" in bad_report.output


def test_summary_text_groups_by_report_and_section(seed_statements):
    statements = seed_statements[0]
    text = summary_text({"name": "Ecuador"}, statements_of("EC", statements), {SEED_ID: {"title": "RTP-II", "date": "2009-03-27"}})
    assert text.splitlines()[:3] == ["Ecuador: 3 statements", "RTP-II (2009-03-27)", "  " + statements_of("EC", statements)[0].section]


# ---- web: the Speakers page as plain functions, then a real server queried with gradio_client --------------------
def test_render_statements_side_by_side_escaped(seed_statements):
    from tipqa.web.speakers import render_statements
    statements = statements_of("US", seed_statements[0])
    evil = statements[0].__class__(**{**statements[0].to_record(), "report_id": "other",
                                      "sentence": "The United States said <script>alert(1)</script>."})
    html = render_statements({"id": "US", "name": "United States"}, statements + [evil],
                             {SEED_ID: {"title": "RTP-II", "date": "2009-03-27"}, "other": {"title": "RTP-III",
                                                                                             "date": "2012-10-16"}})
    assert html.count('class="tipqa-side-report"') == 2  # one column per report, oldest meeting first
    assert html.index("RTP-II") < html.index("RTP-III") and "2009-03-27" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "United States</strong>: 3 statements" in html


@pytest.fixture(scope="module")
def speakers_server(tmp_path_factory, real_embedder):
    from .web_server import DATA, start_server
    running = start_server(tmp_path_factory.mktemp("speakers-web"), real_embedder)
    running.app.assistant.add([DATA / "rtp-iii-2012-guatemala-rapporteur.txt"])  # a second meeting
    yield running
    running.close()


def test_web_statements_api_and_speakers_page(speakers_server):
    from gradio_client import Client

    from tipqa.web.speakers import chart_frame, show_speaker
    client = Client(speakers_server.url, verbose=False)
    result = client.predict("México", "", api_name="/statements")
    assert result["speaker"]["id"] == "MX" and result["count"] == 3
    assert [len(r["statements"]) for r in result["reports"]] == [3]
    both = client.predict("Estados Unidos", "", api_name="/statements")
    assert [r["date"] for r in both["reports"]][0] == "2009-03-27" and len(both["reports"]) == 2
    with pytest.raises(Exception, match="Speakers with statements"):
        client.predict("Atlantis", "", api_name="/statements")
    assistant = speakers_server.app.assistant
    page = show_speaker(assistant, "US")
    assert page.count('class="tipqa-side-report"') == 2 and "nominated Luz Gamelia Ibarra Madana" in page
    frame = chart_frame(assistant)
    assert set(frame.columns) == {"speaker", "report", "statements"}
    assert frame[frame.speaker == "United States"].statements.sum() == len(assistant.statements("US"))
    config = client.view_api(print_info=False, return_format="dict")
    assert "/statements" in config["named_endpoints"]
