"""What a store offers (the interface every store implements) and the records shared by all stores.

A Store holds generations of the index: it writes one (Store.write), names the live one, and loads it
(Store.load -> Generation). A Generation is one consistent corpus: its passages, their vectors (searched by
Generation.dense_search), BM25 scores (Generation.lexical_scores), sentence vectors and statements. The read side
(answering/, assistant.py) uses only this interface; the write side (indexer.py) also hands the previous generation
back to Store.write so that a store can copy what did not change. files.py keeps generations in folders on one
disk; postgres.py in a PostgreSQL database that several processes and machines share (Store.shared).
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from ..ingest.chunking import Chunk
from ..speakers.statements import Statement


@dataclass
class SentenceVectors:
    """Vectors of every passage's sentences (chunk.sentences order), memory-mapped: only the rows of the
    passages an answer reads are paged in. A zero row means 'not available' (cut off by the model's length
    limit, or reused from a generation built without them); the answer step encodes those on the fly."""

    vectors: np.ndarray  # float16[total sentences, dim]
    start: np.ndarray  # int64[passages]
    check: Callable[[int, int], None] | None = None  # raises IndexCorrupt when rows [a, b) are damaged on disk

    def rows(self, passage: int, count: int) -> np.ndarray:
        """float32[count, dim]: the sentence vectors of passage (a row of the generation). The only method the read
        side uses: a store may hold them elsewhere (pg_generation.DatabaseSentences reads them per passage)."""
        first = int(self.start[passage])
        if self.check is not None:
            self.check(first, first + count)
        return np.asarray(self.vectors[first:first + count], dtype=np.float32)

    def many(self, passages: Sequence[int], counts: Sequence[int]) -> list[np.ndarray]:
        """rows() of each passage (retrieval's fused candidates); a store may read them at once."""
        return [self.rows(int(p), int(c)) for p, c in zip(passages, counts)]

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of ROWS (checked first, as rows() does)."""
        if self.check is not None and len(rows):
            self.check(int(rows.min()), int(rows.max()) + 1)
        return np.asarray(self.vectors[rows])


class ManifestFields:
    """What every store's generation reads off its manifest (mixed into each implementation)."""

    manifest: dict

    @property
    def reports(self) -> dict[str, dict]:
        return self.manifest["reports"]

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]


class Generation(Protocol):
    """One loaded, verified generation of the index: what answering reads."""

    generation: str  # its name, unique within the store
    manifest: dict  # what built it: model, chunking, per-report metadata (DESIGN.md, "The index on disk")
    chunks: Sequence[Chunk]  # the passages, in row order
    statements: list[Statement] | None  # who said what; None: built before attribution existed
    sentences: SentenceVectors | None  # each passage's sentence vectors; None: not stored
    warnings: list[str]  # what the user should know about how it was loaded (a fallback, say)

    @property
    def reports(self) -> dict[str, dict]: ...

    @property
    def model_id(self) -> str: ...

    def dense_search(self, query: np.ndarray, depth: int,
                     allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine scores) of the depth passages nearest the query, best first, among allowed rows if given."""

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        """float32[len(rows), dim]: the stored vectors of the passages ROWS (retrieval scores candidates with them,
        retrieval.cosines), read at once."""

    def all_vectors(self) -> np.ndarray:
        """float32[passages, dim]: every passage vector, in row order."""

    def lexical_scores(self, text: str) -> np.ndarray:
        """float32[passages]: the BM25 score of every passage for the text."""

    def lexical_coverage(self, text: str, rows: np.ndarray) -> np.ndarray:
        """float64[len(rows)]: the share of the text's IDF each passage of ROWS holds (lexical.BM25.coverage)."""


class Store(Protocol):
    """Where generations live: written whole, swapped in at once, one writer at a time."""

    # Other processes (other machines) write it too: the read side follows its live generation (Assistant
    # polls current_name), and add/remove change the live generation rather than mirror one corpus folder.
    shared: bool
    # write() keeps or copies the vectors of passages reused from the previous generation itself: the write side
    # passes zeros for them (and need not read them: at 1M passages that is gigabytes from the database).
    keeps_reused: bool

    def current_name(self) -> str | None:
        """The live generation's name, or None before the first build."""

    def load(self, previous: Generation | None = None) -> Generation:
        """The live generation, verified (raises IndexNotFound, IndexCorrupt). previous: one this process loaded
        before; a store may take the rows the two share from it rather than read them again."""

    def live_manifest(self) -> dict | None:
        """The live generation's manifest alone, without loading it."""

    def lock(self, wait_seconds: float = 600.0) -> AbstractContextManager[None]:
        """Held by a writer for a whole build (raises IndexLocked when another keeps it past wait_seconds)."""

    def write(self, chunks: list[Chunk], vectors: np.ndarray, manifest: dict, statements: list[Statement],
              sentences: tuple[np.ndarray, np.ndarray] | None = None,
              reuse: tuple[Generation, np.ndarray] | None = None) -> Generation:
        """Write a new generation and make it live (readers see the old one or the new one, never a mix).

        reuse: (the previous generation of this store, each chunk's row in it or -1) so unchanged rows are copied.
        """
