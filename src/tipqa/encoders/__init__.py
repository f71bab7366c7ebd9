"""The encoders: text in, L2-normalised float32 vectors out. Chosen here, made once, shared by both sides.

Encoders holds one set per Assistant: questions (a torch-free numpy pass; onnxruntime fp32 after warm_up), index
builds (ONNX Runtime int8, onnx_bert.py) and answer sentences (the int8 graph). model.py says where the weights
come from; numpy_bert.py, onnx_bert.py and sbert.py (sentence-transformers, the reference) run them.

TIPQA_ENCODER=fast (default) uses them whenever the model is a BERT mean-pooling folder (both bundled models,
multilingual-e5-small and all-MiniLM-L6-v2, are); TIPQA_ENCODER=torch uses sentence-transformers for both. Every path runs
the same weights, so the model id and weights hash in the manifest, and hence index compatibility, do not
depend on the choice.
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import E5_MODEL, MULTILINGUAL_MODELS, Settings, cpu_cores
from .model import Embedder, expected_sha256, resolve_model
from .sbert import SentenceTransformerEmbedder

ENCODERS = ("fast", "torch")
ENCODER_CACHE = "encoders"  # under index_dir: build output, made once per index folder


# (a, b): the answer step reads a * cosine + b for a question-sentence pair, so that e5's cosines (crowded in
# ~0.7-0.9) sit on the scale its weights and abstention threshold were set on (all-MiniLM-L6-v2's: mean and
# spread matched on dev questions' candidate sentences, `python bench/qa_retrieval.py --calibrate`).
# 732 pairs: e5 mean 0.802 sd 0.040, MiniLM mean 0.353 sd 0.195, correlation 0.84.
COSINE_CALIBRATION: dict[str, tuple[float, float]] = {E5_MODEL: (4.875, -3.555)}


def calibrated(vectors: np.ndarray, calibration: tuple[float, float], question: bool) -> np.ndarray:
    """Vectors whose dot products are a * cosine + b (one added coordinate: sqrt|b|, signed on the question
    side). Only for the answer step, which takes nothing but dot products of them."""
    a, b = calibration
    extra = np.full((len(vectors), 1), np.sqrt(abs(b)) * (np.sign(b) if question else 1.0), dtype=np.float32)
    return np.hstack([np.sqrt(a) * np.asarray(vectors, dtype=np.float32), extra])


def embed_as_questions(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """TEXTS encoded as the model encodes questions (e5: "query: " before each): the symmetric view of a
    question and a sentence, which the answer step reads beside the asymmetric question/passage one."""
    batch = getattr(embedder, "embed_queries", None)
    if batch is not None:
        return np.asarray(batch(texts), dtype=np.float32)
    return np.stack([embedder.embed_query(t) for t in texts]).astype(np.float32) if texts else \
        np.zeros((0, embedder.dim), dtype=np.float32)


def graph_cache(settings: Settings, folder: Path) -> Path:
    """Where a model's int8 ONNX graph is kept: beside a checkpoint tipqa derived itself (e5: once per
    installation, as e5's export and quantisation take ~10 s), else in the index folder (once per index folder)."""
    from .e5 import cache_root
    if Path(folder).resolve().is_relative_to(cache_root().resolve()):
        return Path(folder) / "graphs"
    return Path(settings.index_dir) / ENCODER_CACHE


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
    return NumpyEmbedder(model_id, folder, settings.batch_size, expected_sha256=expected_sha256(model_id))


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
    return onnxencoder.OnnxEmbedder(query.model_id, query.folder, graph_cache(settings, query.folder),
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
        return onnxencoder.OnnxEmbedder(query.model_id, query.folder, graph_cache(settings, query.folder),
                                        settings.batch_size, bert=query.bert, workers=workers, export=False)
    except ModelError:
        return query


def fast_query_embedder(query: Embedder, settings: Settings | None = None) -> Embedder:
    """Questions for a long-lived process: onnxruntime fp32 over the numpy encoder's weights (~4x faster a
    question, the same vectors to cosine 0.99999), else QUERY itself. Opened from the fp32 graph a build kept
    (~0.2 s), else written in memory (~1 s): see OnnxQueryEmbedder."""
    from .numpy_bert import NumpyEmbedder
    if not isinstance(query, NumpyEmbedder):
        return query
    from . import onnx_bert as onnxencoder
    if not onnxencoder.available():
        return query
    graph = None
    if settings is not None:
        graph = onnxencoder.graph_path(graph_cache(settings, query.folder), query.weights_hash, int8=False)
    return onnxencoder.OnnxQueryEmbedder(query.bert, query.model_id, graph=graph)


class Encoders:
    """The encoders of one Assistant, each made when first needed (a one-question `tipqa ask` makes only the
    question encoder). A given embedder (tests, custom models) serves every role."""

    def __init__(self, settings: Settings, given: Embedder | None = None):
        self.settings = settings
        self._query = given
        self._index: Embedder | None = given  # a given embedder serves builds too
        self._sentence: Embedder | None = given
        self._question: Embedder | None = given  # set by warm_up(); else questions use .query
        self._lock = threading.Lock()
        self._preparing: threading.Thread | None = None  # prepare_index's thread

    @property
    def query(self) -> Embedder:
        """The model's reference encoder here: the numpy pass (no torch import) for the bundled model."""
        with self._lock:
            if self._query is None:
                self._query = query_embedder(self.settings)
            return self._query

    @property
    def index(self) -> Embedder:
        """The encoder for building the index (ONNX Runtime int8 by default): same weights, faster in bulk."""
        return self._derived("_index", index_embedder)

    @property
    def sentence(self) -> Embedder:
        """The encoder of answer sentences that are not stored in the index (see sentence_embedder)."""
        return self._derived("_sentence", sentence_embedder)

    @property
    def question(self) -> Embedder:
        """The encoder of questions: after warm_up(), onnxruntime fp32; before, the numpy pass (same vectors)."""
        return self._question or self.query

    def prepare_index(self) -> None:
        """Make the build encoder in a background thread (its sessions and, for offsets, `tokenizers`' tokenizer:
        ~1.5 s for e5, mostly without the GIL) while the caller parses reports; `index` then waits for it."""
        if self._index is not None or self.settings.encoder != "fast":
            return

        def make() -> None:
            try:
                getattr(self.index, "prepare", lambda: None)()
            except Exception:  # noqa: BLE001  a head start only: the build makes it again and reports the error
                with self._lock:
                    self._index = None

        self._preparing = threading.Thread(target=make, name="tipqa-prepare-encoder", daemon=True)
        self._preparing.start()

    def release_index(self) -> None:
        """A build is over: the build encoder frees what only builds use (e5: `tokenizers`' tokenizer, ~290 MB)."""
        preparing, self._preparing = self._preparing, None
        if preparing is not None:
            preparing.join()  # else it could load the tokenizer again after this
        getattr(self._index, "release", lambda: None)()

    def warm_up(self, progress: Callable[[float, str], None]) -> None:
        """Ready the faster encoders a long-lived process pays for once (~1 s): questions on onnxruntime fp32
        (~2.6 ms against ~11 ms for numpy) and the rescored answer sentences on one int8 session per core.

        A given embedder is kept as is. Safe to call more than once: it also picks up an int8 graph that a build
        in this process has prepared since the first question.
        """
        query = self.query
        if self._question is query:  # given at construction, or nothing faster: nothing to replace
            return
        try:
            question = self._question or fast_query_embedder(query, self.settings)
            sentences = sentence_embedder(self.settings, query, workers=cpu_cores())
        except Exception as error:  # noqa: BLE001  a speed-up only: answering goes on with what it has
            progress(0.0, f"warning: faster encoders unavailable ({type(error).__name__}: {error}); "
                          f"questions keep the numpy encoder.")
            question, sentences = query, self._sentence
        with self._lock:
            self._question, self._sentence = question, sentences

    @property
    def cosine_calibration(self) -> tuple[float, float] | None:
        """The model's COSINE_CALIBRATION, or None (cosines used as they are)."""
        return COSINE_CALIBRATION.get(self.expected_model_id())

    @property
    def multilingual(self) -> bool:
        """True when the model reads Spanish and English alike (questions need no English rendering)."""
        return self.expected_model_id() in MULTILINGUAL_MODELS

    def expected_model_id(self) -> str:
        """The model id an index must have been built with, without loading the model when it is not loaded."""
        return self._query.model_id if self._query is not None else resolve_model(self.settings.model).model_id

    def index_kind(self) -> str | None:
        """What embedded a generation's new passages (None: nothing new was embedded)."""
        if self._index is None:
            return None
        return getattr(self._index, "kind", "sentence-transformers")

    def _derived(self, attribute: str, make: Callable[[Settings, Embedder], Embedder]) -> Embedder:
        """An encoder made once from the settings and the query encoder (whose weights and tokenizer it shares)."""
        query = self.query
        with self._lock:
            if getattr(self, attribute) is None:
                setattr(self, attribute, make(self.settings, query))
            return getattr(self, attribute)
