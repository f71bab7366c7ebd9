"""IndexStore: index generations on disk, written completely then swapped in with one atomic rename."""
from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import io
import json
import os
import re
import shutil
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import faiss
import numpy as np

from ..durable import fsync_path
from ..errors import IndexCorrupt, IndexLocked, IndexNotFound, TipqaError
from ..hashing import sha256_file
from ..ingest.chunking import Chunk
from ..speakers.statements import Statement
from ..version import __version__
from .base import SentenceVectors
from .checks import (
    BLOCKS,
    PIECEMEAL,
    BlockSums,
    CheckedFile,
    blocks_bytes,
    hasher_pool,
    read_blocks,
    seal_manifest,
    unseal_manifest,
    verified_bytes,
)
from .generation import (
    CHUNK_TABLE,
    CHUNKS,
    FORMAT_VERSION,
    MANIFEST,
    SENTENCE_START,
    SENTENCES,
    STATEMENTS,
    VECTORS,
    IndexData,
    chunk_table,
    read_chunks,
    stored_chunks,
)
from .lexical import BM25, TOKENIZER, TermCounts, vocabulary


class IndexWriteError(TipqaError):
    pass


class IndexStore:
    """index/<generation>/{vectors.faiss, lexical.npz, lexical_vocab.json, chunks.jsonl, manifest.json} + CURRENT."""

    shared = False  # one machine: add/remove mirror the corpus folder
    keeps_reused = False  # write() is given every vector, reused ones too

    def __init__(self, root: Path):
        self.root = Path(root)
        self.damaged: dict[str, str] = {}  # generations found damaged while in use: loaded no more

    def mark_damaged(self, name: str, why: str) -> None:
        """A generation that failed a check after it was loaded (a block read on demand): load() skips it."""
        self.damaged[name] = why

    # ---- reading -------------------------------------------------------------------------------
    def current_name(self) -> str | None:
        """The generation CURRENT names; None when there is none, or when CURRENT is damaged (not a generation's
        name): load() then falls back to the newest complete generation, and a build writes a new CURRENT."""
        try:
            raw = (self.root / "CURRENT").read_bytes().strip()
        except (FileNotFoundError, IsADirectoryError):
            return None
        name = raw.decode("ascii", "replace")
        return name if _GENERATION.fullmatch(name) and (self.root / name).is_dir() else None

    def _current_damaged(self) -> bool:
        return (self.root / "CURRENT").exists() and self.current_name() is None

    def exists(self) -> bool:
        return self.current_name() is not None

    def load(self, previous: IndexData | None = None) -> IndexData:
        """Load the live generation; if it fails verification, fall back to the one before it (previous: unused).

        Raises:
            IndexNotFound: no generation has been written yet.
            IndexCorrupt: the live generation (and any fallback) fails verification.
        """
        name = self.current_name()
        if name is None and self._current_damaged():
            complete = [g for g in self.generations() if (self.root / g / MANIFEST).is_file()]
            for candidate in reversed(complete):
                with contextlib.suppress(IndexCorrupt):
                    data = self.load_generation(candidate)
                    data.warnings.append(f"{self.root / 'CURRENT'} is damaged; using the newest complete generation "
                                         f"{candidate}. Run 'tipqa build' to write a new one.")
                    return data
            raise _corrupt(self.root, "has a damaged CURRENT and no readable generation")
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
        if name in self.damaged:
            raise IndexCorrupt(self.damaged[name])
        manifest = self._read_manifest(folder)
        files = manifest["files"]
        for file_name, expected in files.items():
            self._verify_size(folder / file_name, expected)
        blocked = BLOCKS in files  # piecemeal files checked block by block as they are read
        hashed = {f: hasher_pool().submit(sha256_file, folder / f) for f in files
                  if not (blocked and f in PIECEMEAL) and f != TermCounts.FILE}  # counts: checked when used
        try:
            sums = read_blocks(folder) if blocked and self._hash_ok(folder, BLOCKS, files, hashed) else {}
            sentences = None
            if SENTENCES in files:
                sentences = self._sentence_vectors(folder, sums.get(SENTENCES))
            vectors = faiss.read_index(str(folder / VECTORS))
            lexical = BM25.load(folder)
            if CHUNK_TABLE in files:
                self._hash_ok(folder, CHUNK_TABLE, files, hashed)
                chunks, chunk_offsets = stored_chunks(folder, sums.get(CHUNKS))
            else:  # written before the chunk table: every record parsed now
                chunks, chunk_offsets = read_chunks(folder / CHUNKS)
            statements = None
            if STATEMENTS in files:
                self._hash_ok(folder, STATEMENTS, files, hashed)
                with (folder / STATEMENTS).open(encoding="utf-8") as handle:
                    statements = [Statement.from_record(json.loads(line)) for line in handle if line.strip()]
            for file_name in hashed:
                self._hash_ok(folder, file_name, files, hashed)
        except (RuntimeError, ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile, EOFError) as error:
            for file_name in hashed:  # a damaged file is the likelier cause: say which
                self._hash_ok(folder, file_name, files, hashed)
            raise _corrupt(folder, f"cannot be read ({error})") from None
        counts = {vectors.ntotal, lexical.weights.shape[1], len(chunks)}
        if sentences is not None:
            counts.add(len(sentences.start))
        if counts != {manifest["counts"]["chunks"]}:
            raise _corrupt(folder, f"has inconsistent counts (manifest {manifest['counts']['chunks']}, "
                                   f"vectors {vectors.ntotal}, chunks {len(chunks)})")
        return IndexData(name, folder, manifest, chunks, vectors, lexical, statements=statements, sentences=sentences,
                         chunk_offsets=chunk_offsets, block_sums=sums or None)

    def _read_manifest(self, folder: Path) -> dict:
        if not folder.is_dir():
            raise _corrupt(folder, "is named in CURRENT but missing")
        try:
            body, sealed = unseal_manifest((folder / MANIFEST).read_bytes())
            manifest = json.loads(body.decode("utf-8"))
            if not isinstance(manifest, dict):
                raise TypeError("not an object")
            if not sealed and BLOCKS in manifest.get("files", {}):
                raise ValueError("its checksum is missing")
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

    @staticmethod
    def _verify_size(path: Path, expected: dict) -> None:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise _corrupt(path.parent, f"is missing {path.name}") from None
        if size != expected.get("bytes"):
            raise _corrupt(path.parent, f"has a damaged {path.name} (its size differs from the manifest)")

    @staticmethod
    def _hash_ok(folder: Path, name: str, files: dict, hashed: dict) -> bool:
        """Wait for NAME's sha256 (computed in a thread since the load began) and compare it with the manifest."""
        if hashed[name].result() != files[name].get("sha256"):
            raise _corrupt(folder, f"has a damaged {name} (its sha256 differs from the manifest)")
        return True

    @staticmethod
    def _sentence_vectors(folder: Path, sums: np.ndarray | None) -> SentenceVectors:
        """The memory-mapped sentence vectors; with block sums, each read of rows checks their blocks first."""
        vectors = np.load(folder / SENTENCES, mmap_mode="r", allow_pickle=False)
        start = np.load(folder / SENTENCE_START, allow_pickle=False)
        if sums is None:
            return SentenceVectors(vectors, start)
        checked = CheckedFile(folder / SENTENCES, sums)
        row = vectors.shape[1] * vectors.dtype.itemsize if vectors.ndim == 2 else 0
        header = vectors.offset
        checked.check(0, header)  # the header gave the shape and dtype: check it too
        verify = lambda a, b: checked.check(header + a * row, header + b * row)  # noqa: E731
        return SentenceVectors(vectors, start, check=verify)

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
              statements: list[Statement] | None = None,
              sentences: tuple[np.ndarray, np.ndarray] | None = None,
              reuse: tuple[IndexData, np.ndarray] | None = None) -> IndexData:
        """Write a complete new generation (files fsynced, manifest last), then swap CURRENT atomically.

        Call inside lock(). On any failure the partial generation is removed and the old one stays live.

        Args:
            sentences: (float16 vectors of every passage's sentences, int64 row of each passage's first).
            reuse: (the previous generation, its row for each chunk or -1): its term counts and IVF
                centroids are reused so a small change does not re-tokenize or re-train on the whole corpus.
        """
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        previous = self.current_name()
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 1_000_000_000:09d}-{os.getpid()}"
        folder = self.root / name
        try:
            folder.mkdir(parents=True)
            files, offsets, vectors_index, lexical = self._write_payload(folder, chunks, vectors, statements,
                                                                         sentences, reuse)
            manifest = {**manifest, "format": FORMAT_VERSION, "tipqa_version": __version__, "generation": name,
                        "previous": previous, "faiss_version": faiss.__version__,
                        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        "counts": {"chunks": len(chunks), "reports": len(manifest["reports"])}, "files": files}
            # Not indented: json's C encoder does not indent, and at 1,000 reports the Python one took ~0.1 s.
            self._write_file(folder / MANIFEST, seal_manifest(json.dumps(manifest, ensure_ascii=False).encode()))
            fsync_path(folder)
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
        # The vector and BM25 indexes as built for writing: reading them back would cost as much again.
        stored = self._sentence_vectors(folder, self._block_sums.get(SENTENCES)) if sentences is not None else None
        data = IndexData(name, folder, manifest, chunks, vectors_index, lexical, statements=statements,
                         sentences=stored, chunk_offsets=offsets)
        data.block_sums = self._block_sums
        return data

    def _write_payload(self, folder: Path, chunks: list[Chunk], vectors: np.ndarray,
                       statements: list[Statement] | None = None,
                       sentences: tuple[np.ndarray, np.ndarray] | None = None,
                       reuse: tuple[IndexData, np.ndarray] | None = None) -> tuple[dict, np.ndarray, faiss.Index, BM25]:
        """Every payload file, written and fsynced.

        Returns:
            (manifest 'files' entries, chunks.jsonl line offsets, the vector index, the BM25 index).
        """
        files = {}
        previous, origin = (reuse[0].vectors, reuse[1]) if reuse is not None else (None, None)
        vectors_index = _vector_index(vectors, previous, origin)
        files[VECTORS] = self._write_file(folder / VECTORS, _streamed(vectors_index))
        lines, offsets = _chunk_lines(chunks, reuse)
        sums = {CHUNKS: BlockSums()}
        files[CHUNKS] = self._write_file(folder / CHUNKS, lines, sums[CHUNKS])
        del lines
        files[CHUNK_TABLE] = self._write_file(folder / CHUNK_TABLE, chunk_table(chunks, offsets, sentences))
        vocab, kept_counts = _counts_to_reuse(reuse)
        fresh = np.flatnonzero(kept_counts[1] < 0) if kept_counts is not None else range(len(chunks))
        texts = [""] * len(chunks)  # only new passages are tokenized: the others keep their counts
        for i in fresh:
            texts[i] = chunks[i].embedding_text()
        vocab, counts = TermCounts.build(texts, vocab, kept_counts)
        lexical = BM25.from_counts(vocab, counts)
        for file_name, data in lexical.to_files().items():
            files[file_name] = self._write_file(folder / file_name, data)
        files[TermCounts.FILE] = self._write_file(folder / TermCounts.FILE, counts.to_bytes())
        if statements is not None:  # listed in the manifest, so checksummed and verified at load like the rest
            files[STATEMENTS] = self._write_file(folder / STATEMENTS,
                                                 _statement_lines(statements, reuse[0] if reuse else None))
        if sentences is not None:
            flat, start = sentences
            if len(start) != len(chunks):
                raise ValueError(f"{len(chunks)} chunks but sentence vectors for {len(start)}")
            sums[SENTENCES] = BlockSums()
            for file_name, array in ((SENTENCES, flat), (SENTENCE_START, start)):
                files[file_name] = self._write_file(folder / file_name, _npy_parts(array), sums.get(file_name))
        block_sums = {name: sums[name].result() for name in sums}
        files[BLOCKS] = self._write_file(folder / BLOCKS, blocks_bytes(block_sums))
        self._block_sums = block_sums
        return files, offsets, vectors_index, lexical

    def _write_file(self, path: Path, data, blocks: BlockSums | None = None) -> dict:
        """Write and fsync; the manifest entry: size, sha256 (of the bytes written) and mtime (see _verify_file).

        data: bytes-like; a tuple of bytes-like parts, written one after the other; or a function that is given
        write(part) and writes the file through it. The sha256 is computed in a second thread while the bytes
        are written and synced (hashlib and file I/O both release the GIL)."""
        digest, hashing = hashlib.sha256(), []
        with path.open("wb") as handle:
            def write(part) -> int:
                handle.write(part)
                hashing.append(_hasher().submit(digest.update, part))  # one worker: parts hashed in order
                if blocks is not None:
                    hashing.append(_hasher().submit(blocks.update, part))
                return len(part)

            try:
                if callable(data):
                    data(write)
                else:
                    for part in data if isinstance(data, tuple) else (data,):
                        write(part)
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                for done in hashing:
                    done.result()
        stat = path.stat()
        return {"bytes": stat.st_size, "sha256": digest.hexdigest(), "mtime_ns": stat.st_mtime_ns}

    def _swap_current(self, name: str) -> None:
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        self._write_file(tmp, name.encode())
        os.replace(tmp, self.root / "CURRENT")  # atomic on POSIX: readers see the old name or the new
        fsync_path(self.root)

    def prune(self, keep: set[str | None]) -> None:
        """Drop generations other than the live one and its predecessor (and partial leftovers)."""
        for name in self.generations():
            if name not in keep:
                shutil.rmtree(self.root / name, ignore_errors=True)
        for tmp in self.root.glob("CURRENT.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()


@functools.lru_cache(maxsize=1)
def _hasher() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, thread_name_prefix="tipqa-sha256")


