"""DatabaseStore: the index in PostgreSQL with pgvector, for several web replicas and writers over one corpus.

Passages and statements are rows that are never changed once written: a generation is the ordered list of the
passage (and statement) ids it holds, plus its manifest. A write inserts the new rows, marks the rows it drops
with the generation that dropped them (gen_to), inserts the generation and points tipqa_live at it, all in one
transaction: readers see the old or the new corpus, and a killed writer leaves nothing (PostgreSQL rolls it back).
One writer at a time across machines: a session advisory lock. Rows no longer in the live generation or its
predecessor are deleted by the next write. The schema (pg_schema.py) is versioned in tipqa_schema: created by the
first write or `tipqa db init`, migrated by `tipqa db migrate`. The loaded generation is
pg_generation.DatabaseGeneration.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from typing import Iterator

import numpy as np

from ..errors import IndexCorrupt, IndexLocked, IndexNotFound
from ..ingest.chunking import Chunk
from ..speakers.statements import Statement
from ..version import __version__
from .generation import FORMAT_VERSION
from .lexical import TermCounts
from .pg_schema import (HNSW, MIGRATIONS, SCHEMA_VERSION, DatabaseError, hnsw_memory, refuse_other, upgrade,
                        version_of)

LOCK_KEY = 0x7469_7071_6100  # 'tipqa' as a number: the advisory lock every tipqa writer takes
BULK_ROWS = 10_000  # a first write of at least this many passages builds the HNSW index after inserting them
READERS_KEPT = 8  # reader connections kept open per process (answering threads of the web app)
# Candidates an HNSW search keeps (pgvector's maximum). bench/db_scale.py, 100k synthetic passages, m 16,
# ef_construction 64: recall@10 0.813 / 0.907 / 0.960 / 0.973 at 200 / 400 / 800 / 1000; ef_construction 200
# gained ~0.02-0.03 for half the build speed (0.840 / 0.923 at 200 / 400). Schema 2's halfvec graph: the same
# recall at 100k (0.980 at 1000, bench/db_halfvec.py), 0.807 at 1M (bench/db_scale.py).
EF_SEARCH = 1000


def _require_driver():
    try:
        import psycopg  # noqa: F401
        import pgvector.psycopg  # noqa: F401
    except ImportError:
        raise DatabaseError("TIPQA_DATABASE_URL needs the PostgreSQL driver: pip install 'tipqa[postgres]'.") from None


class DatabaseStore:
    """Generations in PostgreSQL (see the module docstring). Shared: other processes write it too."""

    shared = True  # readers follow the live generation that other processes write (Assistant polls)
    keeps_reused = True  # write() copies a reused passage's vectors inside the database: the caller passes zeros

    def __init__(self, url: str, exact_limit: int | None = None, schema: int = SCHEMA_VERSION):
        _require_driver()
        self.url = url
        self.exact_limit = exact_limit
        self.schema = schema  # the version it creates, reads and writes (an older one: tests and benchmarks)
        self._idle: list = []  # open reader connections (see reading)
        self._idle_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DatabaseStore({_redacted(self.url)})"

    def nearest(self, dim: int) -> str:
        """The ORDER BY expression (query vector %(q)s) that the schema's HNSW index serves."""
        return MIGRATIONS[self.schema - 1].nearest(dim)

    # ---- connections -----------------------------------------------------------------------------
    def connect(self, autocommit: bool = True):
        import psycopg
        from pgvector.psycopg import register_vector
        try:
            conn = psycopg.connect(self.url, autocommit=autocommit,
                                   application_name=f"tipqa {__version__} pid {os.getpid()} on {socket.gethostname()}")
        except psycopg.OperationalError as error:
            raise DatabaseError(f"Cannot connect to the database {_redacted(self.url)} ({str(error).strip()}). "
                                f"Check TIPQA_DATABASE_URL and that the server is running.") from None
        with contextlib.suppress(psycopg.errors.UndefinedObject, psycopg.ProgrammingError):
            register_vector(conn)
        return conn

    @contextlib.contextmanager
    def reading(self) -> Iterator:
        """An autocommit connection for the read side, from a few kept open for answering threads (a connection
        costs ~5 ms to open; a question makes a few queries). A connection the server dropped is not kept."""
        import psycopg
        with self._idle_lock:
            conn = self._idle.pop() if self._idle else None
        ready = True
        if conn is None or conn.closed:
            conn = self.connect()
            ready = _configure_reader(conn)
        try:
            yield conn
        except psycopg.OperationalError as error:
            conn.close()
            raise DatabaseError(f"Lost the database {_redacted(self.url)} ({str(error).strip()}); ask again, "
                                f"and check the server if it persists.") from None
        finally:
            if not conn.closed:
                with self._idle_lock:
                    keep = ready and len(self._idle) < READERS_KEPT
                    if keep:
                        self._idle.append(conn)
                if not keep:
                    conn.close()

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def init(self, dim: int = 384, say=lambda message: None) -> tuple[int, int]:
        """Create the schema, or migrate it to this tipqa's version (pg_schema.MIGRATIONS), in one transaction
        under the writer's lock (a build in progress is waited for); idempotent. say: told each step.
        Returns (version before, version after); 0 before: the database had no tipqa schema."""
        import psycopg
        with self.lock(), self.connect(autocommit=False) as conn:
            try:
                before, after = upgrade(conn, dim, self.schema, say=say)
                conn.commit()
            except psycopg.Error as error:
                conn.rollback()
                raise DatabaseError(
                    f"Could not bring the database's tipqa schema to version {self.schema} "
                    f"({type(error).__name__}: {str(error).strip()}); nothing was changed{_still(conn)}. The role "
                    f"tipqa connects as must own the tipqa_* tables (and, for a new database, be allowed CREATE "
                    f"EXTENSION vector): see README, 'What the server needs'.") from None
        return before, after

    migrate = init

    def _ensure_schema(self, conn, dim: int) -> None:
        """A write's schema: created in an empty database; any other version than this tipqa's is refused."""
        from pgvector.psycopg import register_vector
        upgrade(conn, dim, self.schema, create_only=True)
        conn.commit()
        register_vector(conn)

    def _has_schema(self, conn) -> bool:
        return conn.execute("SELECT to_regclass('tipqa_live') IS NOT NULL").fetchone()[0]

    # ---- reading ---------------------------------------------------------------------------------
    def _live(self, column: str):
        """A column of the live generation's row, or None before the first build."""
        with self.reading() as conn:
            if not self._has_schema(conn):
                return None
            row = conn.execute(f"SELECT g.{column} FROM tipqa_live l JOIN tipqa_generation g ON g.id = l.generation"
                               ).fetchone()
        return row[0] if row else None

    def current_name(self) -> str | None:
        return self._live("name")

    def exists(self) -> bool:
        return self.current_name() is not None

    def live_manifest(self) -> dict | None:
        return self._live("manifest")

    def load(self, previous=None):
        """The live generation. previous: a generation this process loaded before, whose rows it shares with
        the new one are taken from memory rather than read again (a replica following a small add)."""
        from .pg_generation import load_generation
        with self.reading() as conn:
            if not self._has_schema(conn):
                raise IndexNotFound(_redacted(self.url))
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")  # one snapshot for the whole load
            try:
                refuse_other(version_of(conn)[0], self.schema)
                row = conn.execute("SELECT g.id, g.name, g.manifest, g.passages, g.statements FROM tipqa_live l "
                                   "JOIN tipqa_generation g ON g.id = l.generation").fetchone()
                if row is None:
                    raise IndexNotFound(_redacted(self.url))
                return load_generation(self, conn, *row, previous=previous)
            finally:
                conn.execute("COMMIT")

    # ---- writing ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, wait_seconds: float = 600.0) -> Iterator[None]:
        """One writer at a time on this database, from any machine: a session advisory lock on its own
        connection (released by PostgreSQL if the writer dies)."""
        conn = self.connect()
        try:
            deadline, told = time.monotonic() + wait_seconds, False
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
                holder = conn.execute(
                    "SELECT a.application_name FROM pg_locks k JOIN pg_stat_activity a ON a.pid = k.pid "
                    "WHERE k.locktype = 'advisory' AND k.granted AND k.objid = %s", (LOCK_KEY & 0xFFFFFFFF,)
                ).fetchone()
                holder = holder[0] if holder else "another process"
                if time.monotonic() >= deadline:
                    raise IndexLocked(_redacted(self.url), holder)
                if not told:
                    print(f"tipqa: waiting for another build of the database ({holder}) ...", file=sys.stderr)
                    told = True
                time.sleep(0.2)
            yield
        finally:
            conn.close()  # ends the session, and with it the lock

    def write(self, chunks: list[Chunk], vectors: np.ndarray, manifest: dict,
              statements: list[Statement] | None = None, sentences: tuple[np.ndarray, np.ndarray] | None = None,
              reuse: tuple | None = None):
        """A new generation in one transaction (see the module docstring); call inside lock().

        vectors/sentences of passages reused from reuse[0] (origin >= 0) are not read: their rows are kept, or
        copied inside the database. Returns the generation as loaded."""
        from .pg_write import write_generation
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        dim = int(manifest["model"]["dim"])
        with self.connect(autocommit=False) as conn:
            self._ensure_schema(conn, dim)
            live = conn.execute("SELECT generation FROM tipqa_live FOR UPDATE").fetchone()
            number = conn.execute("SELECT nextval('tipqa_generation_seq')").fetchone()[0]
            name = f"gen-{number:06d}-{time.strftime('%Y%m%dT%H%M%S')}"
            manifest = {**manifest, "format": FORMAT_VERSION, "tipqa_version": __version__, "generation": name,
                        "previous": _name_of(conn, live[0]) if live else None, "store": "postgresql",
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        "counts": {"chunks": len(chunks), "reports": len(manifest["reports"])}}
            old, origin = self._reusable(reuse, live[0] if live else None, len(chunks))
            bulk = len(chunks) >= BULK_ROWS and conn.execute("SELECT NOT EXISTS (SELECT FROM tipqa_passage)").fetchone()[0]
            if bulk:  # a first build: the graph built once over all rows is several times faster than row by row
                conn.execute("DROP INDEX tipqa_passage_hnsw")
            ids, statement_ids = write_generation(conn, number, chunks, vectors, statements, sentences, old, origin)
            if bulk:
                hnsw_memory(conn)
                conn.execute(MIGRATIONS[self.schema - 1].hnsw(dim))
            conn.execute("INSERT INTO tipqa_generation (id, name, manifest, passages, statements) "
                         "VALUES (%s, %s, %s, %s, %s)",
                         (number, name, json.dumps(manifest, ensure_ascii=False), ids.tolist(),
                          statement_ids.tolist() if statement_ids is not None else None))
            conn.execute("INSERT INTO tipqa_live VALUES (true, %s) ON CONFLICT (one) DO UPDATE "
                         "SET generation = EXCLUDED.generation", (number,))
            _prune(conn, live[0] if live else None)
            conn.execute("NOTIFY tipqa_live")
            conn.commit()
        return self.load(previous=old)


    def _reusable(self, reuse: tuple | None, live: int | None, count: int) -> tuple:
        """(previous generation, origin) when the write reuses rows of the live generation; else (None, all -1).
        A write from an older generation than the live one would drop what another writer added since: refused."""
        if reuse is None:
            return None, np.full(count, -1, dtype=np.int64)
        from .pg_generation import DatabaseGeneration
        old, origin = reuse
        if not isinstance(old, DatabaseGeneration) or old.store.url != self.url:
            raise DatabaseError("A database write can only reuse a generation of the same database; "
                                "run 'tipqa build --rebuild'.")
        if old.number != live:
            raise DatabaseError(f"Another writer made a new generation while this one was built from "
                                f"{old.generation}; nothing was written. Run the command again.")
        return old, origin


