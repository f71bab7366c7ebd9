"""A generation on disk as loaded: the folder's file names, its passages (records read on first use) and the
search methods of store.base.Generation over faiss and BM25."""
from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import faiss
import numpy as np

from ..ingest.chunking import Chunk
from ..speakers.statements import Statement
from .ann import one_thread, search_params
from .base import ManifestFields, SentenceVectors
from .checks import CheckedFile
from .lexical import BM25

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
STATEMENTS = "statements.jsonl"  # who said what (attribution.py); absent in generations built before it
SENTENCES = "sentences.npy"  # float16[sentences, dim]: each passage sentence's vector, for the answer step
SENTENCE_START = "sentence_start.npy"  # int64[passages]: row of a passage's first sentence in SENTENCES
# Per chunk: its line's byte offset in CHUNKS, id, report, content hash and sentence count. With it a generation loads
# without parsing its chunk records (~60k at 1,000 reports: most of a `tipqa add`'s load); each record is read
# on first use. Absent in generations written before it: those parse every record at load.
CHUNK_TABLE = "chunk_table.npz"


@dataclass
class IndexData(ManifestFields):
    """One loaded, verified generation."""

    generation: str
    path: Path
    manifest: dict
    chunks: list[Chunk]
    vectors: faiss.Index
    lexical: BM25
    warnings: list[str] = field(default_factory=list)
    statements: list[Statement] | None = None  # None: built before attribution existed
    sentences: SentenceVectors | None = None  # None: built without them (torch encoder, older tipqa)
    chunk_offsets: np.ndarray | None = None  # byte offset of each chunk's line in chunks.jsonl, and the end
    block_sums: dict | None = None  # CRC-32 per block of the piecemeal files (store/checks.py), once known

    def all_vectors(self) -> np.ndarray:
        if self.vectors.ntotal == 0:
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return self.vectors.reconstruct_n(0, self.vectors.ntotal)

    def dense_search(self, query: np.ndarray, depth: int,
                     allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        params = search_params(self.vectors, faiss.IDSelectorBatch(allowed)) if allowed is not None else None
        with one_thread():
            scores, ids = self.vectors.search(query.reshape(1, -1).astype(np.float32), depth, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return self.vectors.reconstruct_batch(rows)  # an IVF index keeps a direct map for this (ann.py)

    def lexical_scores(self, text: str) -> np.ndarray:
        return self.lexical.scores(text)

    def lexical_coverage(self, text: str, rows: np.ndarray) -> np.ndarray:
        return self.lexical.coverage(text, rows)


class _Field:
    """A Chunk field of a StoredChunk: read from the chunk's line in chunks.jsonl on first use."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, chunk, owner=None):
        if chunk is None:
            return self
        chunk._read_record()
        return chunk.__dict__[self.name]


class _Spans(Sequence):
    """A stored chunk's sentence spans before its record is read: the count (from the chunk table) is known,
    so counting sentences over every passage of a generation does not parse every record."""

    __slots__ = ("_chunk",)

    def __init__(self, chunk: "StoredChunk"):
        self._chunk = chunk

    def __len__(self) -> int:
        return self._chunk.__dict__["_sentence_count"]

    def __getitem__(self, index):
        self._chunk._read_record()
        return self._chunk.__dict__["sentences"][index]

    def __eq__(self, other):
        self._chunk._read_record()
        return self._chunk.__dict__["sentences"] == other


class StoredChunk(Chunk):
    """A chunk of a loaded generation: chunk_id, report_id and content_hash at hand, the rest of its record (text,
    section, sentence spans ...) read from chunks.jsonl the first time one of them is used. It behaves as the
    Chunk the record describes (equal to it, to_record() the same, pickled as a plain Chunk)."""

    chunk_id, report_title, section, section_path = _Field(), _Field(), _Field(), _Field()
    text, content_hash, page, position = _Field(), _Field(), _Field(), _Field()

    @classmethod
    def stored(cls, lines: "_ChunkLines", row: int, report_id: str, content_hash: str, sentences: int,
               chunk_id: str | None = None) -> "StoredChunk":
        chunk = cls.__new__(cls)
        chunk.__dict__.update(report_id=report_id, content_hash=content_hash, _lines=lines, _row=row,
                              _sentence_count=sentences)
        if chunk_id is not None:
            chunk.__dict__["chunk_id"] = chunk_id
        return chunk

    @property
    def sentences(self):
        spans = self.__dict__.get("sentences")
        return spans if spans is not None else _Spans(self)

    @sentences.setter
    def sentences(self, value) -> None:
        self.__dict__["sentences"] = value

    def _read_record(self) -> None:
        lines = self.__dict__.get("_lines")
        if lines is not None:
            self.take_record(lines.line(self.__dict__["_row"]))

    @property
    def record_pending(self) -> bool:
        """Whether its record is still to be read."""
        return self.__dict__.get("_lines") is not None

    def take_record(self, line: bytes | str) -> None:
        """Fill the fields from its record, read by whoever read it (a store reading several at once)."""
        state = self.__dict__
        record = Chunk.from_record(json.loads(line))
        for name, value in record.__dict__.items():
            state.setdefault(name, value)  # a field set since loading keeps its new value
        state["_lines"] = None

    def __eq__(self, other):
        if not isinstance(other, Chunk):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in Chunk.__dataclass_fields__)

    __hash__ = None

    def __reduce__(self):
        return Chunk, tuple(getattr(self, name) for name in Chunk.__dataclass_fields__)


class _ChunkLines:
    """A generation's chunks.jsonl, kept open so records can be read on demand (also after a later build
    prunes the generation: the open file stays readable). Closed when the last chunk reading it is dropped."""

    def __init__(self, path: Path, offsets: np.ndarray, sums: np.ndarray | None = None):
        self.name, self.offsets = path.name, offsets
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)
        self.checked = CheckedFile(path, sums, fd=self.fd) if sums is not None else None
        size = os.fstat(self.fd).st_size
        if len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != size or (np.diff(offsets) <= 0).any():
            raise ValueError(f"the chunk table does not match {path.name}")

    def line(self, row: int) -> bytes:
        start, end = int(self.offsets[row]), int(self.offsets[row + 1])
        if self.checked is not None:
            return self.checked.read(start, end)  # each block checked against its CRC-32 first
        parts = []
        while start < end:
            part = os.pread(self.fd, end - start, start)
            if not part:
                raise OSError(f"{self.name} ended early")
            parts.append(part)
            start += len(part)
        return b"".join(parts)


def read_chunks(path: Path) -> tuple[list[Chunk], np.ndarray | None]:
    """The chunk records, and each line's byte offset (None for a file not written by _chunk_lines)."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    if any(not line.strip() for line in lines) or not data.endswith(b"\n"):  # readable, but not for byte copying
        return [Chunk.from_record(json.loads(line)) for line in lines if line.strip()], None
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum([len(line) + 1 for line in lines], out=offsets[1:])
    return [Chunk.from_record(json.loads(line)) for line in lines], offsets


def stored_chunks(folder: Path, sums: np.ndarray | None = None) -> tuple[list[Chunk], np.ndarray]:
    """The chunks of a generation with a chunk table, their records left unread (see StoredChunk)."""
    with np.load(folder / CHUNK_TABLE, allow_pickle=False) as table:
        offsets, reports, report = table["offsets"], table["reports"].tolist(), table["report"]
        hashes, sentences = table["content_hash"].tolist(), table["sentences"].tolist()
        ids = table["chunk_ids"].tobytes().decode("utf-8").split("\0") if "chunk_ids" in table.files \
            else [None] * len(hashes)  # tables of the first version: chunk_id read with the record
    if len(offsets) == 1:
        ids = []  # "".split("\0") is [""]
    if not (len(report) == len(hashes) == len(sentences) == len(ids) == len(offsets) - 1):
        raise ValueError("the chunk table's arrays differ in length")
    lines = _ChunkLines(folder / CHUNKS, offsets, sums)
    stored = StoredChunk.stored
    with _gc_paused():  # ~60k new objects, none in a cycle: collections meanwhile were a third of the time
        return [stored(lines, row, reports[r], h, n, i)
                for row, (r, h, n, i) in enumerate(zip(report.tolist(), hashes, sentences, ids))], offsets


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def chunk_table(chunks: list[Chunk], offsets: np.ndarray,
                 sentences: tuple[np.ndarray, np.ndarray] | None = None) -> bytes:
    """CHUNK_TABLE's bytes: what a load needs of each chunk without reading its record.

    sentences: the sentence vectors being written, whose first rows give each chunk's sentence count."""
    reports = list(dict.fromkeys(c.report_id for c in chunks))
    number = {report_id: i for i, report_id in enumerate(reports)}
    if sentences is not None:
        counts = np.diff(np.append(sentences[1], len(sentences[0]))).astype(np.int32)
    else:
        counts = np.fromiter((len(c.sentences) for c in chunks), dtype=np.int32, count=len(chunks))
    ids = "\0".join(c.chunk_id for c in chunks).encode("utf-8")  # no NUL in a file name, hence in an id
    buffer = io.BytesIO()
    np.savez(buffer, offsets=offsets, reports=np.array(reports, dtype=str),
             report=np.fromiter((number[c.report_id] for c in chunks), dtype=np.int32, count=len(chunks)),
             content_hash=np.array([c.content_hash for c in chunks], dtype=str), sentences=counts,
             chunk_ids=np.frombuffer(ids, dtype=np.uint8))
    return buffer.getvalue()
