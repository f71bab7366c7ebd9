"""A generation of the PostgreSQL store as loaded: passage ids in row order, the chunk table (records read from the
database on first use), BM25 from the passages' stored term counts (in memory, the file store's exact scoring),
and dense search: exact in memory up to EXACT_LIMIT passages, pgvector's HNSW index in the database above."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..errors import IndexCorrupt
from ..ingest.chunking import Chunk
from ..speakers.statements import Statement
from .base import ManifestFields, SentenceVectors
from .generation import StoredChunk
from .lexical import BM25, TermCounts

# Up to this many passages a generation keeps its vectors in memory and searches them exactly (numpy, the same
# scores as the file store's exact index); above it, queries go to the HNSW index. Measured (bench/db_scale.py,
# 100k synthetic passages): HNSW (m 16, ef_construction 64) recall@10 0.81 at ef_search 200, 0.97 at 1000; exact costs
# ~150 MB and a 7-15 s first load; hence exact up to 200k.
EXACT_LIMIT = 200_000
_LIVE = "gen_from <= %(g)s AND (gen_to IS NULL OR gen_to > %(g)s)"


def _gone(passage: int) -> IndexCorrupt:
    return IndexCorrupt(f"Passage {passage} is gone from the database (pruned by two later writes while this "
                        f"process still answered from an old generation); ask again.")


class _Records:
    """Where a StoredChunk reads its record: the passage row, by id (see generation.StoredChunk)."""

    def __init__(self, store, ids: np.ndarray):
        self.store, self.ids = store, ids

    def line(self, row: int) -> bytes:
        with self.store.reading() as conn:
            found = conn.execute("SELECT record::text FROM tipqa_passage WHERE id = %s", (int(self.ids[row]),)
                                 ).fetchone()
        if found is None:
            raise _gone(int(self.ids[row]))
        return found[0].encode("utf-8")


class DatabaseSentences(SentenceVectors):
    """Sentence vectors read per passage from its row (float16 bytes), only for the passages an answer reads; the
    last CACHED passages' are kept (the answer step asks once per candidate sentence, and the same passages come
    back question after question)."""

    CACHED = 512  # passages (~3 MB)

    def __init__(self, store, ids: np.ndarray, dim: int):
        super().__init__(np.zeros((0, dim), dtype=np.float16), np.zeros(len(ids), dtype=np.int64))
        self.store, self.ids, self.dim = store, ids, dim
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, passage: int) -> bool:
        with self._lock:
            return passage in self._cache

    def keep(self, passage: int, stored: bytes | None) -> np.ndarray:
        """Keep a passage's stored sentence vectors (None: not stored); returns them as float16[sentences, dim]."""
        rows = np.frombuffer(stored, dtype=np.float16).reshape(-1, self.dim) if stored is not None else None
        with self._lock:
            self._cache[passage] = rows
            while len(self._cache) > self.CACHED:
                self._cache.popitem(last=False)
        return rows

    def many(self, passages, counts) -> list[np.ndarray]:
        """rows() of each passage, those not cached read in one query (retrieval asks for ~100 candidates': one
        round trip before prefetch's, which then finds the hits' sentence vectors cached)."""
        wanted = [int(p) for p in passages if not self.cached(int(p))]
        if wanted:
            with self.store.reading() as conn:
                found = dict(conn.execute("SELECT id, sentences FROM tipqa_passage WHERE id = ANY(%s)",
                                          (self.ids[wanted].tolist(),)).fetchall())
            for row in wanted:  # a passage gone (pruned) is left to rows(), which reads it alone
                if int(self.ids[row]) in found:
                    self.keep(row, found[int(self.ids[row])])
        return super().many(passages, counts)

    def rows(self, passage: int, count: int) -> np.ndarray:
        with self._lock:
            hit = passage in self._cache
            rows = self._cache.get(passage)
            if hit:
                self._cache.move_to_end(passage)
        if not hit:
            with self.store.reading() as conn:
                found = conn.execute("SELECT sentences FROM tipqa_passage WHERE id = %s", (int(self.ids[passage]),)
                                     ).fetchone()
            rows = self.keep(passage, found[0] if found else None)
        if rows is None:
            return np.zeros((count, self.dim), dtype=np.float32)
        return rows[:count].astype(np.float32)


