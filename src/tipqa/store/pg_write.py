"""The rows of one new generation in PostgreSQL (DatabaseStore.write): passages kept, copied or inserted, BM25 term
counts as sparsevec, statements; run inside the writer's transaction."""
from __future__ import annotations

import numpy as np

from ..ingest.chunking import Chunk
from ..speakers.statements import Statement
from .lexical import _counts, tokenize

PASSAGE_COLUMNS = ("id", "chunk_id", "report_id", "content_hash", "sentence_count", "record", "embedding",
                   "sentences", "terms", "gen_from")
PASSAGE_TYPES = ["int8", "text", "text", "text", "int4", "jsonb", "vector", "bytea", "sparsevec", "int8"]
TERM_DIMENSIONS = 1_000_000_000  # sparsevec's largest: term ids are dimensions


def write_generation(conn, number: int, chunks: list[Chunk], vectors: np.ndarray,
                     statements: list[Statement] | None, sentences: tuple[np.ndarray, np.ndarray] | None,
                     old, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Insert generation NUMBER's new rows and retire the old ones it drops.

    old: the previous DatabaseGeneration of this store (or None); origin: each chunk's row in it, or -1.
    Returns (passage ids in chunk order, statement ids in order or None)."""
    ids = np.zeros(len(chunks), dtype=np.int64)
    kept = np.zeros(len(chunks), dtype=bool)
    if old is not None:
        old_chunks = old.chunks
        kept = np.fromiter((row >= 0 and old_chunks[row] is chunk for chunk, row in zip(chunks, origin.tolist())),
                           dtype=bool, count=len(chunks))
        ids[kept] = old.ids[origin[kept]]
    copied = np.flatnonzero(~kept & (origin >= 0))  # the same text elsewhere (moved, re-chunked): vectors copied
    fresh = np.flatnonzero(~kept & (origin < 0))
    todo = np.concatenate([copied, fresh])
    if len(todo):
        ids[todo] = [r[0] for r in conn.execute(
            "SELECT nextval('tipqa_passage_id_seq') FROM generate_series(1, %s)", (len(todo),)).fetchall()]
    if len(copied):
        _copy_passages(conn, number, [chunks[i] for i in copied], ids[copied], old.ids[origin[copied]])
    if len(fresh):
        _insert_passages(conn, number, chunks, fresh, ids, vectors, sentences)
    if old is not None:
        dropped = np.setdiff1d(old.ids, ids[kept])
        conn.execute("UPDATE tipqa_passage SET gen_to = %s WHERE id = ANY(%s)", (number, dropped.tolist()))
    statement_ids = _write_statements(conn, number, statements, old) if statements is not None else None
    return ids, statement_ids


def _copy_passages(conn, number: int, chunks: list[Chunk], ids: np.ndarray, sources: np.ndarray) -> None:
    """New passage rows whose vectors, sentence vectors and term counts are those of an old row with the same
    content hash: copied inside the database."""
    conn.execute(
        "INSERT INTO tipqa_passage (id, chunk_id, report_id, content_hash, sentence_count, record, embedding, "
        "sentences, terms, gen_from) SELECT u.id, u.chunk_id, u.report_id, u.content_hash, u.n, u.record::jsonb, "
        "p.embedding, p.sentences, p.terms, %s FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], "
        "%s::text[], %s::int[], %s::text[]) AS u(id, source, chunk_id, report_id, content_hash, n, record) "
        "JOIN tipqa_passage p ON p.id = u.source",
        (number, ids.tolist(), sources.tolist(), [c.chunk_id for c in chunks], [c.report_id for c in chunks],
         [c.content_hash for c in chunks], [len(c.sentences) for c in chunks],
         [_json(c.to_record()) for c in chunks]))


def _insert_passages(conn, number: int, chunks: list[Chunk], rows: np.ndarray, ids: np.ndarray,
                     vectors: np.ndarray, sentences: tuple[np.ndarray, np.ndarray] | None) -> None:
    """New passages, streamed by binary COPY (vectors, float16 sentence vectors as bytes, term counts)."""
    from pgvector import SparseVector
    vocab = {term: i for i, term in conn.execute("SELECT id, term FROM tipqa_term").fetchall()}
    known = len(vocab)
    counts = []
    for i in rows.tolist():
        tokens = _counts(tokenize(chunks[i].embedding_text()))
        counts.append({vocab.setdefault(term, len(vocab)): n for term, n in tokens.items()})
    if len(vocab) > known:
        new_terms = sorted(((i, t) for t, i in vocab.items() if i >= known))
        with conn.cursor().copy("COPY tipqa_term (id, term) FROM STDIN") as copy:
            for row in new_terms:
                copy.write_row(row)
    flat, first = sentences if sentences is not None else (None, None)
    with conn.cursor().copy(f"COPY tipqa_passage ({', '.join(PASSAGE_COLUMNS)}) FROM STDIN WITH (FORMAT BINARY)"
                            ) as copy:
        copy.set_types(PASSAGE_TYPES)
        for i, terms in zip(rows.tolist(), counts):
            chunk = chunks[i]
            n = len(chunk.sentences)
            spans = flat[first[i]:first[i] + n].astype(np.float16).tobytes() if flat is not None else None
            copy.write_row((int(ids[i]), chunk.chunk_id, chunk.report_id, chunk.content_hash, n, chunk.to_record(),
                            np.asarray(vectors[i], dtype=np.float32), spans,
                            SparseVector(terms, TERM_DIMENSIONS), number))


def _write_statements(conn, number: int, statements: list[Statement], old) -> np.ndarray:
    """Statement ids in order: those of the previous generation (the very objects it loaded) keep their rows."""
    known = {}
    if old is not None and old.statements is not None and old.statement_ids is not None:
        known = {id(s): sid for s, sid in zip(old.statements, old.statement_ids.tolist())}
    out = np.zeros(len(statements), dtype=np.int64)
    fresh = []
    for i, statement in enumerate(statements):
        sid = known.get(id(statement))
        if sid is None:
            fresh.append(i)
        else:
            out[i] = sid
    if fresh:
        out[fresh] = [r[0] for r in conn.execute(
            "SELECT nextval('tipqa_statement_id_seq') FROM generate_series(1, %s)", (len(fresh),)).fetchall()]
        with conn.cursor().copy("COPY tipqa_statement (id, record, gen_from) FROM STDIN") as copy:
            for i in fresh:
                copy.write_row((int(out[i]), _json(statements[i].to_record()), number))
    if old is not None and old.statement_ids is not None:
        dropped = np.setdiff1d(old.statement_ids, out)
        conn.execute("UPDATE tipqa_statement SET gen_to = %s WHERE id = ANY(%s)", (number, dropped.tolist()))
    return out


def _json(record: dict) -> str:
    import json
    return json.dumps(record, ensure_ascii=False)
