"""Integrity of a generation's files without hashing gigabytes at every start.

Files a load reads whole (the vectors, BM25, the chunk table, statements, sentence starts) are hashed at every
load, in a thread beside the parsing. The two files read piecemeal (chunks.jsonl: one record when a passage is
first used; sentences.npy: the rows of retrieved passages) carry a CRC-32 per 64 KiB block (blocks.npz), checked on
every read of a block: a damaged byte is caught when, and before, it is used. The manifest carries its own sha256.
"""
from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import IndexCorrupt

BLOCKS = "blocks.npz"  # per piecemeal file: uint32 CRC-32 of each BLOCK bytes
BLOCK = 1 << 16
PIECEMEAL = ("chunks.jsonl", "sentences.npy")
_SEAL = re.compile(rb',"manifest_sha256":"([0-9a-f]{64})"\}\s*$')


class BlockSums:
    """CRC-32 of each BLOCK bytes of a stream, fed in parts of any size."""

    def __init__(self) -> None:
        self.sums: list[int] = []
        self.crc, self.fill = 0, 0

    def update(self, data) -> None:
        view = memoryview(data).cast("B")
        pos = 0
        while pos < len(view):
            take = min(BLOCK - self.fill, len(view) - pos)
            self.crc = zlib.crc32(view[pos:pos + take], self.crc)
            self.fill += take
            pos += take
            if self.fill == BLOCK:
                self.sums.append(self.crc)
                self.crc, self.fill = 0, 0

    def result(self) -> np.ndarray:
        if self.fill:
            self.sums.append(self.crc)
            self.crc, self.fill = 0, 0
        return np.array(self.sums, dtype=np.uint32)


def blocks_bytes(sums: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{name.replace(".", "_"): array for name, array in sums.items()})
    return buffer.getvalue()


def read_blocks(folder: Path) -> dict[str, np.ndarray]:
    """The block sums of a generation (after blocks.npz itself was verified), by file name."""
    with np.load(folder / BLOCKS, allow_pickle=False) as table:
        return {name: table[name.replace(".", "_")] for name in PIECEMEAL if name.replace(".", "_") in table.files}


class CheckedFile:
    """Reads byte ranges of a file, each block they touch checked against its CRC-32 first."""

    def __init__(self, path: Path, sums: np.ndarray, fd: int | None = None):
        self.path, self.sums = path, sums
        self.fd = fd if fd is not None else os.open(path, os.O_RDONLY)
        self._own = fd is None

    def close(self) -> None:
        if self._own:
            os.close(self.fd)

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file, verified; raises IndexCorrupt when a block differs."""
        first, last = start // BLOCK, max(start, end - 1) // BLOCK
        data = bytearray()
        for block in range(first, last + 1):
            part = _pread_all(self.fd, BLOCK, block * BLOCK)
            if block >= len(self.sums) or zlib.crc32(part) != int(self.sums[block]):
                raise damaged(self.path, f"block {block} of {self.path.name} fails its checksum")
            data += part
        offset = first * BLOCK
        return bytes(data[start - offset:end - offset])

    def check(self, start: int, end: int) -> None:
        if end > start:
            self.read(start, end)


def _pread_all(fd: int, size: int, offset: int) -> bytes:
    parts, want = [], size
    while want > 0:
        part = os.pread(fd, want, offset)
        if not part:
            break
        parts.append(part)
        offset += len(part)
        want -= len(part)
    return b"".join(parts)


def seal_manifest(data: bytes) -> bytes:
    """The manifest's JSON with its own sha256 as the last field."""
    digest = hashlib.sha256(data).hexdigest()
    return data[:-1] + b',"manifest_sha256":"' + digest.encode() + b'"}'


def unseal_manifest(raw: bytes) -> tuple[bytes, bool]:
    """(the JSON as it was sealed, whether a seal was found); raises ValueError when the seal does not match."""
    match = _SEAL.search(raw)
    if match is None:
        return raw, False
    body = raw[:match.start()] + b"}"
    if hashlib.sha256(body).hexdigest().encode() != match.group(1):
        raise ValueError("its sha256 differs from the one it records")
    return body, True


@functools.lru_cache(maxsize=1)
def hasher_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(2, thread_name_prefix="tipqa-verify")


def verified_bytes(old, name: str) -> bytes:
    """A piecemeal file of a loaded generation, whole, every block checked (a write copies from it)."""
    sums = getattr(old, "block_sums", None) or (read_blocks(old.path) if BLOCKS in old.manifest["files"] else {})
    if name not in sums:
        return (old.path / name).read_bytes()
    checked = CheckedFile(old.path / name, sums[name])
    try:
        return checked.read(0, (old.path / name).stat().st_size)
    finally:
        checked.close()


def damaged(folder_or_file: Path, what: str) -> IndexCorrupt:
    folder = folder_or_file if folder_or_file.is_dir() else folder_or_file.parent
    return IndexCorrupt(f"The index generation {folder} is damaged ({what}). Run 'tipqa build --rebuild' to "
                        f"rebuild the index from the corpus.")