@dataclass
class DatabaseGeneration(ManifestFields):
    """One generation of a DatabaseStore (store.base.Generation)."""

    store: object
    number: int
    generation: str
    manifest: dict
    ids: np.ndarray  # int64 passage ids, in row order
    chunks: list[Chunk]
    lexical: BM25
    counts: TermCounts
    vectors: np.ndarray | None  # float32[passages, dim] when searched exactly in memory, else None
    statements: list[Statement] | None = None
    statement_ids: np.ndarray | None = None
    sentences: SentenceVectors | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def dim(self) -> int:
        return int(self.manifest["model"]["dim"])

    def _rows_of(self, ids: np.ndarray) -> np.ndarray:
        order = getattr(self, "_order", None)
        if order is None:
            order = self._order = np.argsort(self.ids, kind="stable")
        return order[np.searchsorted(self.ids, ids, sorter=order)]

    def dense_search(self, query: np.ndarray, depth: int,
                     allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if self.vectors is not None:
            return _exact(self.vectors, query, depth, allowed)
        params = {"g": self.number, "q": query, "k": int(depth)}
        if allowed is not None:  # one report's passages: few, so scanned exactly
            params["ids"] = self.ids[allowed].tolist()
            sql = ("WITH c AS MATERIALIZED (SELECT id, embedding FROM tipqa_passage WHERE id = ANY(%(ids)s)) "
                   "SELECT id, -(embedding <#> %(q)s) FROM c ORDER BY embedding <#> %(q)s, id LIMIT %(k)s")
        else:
            # ordered by what the schema's HNSW index serves (float16 in schema 2); scores from the float32 column
            sql = (f"SELECT id, -(embedding <#> %(q)s) FROM tipqa_passage WHERE {_LIVE} "
                   f"ORDER BY {self.store.nearest(self.dim)} LIMIT %(k)s")
        with self.store.reading() as conn:
            found = conn.execute(sql, params).fetchall()
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids = np.array([r[0] for r in found], dtype=np.int64)
        scores = np.array([r[1] for r in found], dtype=np.float32)
        order = np.argsort(-scores, kind="stable")  # relaxed_order iterative scans may return them a little out of order
        return self._rows_of(ids[order]), scores[order]

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if self.vectors is not None:
            return self.vectors[rows]
        ids = self.ids[rows].tolist()
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self.store.reading() as conn, conn.cursor(binary=True) as cursor:
            cursor.execute("SELECT id, vector_send(embedding) FROM tipqa_passage WHERE id = ANY(%s)", (ids,))
            found = {pid: np.frombuffer(sent, ">f4", self.dim, 4) for pid, sent in cursor}  # as _fetch_passages
        if any(i not in found for i in ids):
            raise _gone(next(i for i in ids if i not in found))
        return np.stack([found[i] for i in ids]).astype(np.float32)

    def all_vectors(self) -> np.ndarray:
        return self.vectors if self.vectors is not None else self.vectors_of(np.arange(len(self.ids)))

    def lexical_scores(self, text: str) -> np.ndarray:
        return self.lexical.scores(text)

    def lexical_coverage(self, text: str, rows: np.ndarray) -> np.ndarray:
        return self.lexical.coverage(text, rows)

    def prefetch(self, rows) -> None:
        """Read the records and sentence vectors of ROWS (the passages an answer is about to read) that are not
        at hand yet, in one query: an answer made ~19 round trips otherwise (one per record, one per candidate
        sentence), ~0.1 s of a loaded 2-core machine's time."""
        chunks = {int(r): self.chunks[int(r)] for r in rows}
        wanted = [r for r, c in chunks.items() if getattr(c, "record_pending", False) or not self.sentences.cached(r)]
        if not wanted:
            return
        with self.store.reading() as conn:
            found = conn.execute("SELECT id, record::text, sentences FROM tipqa_passage WHERE id = ANY(%s)",
                                 (self.ids[wanted].tolist(),)).fetchall()
        rows_of = dict(zip(self.ids[wanted].tolist(), wanted))
        for pid, record, stored in found:  # a passage gone (pruned) is left to the lazy reads, which say so
            row = rows_of[pid]
            if getattr(chunks[row], "record_pending", False):
                chunks[row].take_record(record)
            self.sentences.keep(row, stored)


def _exact(vectors: np.ndarray, query: np.ndarray, depth: int, allowed: np.ndarray | None):
    rows = allowed if allowed is not None else None
    scores = (vectors[rows] if rows is not None else vectors) @ query
    depth = min(depth, len(scores))
    if depth == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-scores, depth - 1)[:depth] if depth < len(scores) else np.arange(len(scores))
    top = top[np.lexsort((top, -scores[top]))]  # best first, ties by row (as faiss's flat index)
    return (rows[top] if rows is not None else top).astype(np.int64), scores[top].astype(np.float32)


