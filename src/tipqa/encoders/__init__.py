"""Choose the encoders: a torch-free numpy pass for questions, ONNX Runtime int8 for index builds.

TIPQA_ENCODER=fast (default) uses them whenever the model is a BERT mean-pooling folder (the bundled
all-MiniLM-L6-v2 is); TIPQA_ENCODER=torch uses sentence-transformers for both, as before. Every path runs
the same weights, so the model id and weights hash in the manifest, and hence index compatibility, do not
depend on the choice.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..config import DEFAULT_MODEL, Settings
from .model import DEFAULT_WEIGHTS_SHA256, Embedder, SentenceTransformerEmbedder, resolve_model

ENCODERS = ("fast", "torch")
ENCODER_CACHE = "encoders"  # under index_dir: build output, made once per index folder


def _fast_folder(settings: Settings) -> tuple[str, Path] | None:
    """(model id, folder) when the fast encoders can run this model, else None."""
    from .numpy_bert import supports
    if settings.encoder != "fast":
        return None
    location = resolve_model(settings.model)
    folder = Path(location.path)
    return (location.model_id, folder) if folder.is_dir() and supports(folder) else None


def query_embedder(settings: Settings) -> Embedder:
    """Embedder for questions and answer sentences: numpy (no torch import) when the model allows it."""
    fast = _fast_folder(settings)
    if fast is None:
        return SentenceTransformerEmbedder(settings.model, settings.batch_size)
    from .numpy_bert import NumpyEmbedder
    model_id, folder = fast
    expected = DEFAULT_WEIGHTS_SHA256 if model_id == DEFAULT_MODEL else None
    return NumpyEmbedder(model_id, folder, settings.batch_size, expected_sha256=expected)


def index_embedder(settings: Settings, query: Embedder) -> Embedder:
    """Embedder for building the index: ONNX Runtime int8 when available, else sentence-transformers."""
    from .numpy_bert import NumpyEmbedder
    if not isinstance(query, NumpyEmbedder):
        return query  # torch already loaded (or a custom model): use it for documents too
    from . import onnx_bert as onnxencoder
    if not onnxencoder.available():
        print("tipqa: onnx/onnxruntime not installed; building with sentence-transformers "
              "(pip install onnx onnxruntime for ~2x faster builds)", file=sys.stderr)
        return SentenceTransformerEmbedder(settings.model, settings.batch_size)
    return onnxencoder.OnnxEmbedder(query.model_id, query.folder, Path(settings.index_dir) / ENCODER_CACHE,
                                    settings.batch_size, bert=query.bert)


def sentence_embedder(settings: Settings, query: Embedder, workers: int = 1) -> Embedder:
    """Encoder for the few answer sentences rescored on their own: the index folder's int8 ONNX graph when a
    build has prepared it (3 sentences in ~8 ms, against ~30 ms for the numpy pass), else the query embedder.
    Never exports a graph at question time; costs ~0.3 s of start-up (onnxruntime) on a cold `tipqa ask`.
    A long-lived process asks for one session per core (Assistant.warm_up): the 3 sentences then share them."""
    from ..errors import ModelError
    from .numpy_bert import NumpyEmbedder
    if not isinstance(query, NumpyEmbedder):
        return query
    from . import onnx_bert as onnxencoder
    if not onnxencoder.available():
        return query
    try:
        return onnxencoder.OnnxEmbedder(query.model_id, query.folder, Path(settings.index_dir) / ENCODER_CACHE,
                                        settings.batch_size, bert=query.bert, workers=workers, export=False)
    except ModelError:
        return query


def fast_query_embedder(query: Embedder) -> Embedder:
    """Questions for a long-lived process: onnxruntime fp32 over the numpy encoder's own tensors (~4x faster a
    question, the same vectors to cosine 0.99999), else QUERY itself. ~0.8 s to make: see OnnxQueryEmbedder."""
    from .numpy_bert import NumpyEmbedder
    if not isinstance(query, NumpyEmbedder):
        return query
    from . import onnx_bert as onnxencoder
    if not onnxencoder.available():
        return query
    return onnxencoder.OnnxQueryEmbedder(query.bert, query.model_id)
