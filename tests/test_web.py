"""The web app: rendering and handlers as plain functions, then a real server queried with gradio_client."""
from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from gradio_client import Client

from tipqa.answering.answer import Answer, Evidence, Passage
from tipqa.cli import cli
from tipqa.config import load_settings
from tipqa.errors import ConfigError
from tipqa.web.app import WebApp, highlight, launch_options, render_answer

from .conftest import CANONICAL, ROOT, SEED_ID
from .web_server import DATA, free_port, start_server

BRAZIL = "For its part, Brazil proposed disseminating a Directory of National Authorities"
ANSWER_KEYS = {"question", "answer", "answer_type", "confidence", "evidence", "passages", "outcome"}


# ---- rendering ---------------------------------------------------------------------------------------------
def _answer(text: str, start: int, end: int, short: str | None = "Atlantis") -> Answer:
    passage = Passage(1, text, "r", "Report <i>one</i>", "Section & co", "r/s/001", 0.0312, page=4)
    other = Passage(2, "Other <script>alert(2)</script>", "r", "Report", "Annex", "r/a/001", 0.01)
    evidence = Evidence(text[start:end], "r", "Report <i>one</i>", "Section & co", "r/s/001", start, end, page=4)
    return Answer("q", short, "country" if short else None, 0.8, evidence, [passage, other])


def test_render_answer_escapes_then_highlights_the_evidence_span():
    text = "Intro <img src=x onerror=alert(1)>. Atlantis proposed <script>alert('x')</script> teams. End."
    start = text.index("Atlantis")
    end = text.index(" End.")
    html = render_answer(_answer(text, start, end))
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    assert "<strong>Atlantis</strong>" in html
    assert "<mark>Atlantis proposed &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; teams.</mark>" in html
    assert "Report &lt;i&gt;one&lt;/i&gt; › Section &amp; co › p. 4" in html
    assert "<details><summary>Other passages (1)</summary>" in html and "score 0.0100" in html
    assert "\n" not in html  # one line: Markdown in the chat cannot reinterpret any of it


def test_render_without_short_answer_or_evidence_says_so():
    bare = Answer("q", None, None, 0.0, None, [Passage(1, "text", "r", "R", "S", "r/s/1", 0.5)])
    html = render_answer(bare)
    assert "The reports do not say." in html and "Closest passages (1)" in html
    with_evidence = render_answer(_answer("One. Two.", 5, 9, short=None))
    assert "The reports do not say" not in with_evidence and "<mark>Two.</mark>" in with_evidence


def test_highlight_falls_back_to_the_sentence_when_offsets_are_stale():
    assert highlight("a <b> c", 0, 1, "c") == "a &lt;b&gt; <mark>c</mark>"
    assert highlight("a b", 5, 9, "zzz") == "a b"


# ---- safe defaults -----------------------------------------------------------------------------------------
def test_public_host_needs_auth():
    with pytest.raises(ConfigError, match="--auth user:password"):
        launch_options(load_settings(host="0.0.0.0"))
    options = launch_options(load_settings(host="0.0.0.0", auth="ana:s3cret", max_upload_mb=3))
    assert options["auth"] == ("ana", "s3cret") and options["max_file_size"] == "3mb"
    assert options["allowed_paths"] == [] and options["share"] is False
    assert launch_options(load_settings())["server_name"] == "127.0.0.1"
    with pytest.raises(ConfigError, match="user:password"):
        launch_options(load_settings(auth="no-colon"))


def test_serve_refuses_public_host_without_auth_before_loading_anything():
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "--auth user:password" in result.output and "Traceback" not in result.output


# ---- handlers as plain functions (real model, no server) ---------------------------------------------------
@pytest.fixture
def web_app(settings, real_embedder):
    from tipqa.assistant import Assistant
    return WebApp(Assistant.open(settings=settings, embedder=real_embedder))


def test_respond_answers_and_follows_up(web_app):
    history, context, cleared = web_app.respond(CANONICAL, [], [], "")
    assert cleared == "" and context == [CANONICAL]
    reply = history[-1]["content"]
    assert "<mark>" in reply and "Brazil" in reply.split("<mark>")[1].split("</mark>")[0]
    history, context, _ = web_app.respond("And what did Chile say?", history, context, "")
    assert context[-1] == "What did Chile say about joint investigation teams?"
    assert "Understood as: <em>What did Chile say about joint investigation teams?</em>" in history[-1]["content"]
    assert len(history) == 4


def test_respond_shows_errors_in_the_chat(web_app):
    history, context, _ = web_app.respond("   ", [], [], "")
    assert "Can't answer" in history[-1]["content"] and "question is empty" in history[-1]["content"]
    assert context == []
    history, _, _ = web_app.respond(CANONICAL, [], [], "no-such-report")
    assert "tipqa reports" in history[-1]["content"]


def test_upload_screening_explains_refusals(web_app, tmp_path):
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    big = tmp_path / "huge.txt"
    big.write_bytes(b"a" * (web_app.settings.max_upload_mb * 1024 * 1024 + 1))
    rows, result = web_app.add_reports([str(exe), str(big)])
    assert result is None  # nothing reached the index
    assert rows[0][:2] == ("tool.exe", "error") and "is not accepted" in rows[0][2]
    assert rows[1][:2] == ("huge.txt", "error") and "larger than" in rows[1][2]
    assert [r["report_id"] for r in web_app.assistant.reports()] == [SEED_ID]


# ---- a real server -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory, real_embedder):
    running = start_server(tmp_path_factory.mktemp("web"), real_embedder)
    yield running
    running.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(server.url, verbose=False)


