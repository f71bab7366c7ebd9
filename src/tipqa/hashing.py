"""Streaming sha256 of files (report sources, index files, model weights): never a whole file in memory."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path, digest=None) -> str:
    """Hex sha256 of the file's bytes; with digest, the file is appended to it (for combined hashes)."""
    digest = digest or hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