def load_generation(store, conn, number: int, name: str, manifest: dict, passages: list[int],
                    statement_ids: list[int] | None, previous=None) -> DatabaseGeneration:
    """Read generation NUMBER inside the caller's snapshot; rows that PREVIOUS (an earlier DatabaseGeneration of
    this process) holds are taken from it, so following a small change reads only the changed rows."""
    ids = np.asarray(passages, dtype=np.int64)
    dim = int(manifest["model"]["dim"])
    exact_limit = store.exact_limit if store.exact_limit is not None else EXACT_LIMIT
    exact = len(ids) <= exact_limit
    have: dict[int, int] = {}
    if isinstance(previous, DatabaseGeneration) and (not exact or previous.vectors is not None):
        have = dict(zip(previous.ids.tolist(), range(len(previous.ids))))
    missing = [i for i in ids.tolist() if i not in have]
    fetched = _fetch_passages(conn, missing, exact)
    if len(fetched) != len(missing):
        raise IndexCorrupt(f"Generation {name} names passages the database does not hold. "
                           f"Run 'tipqa build --rebuild' to rebuild it from the corpus.")
    vocab = {term: i for i, term in conn.execute("SELECT id, term FROM tipqa_term").fetchall()}
    records = _Records(store, ids)
    chunks, columns, vectors = [], [], np.zeros((len(ids), dim), dtype=np.float32) if exact else None
    old_counts = previous.counts.matrix.tocsc() if have else None
    for row, pid in enumerate(ids.tolist()):
        if pid in have:
            old = have[pid]
            chunks.append(previous.chunks[old])
            a, b = old_counts.indptr[old], old_counts.indptr[old + 1]
            columns.append((old_counts.indices[a:b], old_counts.data[a:b]))
            if exact:
                vectors[row] = previous.vectors[old]
            continue
        chunk_id, report_id, content_hash, count, terms, embedding = fetched[pid]
        chunks.append(StoredChunk.stored(records, row, report_id, content_hash, count, chunk_id))
        nnz = int.from_bytes(terms[4:8], "big")  # sparsevec_send: dim, nnz, 0, indices[nnz], values[nnz]
        columns.append((np.frombuffer(terms, ">i4", nnz, 12), np.frombuffer(terms, ">f4", nnz, 12 + 4 * nnz)))
        if exact:
            vectors[row] = np.frombuffer(embedding, ">f4", dim, 4)  # vector_send: dim, 0, values[dim]
    counts = TermCounts(_csc(columns, len(vocab)))
    statements, kept_ids = _statements(conn, statement_ids, previous)
    sentences = DatabaseSentences(store, ids, dim)
    return DatabaseGeneration(store, number, name, manifest, ids, chunks, BM25.from_counts(vocab, counts), counts,
                              vectors, statements, kept_ids, sentences)


def _fetch_passages(conn, ids: list[int], with_vectors: bool) -> dict[int, tuple]:
    if not ids:
        return {}
    # pgvector's binary forms as bytes, decoded with numpy: SparseVector/Vector objects per row took ~0.5 ms each
    embedding = "vector_send(embedding)" if with_vectors else "NULL::bytea"
    with conn.cursor(binary=True) as cursor:
        cursor.execute(f"SELECT id, chunk_id, report_id, content_hash, sentence_count, sparsevec_send(terms), "
                       f"{embedding} FROM tipqa_passage WHERE id = ANY(%s)", (ids,))
        return {row[0]: row[1:] for row in cursor}


def _csc(columns: list[tuple[np.ndarray, np.ndarray]], terms: int) -> sparse.csc_matrix:
    lengths = np.fromiter((len(i) for i, _ in columns), dtype=np.int64, count=len(columns))
    indptr = np.zeros(len(columns) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate([i for i, _ in columns]).astype(np.int32) if columns else np.zeros(0, np.int32)
    data = np.concatenate([d for _, d in columns]).astype(np.float32) if columns else np.zeros(0, np.float32)
    return sparse.csc_matrix((data, indices, indptr), shape=(terms, len(columns)))


def _statements(conn, statement_ids: list[int] | None, previous) -> tuple[list[Statement] | None, np.ndarray | None]:
    if statement_ids is None:
        return None, None
    have = {}
    if isinstance(previous, DatabaseGeneration) and previous.statements is not None:
        have = dict(zip(previous.statement_ids.tolist(), previous.statements))
    missing = [i for i in statement_ids if i not in have]
    if missing:
        found = conn.execute("SELECT id, record::text FROM tipqa_statement WHERE id = ANY(%s)", (missing,)).fetchall()
        have.update({sid: Statement.from_record(json.loads(text)) for sid, text in found})
    if any(i not in have for i in statement_ids):
        raise IndexCorrupt("The live generation names statements the database does not hold. "
                           "Run 'tipqa build --rebuild' to rebuild it from the corpus.")
    return [have[i] for i in statement_ids], np.asarray(statement_ids, dtype=np.int64)
