"""IndexStore: index generations on disk, written completely then swapped in with one atomic rename."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from . import __version__
from .attribution import Statement
from .chunking import Chunk
from .errors import IndexCorrupt, IndexLocked, IndexNotFound, TipqaError
from .hashing import sha256_file
from .lexical import BM25

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
STATEMENTS = "statements.jsonl"  # who said what (attribution.py); absent in generations built before it


class IndexWriteError(TipqaError):
    pass


@dataclass
class IndexData:
    """One loaded, verified generation."""

    generation: str
    path: Path
    manifest: dict
    chunks: list[Chunk]
    vectors: faiss.Index
    lexical: BM25
    warnings: list[str] = field(default_factory=list)
    statements: list[Statement] | None = None  # None: built before attribution existed

    @property
    def reports(self) -> dict[str, dict]:
        return self.manifest["reports"]

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]

    def all_vectors(self) -> np.ndarray:
        if self.vectors.ntotal == 0:
            return np.zeros((0, self.vectors.d), dtype=np.float32)
        return self.vectors.reconstruct_n(0, self.vectors.ntotal)


class IndexStore:
    """index/<generation>/{vectors.faiss, lexical.npz, lexical_vocab.json, chunks.jsonl, manifest.json} + CURRENT."""

    def __init__(self, root: Path):
        self.root = Path(root)

    # ---- reading -------------------------------------------------------------------------------
    def current_name(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def exists(self) -> bool:
        return self.current_name() is not None

    def load(self) -> IndexData:
        """Load the live generation; if it fails verification, fall back to the one before it.

        Raises:
            IndexNotFound: no generation has been written yet.
            IndexCorrupt: the live generation (and any fallback) fails verification.
        """
        name = self.current_name()
        if name is None:
            raise IndexNotFound(self.root)
        try:
            return self.load_generation(name)
        except IndexCorrupt as error:
            previous = self._previous_of(name)
            if previous:
                with contextlib.suppress(IndexCorrupt):
                    data = self.load_generation(previous)
                    data.warnings.append(f"{error} Using the previous generation {previous} meanwhile.")
                    return data
            raise

    def live_manifest(self) -> dict | None:
        """The live generation's manifest alone (no payload read or verified), or None when there is none."""
        name = self.current_name()
        if name is None:
            return None
        try:
            return self._read_manifest(self.root / name)
        except IndexCorrupt:
            return None

    def load_generation(self, name: str) -> IndexData:
        folder = self.root / name
        manifest = self._read_manifest(folder)
        for file_name, expected in manifest["files"].items():
            self._verify_file(folder / file_name, expected)
        try:
            vectors = faiss.read_index(str(folder / VECTORS))
            lexical = BM25.load(folder)
            with (folder / CHUNKS).open(encoding="utf-8") as handle:
                chunks = [Chunk.from_record(json.loads(line)) for line in handle if line.strip()]
            statements = None
            if STATEMENTS in manifest["files"]:
                with (folder / STATEMENTS).open(encoding="utf-8") as handle:
                    statements = [Statement.from_record(json.loads(line)) for line in handle if line.strip()]
        except (RuntimeError, ValueError, KeyError, TypeError, OSError) as error:
            raise _corrupt(folder, f"cannot be read ({error})") from None
        counts = {vectors.ntotal, lexical.weights.shape[1], len(chunks)}
        if counts != {manifest["counts"]["chunks"]}:
            raise _corrupt(folder, f"has inconsistent counts (manifest {manifest['counts']['chunks']}, "
                                   f"vectors {vectors.ntotal}, chunks {len(chunks)})")
        return IndexData(name, folder, manifest, chunks, vectors, lexical, statements=statements)

    def _read_manifest(self, folder: Path) -> dict:
        if not folder.is_dir():
            raise _corrupt(folder, "is named in CURRENT but missing")
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            files, counts = manifest["files"], manifest["counts"]["chunks"]
            model = manifest["model"]["id"]
            if not (isinstance(files, dict) and isinstance(counts, int) and isinstance(model, str)):
                raise TypeError("wrong field types")
        except FileNotFoundError:
            raise _corrupt(folder, "has no manifest.json (the build did not finish)") from None
        except (ValueError, KeyError, TypeError) as error:
            raise _corrupt(folder, f"has an unreadable manifest.json ({error})") from None
        if manifest.get("format") != FORMAT_VERSION:
            raise _corrupt(folder, f"uses index format {manifest.get('format')}, this tipqa reads {FORMAT_VERSION}")
        return manifest

    def _verify_file(self, path: Path, expected: dict) -> None:
        if not path.is_file():
            raise _corrupt(path.parent, f"is missing {path.name}")
        if path.stat().st_size != expected.get("bytes") or sha256_file(path) != expected.get("sha256"):
            raise _corrupt(path.parent, f"has a damaged {path.name} (size or sha256 differs from the manifest)")

    def _previous_of(self, name: str) -> str | None:
        try:
            manifest = json.loads((self.root / name / MANIFEST).read_text(encoding="utf-8"))
            previous = manifest.get("previous")
        except (OSError, ValueError):
            previous = None
        if previous and (self.root / previous).is_dir():
            return previous
        complete = [g for g in self.generations() if g != name and (self.root / g / MANIFEST).is_file()]
        return complete[-1] if complete else None

    def generations(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name.startswith("gen-"))

    # ---- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, wait_seconds: float = 600.0) -> Iterator[None]:
        """One writer at a time: an flock on index/.lock, waited for up to wait_seconds."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / ".lock", "a+")
        try:
            deadline = time.monotonic() + wait_seconds
            told = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    if time.monotonic() >= deadline:
                        raise IndexLocked(self.root, holder) from None
                    if not told:
                        print(f"tipqa: waiting for another build of {self.root} ({holder}) ...", file=sys.stderr)
                        told = True
                    time.sleep(0.2)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def write(self, chunks: list[Chunk], vectors: np.ndarray, manifest: dict,
              statements: list[Statement] | None = None) -> IndexData:
        """Write a complete new generation (files fsynced, manifest last), then swap CURRENT atomically.

        Call inside lock(). On any failure the partial generation is removed and the old one stays live.
        """
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        previous = self.current_name()
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 1_000_000_000:09d}-{os.getpid()}"
        folder = self.root / name
        try:
            folder.mkdir(parents=True)
            files = self._write_payload(folder, chunks, vectors, statements)
            manifest = {**manifest, "format": FORMAT_VERSION, "tipqa_version": __version__, "generation": name,
                        "previous": previous, "faiss_version": faiss.__version__,
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        "counts": {"chunks": len(chunks), "reports": len(manifest["reports"])}, "files": files}
            self._write_file(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())
            _fsync_dir(folder)
            self._swap_current(name)
        except OSError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise IndexWriteError(
                f"Could not write the new index generation in {self.root} ({error.strerror or error}). "
                f"The previous index is still live. Free disk space or fix permissions, then run 'tipqa build' again."
            ) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self.prune(keep={name, previous})
        # The index as written (not built a second time: past the ANN threshold that means training IVF again).
        vectors_index = faiss.read_index(str(folder / VECTORS))
        return IndexData(name, folder, manifest, chunks, vectors_index, BM25.load(folder), statements=statements)

    def _write_payload(self, folder: Path, chunks: list[Chunk], vectors: np.ndarray,
                       statements: list[Statement] | None = None) -> dict:
        index = _flat_index(vectors)
        self._write_file(folder / VECTORS, faiss.serialize_index(index).tobytes())
        lines = "".join(json.dumps(c.to_record(), ensure_ascii=False) + "\n" for c in chunks)
        self._write_file(folder / CHUNKS, lines.encode("utf-8"))
        lexical_files = BM25.build([c.embedding_text() for c in chunks]).to_files()
        for file_name, data in lexical_files.items():
            self._write_file(folder / file_name, data)
        names = [VECTORS, CHUNKS, *lexical_files]
        if statements is not None:  # listed in the manifest, so checksummed and verified at load like the rest
            lines = "".join(json.dumps(s.to_record(), ensure_ascii=False) + "\n" for s in statements)
            self._write_file(folder / STATEMENTS, lines.encode("utf-8"))
            names.append(STATEMENTS)
        return {n: {"bytes": (folder / n).stat().st_size, "sha256": sha256_file(folder / n)} for n in names}

    def _write_file(self, path: Path, data: bytes) -> None:
        with path.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def _swap_current(self, name: str) -> None:
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        self._write_file(tmp, name.encode())
        os.replace(tmp, self.root / "CURRENT")  # atomic on POSIX: readers see the old name or the new
        _fsync_dir(self.root)

    def prune(self, keep: set[str | None]) -> None:
        """Drop generations other than the live one and its predecessor (and partial leftovers)."""
        for name in self.generations():
            if name not in keep:
                shutil.rmtree(self.root / name, ignore_errors=True)
        for tmp in self.root.glob("CURRENT.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _flat_index(vectors: np.ndarray) -> faiss.Index:
    from .ann import build_vector_index
    return build_vector_index(vectors)  # exact below ann.ANN_THRESHOLD passages, IVF above it


def _corrupt(folder: Path, what: str) -> IndexCorrupt:
    return IndexCorrupt(
        f"The index generation {folder} {what}. Run 'tipqa build --rebuild' to rebuild the index from the corpus."
    )


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync_file(path)
