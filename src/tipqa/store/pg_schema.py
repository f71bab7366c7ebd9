"""The PostgreSQL store's schema, as an ordered list of migrations: MIGRATIONS[n - 1] takes a database from
version n - 1 to n (version 0: empty), so a new version is one more entry. A database is created by running them
all; an older one is brought up to date by `tipqa db migrate` (DatabaseStore.migrate), in one transaction under
the writer's lock. tipqa reads and writes only a database at SCHEMA_VERSION and says what to do with any other.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from ..errors import TipqaError

HNSW = {"m": 16, "ef_construction": 64}
SCHEMA_LOCK = 0x7469_7071_6101  # taken (per transaction) by whoever creates or migrates the schema
# Memory an HNSW build may use per passage: pgvector builds the graph in maintenance_work_mem and, once it no
# longer fits, goes on several times slower on disk. 384 dimensions, m 16 (bench/db_scale.py): 1M halfvec rows
# fitted in 2 KB each; float32 rows (schema 1) did not (at 100k, 2 KB each held 90,289 of them).
HNSW_BYTES_PER_ROW = 2560


class DatabaseError(TipqaError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int  # the version a database is at once this step is applied
    summary: str  # what it changes, shown by `tipqa db migrate`
    steps: Callable[[int], list[str]]  # the vector dimension -> the SQL statements, run in order
    nearest: Callable[[int], str]  # the ORDER BY expression the version's HNSW index serves (query %(q)s)
    hnsw: Callable[[int], str]  # the statement creating that HNSW index (also after a bulk first write)


def _v1(dim: int) -> list[str]:
    """Version 1: the statements of tipqa's first PostgreSQL store, unchanged, plus its version row (tests and
    bench/db_scale.py make genuine version 1 databases with them)."""
    return [
        "CREATE EXTENSION IF NOT EXISTS vector",
        "CREATE TABLE IF NOT EXISTS tipqa_schema (version int NOT NULL, dim int NOT NULL)",
        "CREATE SEQUENCE IF NOT EXISTS tipqa_generation_seq",
        """CREATE TABLE IF NOT EXISTS tipqa_generation (
             id bigint PRIMARY KEY, name text UNIQUE NOT NULL, manifest jsonb NOT NULL,
             passages bigint[] NOT NULL, statements bigint[], created timestamptz NOT NULL DEFAULT now())""",
        """CREATE TABLE IF NOT EXISTS tipqa_live (
             one boolean PRIMARY KEY DEFAULT true CHECK (one), generation bigint NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS tipqa_passage (
             id bigserial PRIMARY KEY, chunk_id text NOT NULL, report_id text NOT NULL, content_hash text NOT NULL,
             sentence_count int NOT NULL, record jsonb NOT NULL, embedding vector({dim}) NOT NULL,
             sentences bytea, terms sparsevec NOT NULL, gen_from bigint NOT NULL, gen_to bigint)""",
        _hnsw_v1(dim),
        "CREATE INDEX IF NOT EXISTS tipqa_passage_gen_to ON tipqa_passage (gen_to) WHERE gen_to IS NOT NULL",
        """CREATE TABLE IF NOT EXISTS tipqa_term (id int PRIMARY KEY, term text UNIQUE NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS tipqa_statement (
             id bigserial PRIMARY KEY, record jsonb NOT NULL, gen_from bigint NOT NULL, gen_to bigint)""",
        f"INSERT INTO tipqa_schema SELECT 0, {int(dim)} WHERE NOT EXISTS (SELECT FROM tipqa_schema)",
    ]


def _hnsw_v1(dim: int, name: str = "tipqa_passage_hnsw") -> str:
    return (f"CREATE INDEX IF NOT EXISTS {name} ON tipqa_passage USING hnsw (embedding vector_ip_ops) "
            f"WITH (m = {HNSW['m']}, ef_construction = {HNSW['ef_construction']})")


def _hnsw_v2(dim: int, name: str = "tipqa_passage_hnsw") -> str:
    return (f"CREATE INDEX IF NOT EXISTS {name} ON tipqa_passage USING hnsw ((embedding::halfvec({int(dim)})) "
            f"halfvec_ip_ops) WITH (m = {HNSW['m']}, ef_construction = {HNSW['ef_construction']})")


def _v2(dim: int) -> list[str]:
    """The HNSW graph over the vectors rounded to float16 (the float32 column stays: exact search and every score
    are the index folder's). The new index is built before the old one is dropped, so readers keep searching
    the old one meanwhile (CREATE INDEX blocks writes only; DROP INDEX holds its lock from then to the commit)."""
    return [_hnsw_v2(dim, "tipqa_passage_hnsw_v2"), "DROP INDEX tipqa_passage_hnsw",
            "ALTER INDEX tipqa_passage_hnsw_v2 RENAME TO tipqa_passage_hnsw"]


MIGRATIONS = [
    Migration(1, "tables, HNSW index over float32 vectors", _v1, lambda dim: "embedding <#> %(q)s", _hnsw_v1),
    Migration(2, "HNSW index over the vectors as halfvec (half its size; measured in bench/db_scale.py)", _v2,
              lambda dim: f"embedding::halfvec({int(dim)}) <#> %(q)s::vector::halfvec({int(dim)})", _hnsw_v2),
]
SCHEMA_VERSION = MIGRATIONS[-1].version


def hnsw_memory(conn) -> None:
    """Let this transaction's HNSW build hold its graph in memory: maintenance_work_mem sized to the table's rows
    (at least the server's setting, at most 4 GB)."""
    rows = conn.execute("SELECT count(*) FROM tipqa_passage").fetchone()[0]
    current = conn.execute("SELECT setting::bigint * 1024 FROM pg_settings WHERE name = 'maintenance_work_mem'"
                           ).fetchone()[0]
    wanted = min(max(rows * HNSW_BYTES_PER_ROW, current), 4 << 30)
    conn.execute(f"SET LOCAL maintenance_work_mem = '{wanted >> 20}MB'")


def _exclusive(conn, statement: str, tries: int = 600) -> None:
    """Run a statement that needs an exclusive lock on a table readers use, in short attempts: queued behind a
    reader's long transaction (a replica loading a generation: ~46 s at 1M passages) it would hold every other
    reader's queries behind it meanwhile. Each attempt waits at most a second, then lets them through."""
    import psycopg
    for _ in range(tries):
        conn.execute("SAVEPOINT tipqa_exclusive")
        conn.execute("SET LOCAL lock_timeout = '1s'")
        try:
            conn.execute(statement)
        except psycopg.errors.LockNotAvailable:
            conn.execute("ROLLBACK TO SAVEPOINT tipqa_exclusive")
            time.sleep(0.2)
            continue
        conn.execute("RELEASE SAVEPOINT tipqa_exclusive")
        conn.execute("SET LOCAL lock_timeout = 0")
        return
    raise DatabaseError(f"Readers kept the database busy for {tries} attempts to run {statement!r}; "
                        f"run 'tipqa db migrate' again in a quieter moment (nothing was changed).")


def version_of(conn) -> tuple[int, int] | None:
    """(version, vector dimension) of the database's tipqa schema, None when it has none."""
    if not conn.execute("SELECT to_regclass('tipqa_schema') IS NOT NULL").fetchone()[0]:
        return None
    return conn.execute("SELECT version, dim FROM tipqa_schema").fetchone()


def refuse_other(found: int, wanted: int = SCHEMA_VERSION) -> None:
    """Raise the error that says what to do about a database at another schema version than this tipqa's."""
    if found > wanted:
        raise DatabaseError(f"The database holds tipqa schema {found}; this tipqa knows up to {wanted}. "
                            f"Upgrade tipqa on this machine (pip install -U tipqa) to use it.")
    if found < wanted:
        raise DatabaseError(f"The database holds tipqa schema {found}; this tipqa needs {wanted}. Run "
                            f"'tipqa db migrate' once, from this machine (one transaction; answering goes on "
                            f"meanwhile).")


def upgrade(conn, dim: int, target: int = SCHEMA_VERSION, create_only: bool = False,
            say: Callable[[str], None] = lambda message: None) -> tuple[int, int]:
    """Bring the schema to TARGET inside the caller's transaction (the caller commits). create_only: only an empty
    database is given a schema; an existing one at another version raises the error that names the fix.

    Returns (version before, version after); (0, target) for a database that had none."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))  # two first writers create it once
    row = version_of(conn)
    found = 0 if row is None else row[0]
    if row is not None and row[1] != dim:
        raise DatabaseError(f"The database holds {row[1]}-dimensional vectors and the model makes {dim}. "
                            f"Use a model of {row[1]} dimensions or another database.")
    if found > target or (create_only and found not in (0, target)):
        refuse_other(found, target)
    if found and found < target:
        hnsw_memory(conn)
    for migration in MIGRATIONS[found:target]:
        say(f"schema {migration.version - 1} -> {migration.version}: {migration.summary}")
        for statement in migration.steps(dim):
            if statement.startswith("DROP"):
                _exclusive(conn, statement)
            else:
                conn.execute(statement)
        conn.execute("UPDATE tipqa_schema SET version = %s", (migration.version,))
    return found, max(found, target)