def _configure_reader(conn) -> bool:
    """Each reader connection: pgvector's types (once the schema made them exist), and HNSW searches that keep scanning the graph until the
    generation filter leaves enough rows (iterative scans, pgvector >= 0.8; results re-sorted by the caller)."""
    import psycopg
    from pgvector.psycopg import register_vector
    try:
        register_vector(conn)
    except psycopg.ProgrammingError:  # no vector type yet: an empty database, read before its first write
        return False
    conn.execute(f"SET hnsw.ef_search = {EF_SEARCH}")
    with contextlib.suppress(psycopg.errors.UndefinedObject, psycopg.errors.InvalidParameterValue):
        conn.execute("SET hnsw.iterative_scan = relaxed_order")  # pgvector >= 0.8; 0.7 filters after the scan
    return True


def _still(conn) -> str:
    """', it is still at version N' when this connection may read the version, else nothing."""
    import psycopg
    try:
        found = version_of(conn)
    except psycopg.Error:
        conn.rollback()
        return ""
    return f", it is still at version {found[0] if found else 0}"


def _name_of(conn, generation: int) -> str | None:
    row = conn.execute("SELECT name FROM tipqa_generation WHERE id = %s", (generation,)).fetchone()
    return row[0] if row else None


def _prune(conn, previous: int | None) -> None:
    """Keep the new generation and its predecessor (a reader may still be loading it): drop older ones and the
    rows only they held."""
    if previous is None:
        return
    conn.execute("DELETE FROM tipqa_generation WHERE id < %s", (previous,))
    conn.execute("DELETE FROM tipqa_passage WHERE gen_to IS NOT NULL AND gen_to <= %s", (previous,))
    conn.execute("DELETE FROM tipqa_statement WHERE gen_to IS NOT NULL AND gen_to <= %s", (previous,))


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the database"
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def term_vocabulary(conn) -> dict[str, int]:
    """The database's BM25 vocabulary: term -> id (ids are dimensions of the passages' sparsevec term counts)."""
    return {term: i for i, term in conn.execute("SELECT id, term FROM tipqa_term ORDER BY id").fetchall()}


__all__ = ["DatabaseStore", "DatabaseError", "HNSW", "SCHEMA_VERSION", "TermCounts", "IndexCorrupt"]
