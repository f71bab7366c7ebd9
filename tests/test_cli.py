"""The tipqa command, run in a real subprocess (exit codes, stdout/stderr) and through click's runner."""
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tipqa.cli import cli

from .conftest import CANONICAL, SEED_ID


def run(*args, input=None, env=None):
    return subprocess.run([sys.executable, "-m", "tipqa", *args], capture_output=True, text=True,
                          input=input, env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One real index of the seed, built by the CLI, shared by the read-only tests of this module."""
    from .conftest import SEED
    root = tmp_path_factory.mktemp("cli")
    (root / "corpus").mkdir()
    for source in (SEED, SEED.with_name(SEED.name + ".meta.json")):
        (root / "corpus" / source.name).write_bytes(source.read_bytes())
    env = {"TIPQA_CORPUS_DIR": str(root / "corpus"), "TIPQA_INDEX_DIR": str(root / "index")}
    result = run("build", env=env)
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout
    return env


def test_ask_prints_the_brazil_passage_first(built):
    result = run("ask", CANONICAL, env=built)
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("[1]", 1)[1]
    assert "Technical Working Group 1" in first.splitlines()[0]
    assert "Brazil proposed" in first.split("[2]")[0]


def test_ask_json(built):
    result = run("ask", "--json", "-k", "3", CANONICAL, env=built)
    record = json.loads(result.stdout)
    assert record["passages"][0]["section"].startswith("Technical Working Group 1")
    assert len(record["passages"]) == 3


def test_ask_stdin_one_json_line_per_question(built):
    result = run("ask", "-", input=f"{CANONICAL}\n\nWho chaired the drafting group?\n\n", env=built)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == [CANONICAL, "Who chaired the drafting group?"]
    assert "Tettamanti" in lines[1]["evidence"]["sentence"]


def test_reports_json(built):
    result = run("reports", "--json", env=built)
    (report,) = json.loads(result.stdout)
    assert report["report_id"] == SEED_ID and len(report["sections"]) == 9


@pytest.mark.parametrize("question, message", [
    ("", "empty"),
    ("q" * 20_000, "limit is"),
    ("ما هي الدولة التي اقترحت فرق التحقيق المشتركة؟", "English or Spanish"),
])
def test_bad_questions_exit_1_without_traceback(built, question, message):
    result = run("ask", question, env=built)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr and not result.stdout


def test_missing_corpus_folder(tmp_path):
    result = run("ask", CANONICAL, env={"TIPQA_CORPUS_DIR": str(tmp_path / "nope"),
                                        "TIPQA_INDEX_DIR": str(tmp_path / "index")})
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "TIPQA_CORPUS_DIR" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_exit_2():
    result = CliRunner().invoke(cli, ["ask"])
    assert result.exit_code == 2


def test_add_bad_file_only_exits_1(built, tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    result = run("add", str(bad), env={**built, "TIPQA_CORPUS_DIR": built["TIPQA_CORPUS_DIR"]})
    assert result.returncode == 1 and "empty" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "corpus" / "empty.txt").exists()


def test_remove_unknown_report(built):
    result = run("remove", "nope", env=built)
    assert result.returncode == 1 and SEED_ID in result.stderr


def test_empty_corpus_says_how_to_add_a_report(tmp_path):
    (tmp_path / "corpus").mkdir()
    env = {"TIPQA_CORPUS_DIR": str(tmp_path / "corpus"), "TIPQA_INDEX_DIR": str(tmp_path / "index")}
    result = run("ask", CANONICAL, env=env)
    assert result.returncode == 1 and "No reports in" in result.stderr and "tipqa add" in result.stderr
    listing = run("reports", env=env)
    assert listing.returncode == 0 and "tipqa add" in listing.stderr and not listing.stdout