def _streamed(index: faiss.Index):
    """The vector index as a _write_file writer: faiss writes it through write(part) as it goes (serialize_index()
    would copy the ~100 MB at 1,000 reports twice first). An OSError in write() comes out of faiss as it was."""
    return lambda write: faiss.write_index(index, faiss.PyCallbackIOWriter(write, 1 << 22))


def _npy_parts(array: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The .npy file of array (what np.save writes) as (header, the array's own bytes): no copy of the data."""
    array = np.ascontiguousarray(array)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    return header.getvalue(), array.reshape(-1).view(np.uint8)


def _vector_index(vectors: np.ndarray, previous: faiss.Index | None, origin: np.ndarray | None) -> faiss.Index:
    from .ann import build_vector_index
    return build_vector_index(vectors, previous=previous, origin=origin)  # exact up to ANN_THRESHOLD, IVF above


def _chunk_lines(chunks: list[Chunk], reuse: tuple[IndexData, np.ndarray] | None) -> tuple[tuple, np.ndarray]:
    """chunks.jsonl (as pieces to write one after the other) and the byte offset of each line: the lines of chunks
    kept from the previous generation are copied as bytes, a run of consecutive ones as one slice (serialising
    60k records again was the largest cost of adding one report to 1,000)."""
    old, origin = reuse if reuse is not None else (None, None)
    old_lines = old.chunk_offsets if old is not None else None
    rows = np.full(len(chunks), -1, dtype=np.int64)
    if old_lines is not None:
        old_chunks = old.chunks  # a kept record is the very object read from the previous generation
        same = np.fromiter((row >= 0 and old_chunks[row] is chunk for chunk, row in zip(chunks, origin.tolist())),
                           dtype=bool, count=len(chunks))
        rows[same] = origin[same]
    kept = rows >= 0
    lengths = np.zeros(len(chunks), dtype=np.int64)
    lengths[kept] = old_lines[rows[kept] + 1] - old_lines[rows[kept]] if kept.any() else 0
    follows = np.zeros(len(chunks), dtype=bool)  # continues the run of kept lines before it
    follows[1:] = kept[1:] & kept[:-1] & (rows[1:] == rows[:-1] + 1)
    starts = np.flatnonzero(~follows).tolist()
    source = memoryview(verified_bytes(old, CHUNKS)) if kept.any() else None
    pieces = []
    for a, b in zip(starts, starts[1:] + [len(chunks)]):
        if kept[a]:
            pieces.append(source[old_lines[rows[a]]:old_lines[rows[b - 1] + 1]])
            continue
        line = (json.dumps(chunks[a].to_record(), ensure_ascii=False) + "\n").encode("utf-8")
        lengths[a] = len(line)
        pieces.append(line)
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return tuple(pieces), offsets


def _statement_lines(statements: list[Statement], old: IndexData | None) -> bytes:
    """statements.jsonl: the lines of statements kept from the previous generation (the very objects read from
    it) are copied as bytes, the others serialised."""
    kept: dict[int, bytes] = {}
    if old is not None and old.statements and STATEMENTS in old.manifest["files"]:
        lines = (old.path / STATEMENTS).read_bytes().split(b"\n")
        if lines[-1] == b"" and len(lines) - 1 == len(old.statements):  # one line per statement, as written
            kept = {id(statement): line for statement, line in zip(old.statements, lines)}
    return b"".join(kept[id(s)] + b"\n" if id(s) in kept
                    else (json.dumps(s.to_record(), ensure_ascii=False) + "\n").encode("utf-8") for s in statements)


def _counts_to_reuse(reuse: tuple[IndexData, np.ndarray] | None) -> tuple:
    """(vocab, (old counts, origin)) for TermCounts.build, when the previous generation has counts of the
    current tokenizer; else (None, None): tokenize everything."""
    if reuse is None:
        return None, None
    old, origin = reuse
    if TermCounts.FILE not in old.manifest["files"] or not (origin >= 0).any() \
            or old.manifest.get("lexical", {}).get("tokenizer") != TOKENIZER:
        return None, None
    try:
        if sha256_file(old.path / TermCounts.FILE) != old.manifest["files"][TermCounts.FILE].get("sha256"):
            raise ValueError(f"{TermCounts.FILE} is damaged")
        return vocabulary(old.path), (TermCounts.load(old.path), origin)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        print(f"tipqa: re-tokenizing every passage (the previous term counts are unreadable: {error})",
              file=sys.stderr)
        return None, None


_GENERATION = re.compile(r"gen-[0-9A-Za-z_-]{1,100}")


def _corrupt(folder: Path, what: str) -> IndexCorrupt:
    return IndexCorrupt(
        f"The index generation {folder} {what}. Run 'tipqa build --rebuild' to rebuild the index from the corpus."
    )