def test_api_ask_returns_the_answer_object(client):
    result = client.predict(CANONICAL, "", "", api_name="/ask")
    assert set(result) >= ANSWER_KEYS
    assert result["answer"] in ("Brazil", None)  # None until a short-answer extractor is installed
    assert BRAZIL in result["evidence"]["sentence"]
    assert result["evidence"]["report_id"] == SEED_ID and "Technical Working Group 1" in result["evidence"]["section"]
    assert result["passages"][0]["rank"] == 1 and result["passages"][0]["report_title"]


def test_api_follow_up_and_errors(client):
    result = client.predict("what about Mexico?", "", CANONICAL, api_name="/ask")
    assert result["question"] == "What did Mexico say about joint investigation teams?"
    with pytest.raises(Exception, match="question is empty"):
        client.predict("", "", "", api_name="/ask")


def test_api_questions_with_lone_surrogates_are_answered_or_refused_with_a_message(server):
    """Raw JSON (gradio_client cannot even send a lone surrogate): the answer, or an error with its message."""
    import httpx

    def call(escaped_question: str) -> str:
        body = '{"data": ["%s", "", ""]}' % escaped_question
        started = httpx.post(f"{server.url}gradio_api/call/ask", content=body.encode("ascii"),
                             headers={"content-type": "application/json"}, timeout=60)
        event = started.json()["event_id"]
        return httpx.get(f"{server.url}gradio_api/call/ask/{event}", timeout=120).text

    answered = call("Which country\\ud800 proposed joint investigation teams?")
    assert "event: complete" in answered and BRAZIL in answered
    refused = call("\\udc80\\ud800 ?")
    assert "event: error" in refused and "no words in it" in refused  # a real message, not {"error": null}


def test_uploaded_report_becomes_answerable(server, client):
    question = "Which delegation nominated Zulma Subillaga Dubón to chair the meeting?"
    rows, _ = server.app.add_reports([str(DATA / "rtp-iii-2012-guatemala-rapporteur.txt")])
    assert rows[0][1] == "ok" and "added as 'rtp-iii-2012-guatemala-rapporteur'" in rows[0][2], rows
    result = client.predict(question, "", "", api_name="/ask")
    top = result["passages"][0]  # whether a short answer is picked is the answerer's business; the passage is ours
    assert top["report_id"] == "rtp-iii-2012-guatemala-rapporteur"
    assert "The delegation of Nicaragua nominated Zulma Subillaga Dubón" in top["text"]
    assert result["evidence"] is None or result["evidence"]["report_id"] == top["report_id"]


def test_no_files_are_served_but_the_apps_own(server):
    seed = (server.settings.corpus_dir / f"{SEED_ID}.txt").resolve()
    for path in (seed, server.settings.index_dir.resolve() / "CURRENT", "/etc/passwd"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}gradio_api/file={path}", timeout=10)
        assert refused.value.code in (403, 404), path
    with urllib.request.urlopen(server.url, timeout=10) as page:
        assert page.status == 200


def test_twenty_concurrent_queries_while_a_report_is_indexed(server, capsys):
    """Questions keep being answered during a build; p50/p95 are printed (bench/web_latency.py measures more)."""
    clients = [Client(server.url, verbose=False) for _ in range(20)]  # 20 users, each with its own connection
    indexing = threading.Thread(target=server.app.add_reports, args=([str(DATA / "un-palermo-protocol-2000.md")],))
    indexing.start()
    deadline = time.time() + 30
    while not server.app.assistant._build_lock.locked() and indexing.is_alive() and time.time() < deadline:
        time.sleep(0.01)

    def timed_ask(user):
        started = time.perf_counter()
        result = user.predict(CANONICAL, SEED_ID, "", api_name="/ask")
        return time.perf_counter() - started, result, server.app.assistant._build_lock.locked()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(timed_ask, clients))
    indexing.join(timeout=300)
    latencies = sorted(seconds for seconds, _, _ in outcomes)
    during = sum(busy for _, _, busy in outcomes)
    assert all(BRAZIL in result["evidence"]["sentence"] for _, result, _ in outcomes)
    assert any(r["report_id"] == "un-palermo-protocol-2000" for r in server.app.assistant.reports())
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    with capsys.disabled():
        print(f"\n20 concurrent /ask while indexing: p50 {p50:.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s; "
              f"{during} of 20 finished while the build was still running")


def test_auth_is_enforced(tmp_path, real_embedder):
    running = start_server(tmp_path, real_embedder, auth="analyst:correct-horse")
    try:
        with pytest.raises(Exception):
            Client(running.url, verbose=False).predict(CANONICAL, "", "", api_name="/ask")
        authed = Client(running.url, auth=("analyst", "correct-horse"), verbose=False)
        assert BRAZIL in authed.predict(CANONICAL, "", "", api_name="/ask")["evidence"]["sentence"]
    finally:
        running.close()


@pytest.mark.slow
@pytest.mark.parametrize("command", [["app.py"], ["-m", "tipqa", "serve"]])
def test_app_py_and_tipqa_serve_start_the_app(command, seed_corpus, tmp_path):
    """`python app.py` and `tipqa serve` build the missing index at start, then answer on 127.0.0.1."""
    port = free_port()
    env = dict(os.environ, TIPQA_CORPUS_DIR=str(seed_corpus), TIPQA_INDEX_DIR=str(tmp_path / "index"),
               TIPQA_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 240
        while time.time() < deadline and process.poll() is None:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=2)
                break
            time.sleep(0.5)
        assert process.poll() is None, process.communicate()[1][-2000:]
        result = Client(url, verbose=False).predict(CANONICAL, "", "", api_name="/ask")
        assert BRAZIL in result["evidence"]["sentence"]
        assert (tmp_path / "index" / "CURRENT").is_file()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "index gen-" in stderr  # build progress was shown on stderr at start
