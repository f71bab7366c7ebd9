"""Index-build encoder, an ONNX graph written by hand: 0.91x the CPU of torch.onnx.export's, same int8 vectors.

(e5, 250 passages interleaved on one core, load 11: 13.3 ms a passage against 14.6 for transformers' BertModel
exported by torch.onnx.export and quantised by the same quantize_dynamic, 17.9 with onnxruntime's transformer
optimizer; cosine to fp32 0.9969 for all three; and preparing it imports no torch.) ~4x torch fp32 on CPU.
The graph is written here from the same safetensors tensors NumpyBert uses (no torch, no download), then
its weight matrices are quantised to int8 by onnxruntime's dynamic quantiser. The result is cached next to
the index generations, keyed by the weights' sha256 and GRAPH_VERSION, so it is made once per index folder
(a few seconds). Retrieval quality against the fp32 vectors is measured by bench/quality.py on SciFact and
the seed QA set.

How it runs fast on a small CPU (measured on the 2-core dev VM, passages of ~84 tokens; bench/cli.py):
- one passage per run, no padding, and one single-threaded session per core fed from worker threads
  (onnxruntime releases the GIL): ~140 passages/s, against ~90 for batches of 8 on one 2-thread session,
  whose per-operator thread wake-ups cost more than the small matrices they share out;
- residual + LayerNorm written as Add + LayerNormalization, with onnxruntime's SkipLayerNormFusion
  disabled: its fused CPU kernel took a quarter of the run time here, the plain op a twentieth (~1.5x
  overall, to ~220 passages/s).
The graph also outputs the contextual token vectors, so the same run gives each sentence of a passage a
vector (the mean of its tokens, as the passage vector is the mean of all): the answer step then scores
sentences without encoding them at question time.
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from ..config import cpu_cores
from ..errors import ModelError
from ..hashing import sha256_file
from .numpy_bert import NumpyBert, supports

OPSET = 17  # LayerNormalization is a single op from opset 17
MS = "com.microsoft"  # onnxruntime's contrib ops
GRAPH_VERSION = 4  # 3: word vectors in (the table stays out of the graph); 4: no attention mask, bias + Gelu.
# Part of the cached file's name.
SLOW_FUSIONS = ["SkipLayerNormFusion"]  # see the module docstring


def available() -> bool:
    """True when onnx (to write the graph) and onnxruntime (to run it) are both importable."""
    import importlib.util
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


class _Graph:
    """A tiny builder: adds initializers and nodes, names every intermediate tensor uniquely."""

    def __init__(self):
        from onnx import helper, numpy_helper
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.inits, self._n = [], [], 0

    def const(self, array: np.ndarray, name: str | None = None) -> str:
        name = name or f"c{len(self.inits)}"
        self.inits.append(self.numpy_helper.from_array(np.array(array, order="C"), name))  # a row-major copy
        return name

    def op(self, kind: str, *inputs: str, **attrs) -> str:
        self._n += 1
        out = f"t{self._n}_{kind}"
        self.nodes.append(self.helper.make_node(kind, list(inputs), [out], **attrs))
        return out


def build_graph(bert: NumpyBert):
    """An ONNX model computing exactly NumpyBert.forward from the token embedding rows: word_vectors (float32[b, n,
    d], NumpyBert.word_vectors), mask (int64[b, n], all ones: attention takes no mask, so a run is one unpadded
    text, as every caller feeds it) -> normalised float32[b, d]. The word table stays out of the graph: e5's is
    384 MB, which every session would otherwise hold."""
    from onnx import TensorProto, helper
    g, w, d = _Graph(), bert._w, bert.dim
    h = bert.heads
    width = g.op("Unsqueeze", g.op("Gather", g.op("Shape", "word_vectors"), g.const(np.int64(1))),
                 g.const(np.array([0])))
    positions = g.op("Slice", g.const(np.asarray(w["embeddings.position_embeddings.weight"])), g.const(np.array([0])),
                     width, g.const(np.array([0])))
    x = g.op("Add", "word_vectors", positions)
    x = g.op("Add", x, g.const(np.asarray(w["embeddings.token_type_embeddings.weight"][0])))
    x = _ln(g, x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], bert.eps)
    maskf = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    for layer in bert.layers:
        x = _block(g, x, layer, d, h, bert.eps)
    m = g.op("Unsqueeze", maskf, g.const(np.array([2])))
    summed = g.op("ReduceSum", g.op("Mul", x, m), g.const(np.array([1])), keepdims=0)
    count = g.op("Max", g.op("ReduceSum", m, g.const(np.array([1])), keepdims=0), g.const(np.float32(1e-9)))
    pooled = g.op("Div", summed, count)
    norm = g.op("Max", g.op("ReduceL2", pooled, axes=[1], keepdims=1), g.const(np.float32(1e-12)))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["sentence_embedding"]))
    g.nodes.append(helper.make_node("Identity", [x], ["token_embeddings"]))
    inputs = [helper.make_tensor_value_info("word_vectors", TensorProto.FLOAT, ["batch", "tokens", d]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])]
    outputs = [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", d]),
               helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT, ["batch", "tokens", d])]
    graph = helper.make_graph(g.nodes, "bert", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="tipqa")
    model.ir_version = 8
    return model


def _ln(g: _Graph, x: str, weight: np.ndarray, bias: np.ndarray, eps: float) -> str:
    return g.op("LayerNormalization", x, g.const(weight), g.const(bias), axis=-1, epsilon=eps)


def _block(g: _Graph, x: str, layer: dict, d: int, h: int, eps: float) -> str:
    # onnxruntime's fused CPU kernels (com.microsoft): one Attention op for QKV + softmax + context (int8
    # QAttention once quantised), without a mask: every run is one unpadded text (e5, 200 passages: 8 % less
    # CPU than with the all-ones mask and BiasGelu, same vectors); the bias then exact-erf Gelu (the quantised
    # MatMul takes the bias in). Residual + LayerNorm stay plain ops.
    attn = g.op("Attention", x, g.const(layer["qkv_w"]), g.const(layer["qkv_b"]), num_heads=h, domain=MS)
    x = _residual_ln(g, g.op("MatMul", attn, g.const(layer["out_w"])), layer["out_b"], x, layer["ln1"], eps)
    inner = g.op("Gelu", g.op("Add", g.op("MatMul", x, g.const(layer["in_w"])), g.const(layer["in_b"])), domain=MS)
    return _residual_ln(g, g.op("MatMul", inner, g.const(layer["ff_w"])), layer["ff_b"], x, layer["ln2"], eps)


def _residual_ln(g: _Graph, y: str, bias: np.ndarray, residual: str, ln: tuple, eps: float) -> str:
    return _ln(g, g.op("Add", g.op("Add", y, g.const(bias)), residual), ln[0], ln[1], eps)


@contextlib.contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def export(bert: NumpyBert, target: Path, int8: bool = True, keep_fp32: Path | None = None) -> Path:
    """Write the fp32 graph, then (int8) quantise its weight matrices; written to a temp name, renamed last.

    Args:
        keep_fp32: also keep the fp32 graph the int8 one is quantised from, there (with its checksum file): a
            long-lived process then opens its question encoder from it (OnnxQueryEmbedder) instead of writing
            the graph in memory again.
    """
    import onnx
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = target.with_name(f"{target.stem}.fp32.{os.getpid()}.tmp")
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        onnx.save(build_graph(bert), str(fp32))
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic
            # Weights only (MatMulConstBOnly): attention's activation x activation products stay fp32,
            # which keeps the vectors close to fp32 (checked in bench/quality.py).
            # Per-channel scales: per-tensor ones drop the cosine to fp32 vectors to ~0.93 on this model.
            with _quiet_root_logger():  # onnxruntime logs a 'consider pre-processing' advice on the root logger
                quantize_dynamic(str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True,
                                 op_types_to_quantize=["MatMul", "Attention"],  # not Gather: embeddings stay fp32
                                 extra_options={"MatMulConstBOnly": True,
                                                "DefaultTensorType": onnx.TensorProto.FLOAT})
            if keep_fp32 is not None:
                os.replace(fp32, keep_fp32)
                _write_checksum(keep_fp32)
        else:
            os.replace(fp32, partial)
        os.replace(partial, target)
    finally:
        for leftover in (fp32, partial):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return target


def _write_checksum(graph: Path) -> None:
    stat = graph.stat()
    graph.with_name(graph.name + ".sha256").write_text(f"{sha256_file(graph)} {stat.st_size} {stat.st_mtime_ns}\n")


def graph_path(cache_dir: Path, weights_hash: str, int8: bool) -> Path:
    """Where the graph of these weights is kept in cache_dir (int8 for builds, fp32 for warm questions)."""
    return Path(cache_dir) / f"bert-{weights_hash[:16]}-{'int8' if int8 else 'fp32'}-g{GRAPH_VERSION}.onnx"


class OnnxEmbedder:
    """embed_documents on ONNX Runtime (int8 weights by default); same model id and weights hash as the fp32 model.

    One single-threaded session per core (at most MAX_WORKERS), each fed one passage at a time by a worker
    thread: see the module docstring for why this beats batching on a small CPU.
    """

    MAX_WORKERS = 8

    def __init__(self, model_id: str, folder: Path, cache_dir: Path, batch_size: int = 32, int8: bool = True,
                 bert: NumpyBert | None = None, workers: int | None = None, export: bool = True):
        if not supports(folder):
            raise ModelError(f"{folder} is not a BERT mean-pooling model the ONNX encoder can run. "
                             f"Set TIPQA_ENCODER=torch to use sentence-transformers for it.")
        self._bert = bert or NumpyBert(folder)  # the tokenizer, and the tensors the graph is written from
        self.model_id, self.weights_hash, self.dim = model_id, self._bert.weights_hash, self._bert.dim
        self.batch_size, self.kind = batch_size, "onnx-int8" if int8 else "onnx-fp32"
        self.path = graph_path(cache_dir, self.weights_hash, int8)
        self.workers = max(1, min(workers or cpu_cores(), self.MAX_WORKERS))
        self._prepare(int8, export)
        self._sessions = _in_parallel([self._open] * self.workers)  # ~0.3 s each, mostly without the GIL
        self._pool = None

    def _prepare(self, int8: bool, export_if_missing: bool = True) -> None:
        checksum = self.path.with_name(self.path.name + ".sha256")
        if _intact(self.path, checksum):
            return  # made by us, and undamaged
        if not export_if_missing:
            raise ModelError(f"No prepared encoder at {self.path}; a build prepares it.")
        print(f"tipqa: preparing the {self.kind} encoder (once, kept in {self.path.parent}) ...", file=sys.stderr)
        try:
            export(self._bert, self.path, int8, keep_fp32=graph_path(self.path.parent, self.weights_hash, False))
            _write_checksum(self.path)
        except OSError as error:  # a small disk: the export writes ~90 MB of temporary files
            raise ModelError(f"Could not write the prepared encoder to {self.path.parent} ({error.strerror or error}); "
                             f"it needs ~200 MB there. Free disk space (or point TIPQA_INDEX_DIR at a larger disk), "
                             f"or set TIPQA_ENCODER=torch, then run the command again. The index is unchanged.") from None
        keep = tuple(graph_path(self.path.parent, self.weights_hash, tag).name for tag in (True, False))
        for pattern in ("minilm-*.onnx*", "bert-*-g*.onnx*"):  # older graph versions, other models' graphs
            for stale in self.path.parent.glob(pattern):
                if not stale.name.startswith(keep):
                    stale.unlink(missing_ok=True)

    def _open(self):
        from onnxruntime.capi import onnxruntime_pybind11_state as state
        try:
            return _session(str(self.path), threads=1)  # parallel across passages instead (worker threads)
        except (state.Fail, state.InvalidProtobuf, state.InvalidGraph, state.NoSuchFile) as error:
            self.path.with_name(self.path.name + ".sha256").unlink(missing_ok=True)  # rebuilt on the next run
            raise ModelError(f"Cannot load the cached encoder {self.path} ({error}); it will be rebuilt, "
                             f"run the command again.") from None

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Texts encoded as questions are (e5's "query: "), spread over the sessions as passages are."""
        return self.embed_passages(texts, prompt="query")[0]

    def embed_passages(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None = None,
                       prompt: str = "document") -> tuple[np.ndarray, list[np.ndarray] | None]:
        """Passage vectors, and (with spans) one vector per character span of each text.

        A span's vector is the normalised mean of the contextual token vectors that start inside it (the
        passage vector is the mean of all of them); a span cut off by the model's length limit gets zeros.
        prompt: which of the model's prompts goes before each text ("document" or "query").
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        parts: list[np.ndarray | None] | None = [None] * len(texts) if spans is not None else None
        if not texts:
            return out, parts
        order = np.argsort([-len(t) for t in texts], kind="stable")  # longest first: even shares at the end
        prompt = self._bert.prompts.get(prompt, "")  # e5's "passage: "; spans move right by its length

        def work(k: int) -> None:
            session = self._sessions[k]
            for i in order[k::self.workers]:
                encoding = self._bert.tokenizer.encode(prompt + texts[i]) if parts is not None else None
                ids = np.asarray([encoding.ids if encoding else self._bert.ids(prompt + texts[i])], dtype=np.int64)
                want = ["sentence_embedding"] if parts is None else None
                result = session.run(want, _feed(self._bert, ids))
                out[i] = result[0][0]
                if parts is not None:
                    shifted = [(a + len(prompt), b + len(prompt)) for a, b in spans[i]]
                    parts[i] = _span_vectors(result[1][0], encoding, shifted)

        if self.workers == 1 or len(texts) == 1:
            work(0)  # worker 0 takes order[0::workers]: everything, or the one text
        else:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="tipqa-encode")
            for future in [self._pool.submit(work, k) for k in range(self.workers)]:
                future.result()
        return out, parts

    def embed_query(self, text: str) -> np.ndarray:
        ids = np.asarray([self._bert.ids(self._bert.prompts.get("query", "") + text)], dtype=np.int64)
        return self._sessions[0].run(["sentence_embedding"], _feed(self._bert, ids))[0][0]

    def prepare(self) -> None:
        """Load what a build's first batch needs beyond the sessions: `tokenizers`' tokenizer (e5: ~0.7 s)."""
        self._bert.tokenizer  # noqa: B018  (a property that loads it)

    def release(self) -> None:
        """A build is over: free what only builds use (see NumpyBert.release_tokenizer)."""
        self._bert.release_tokenizer()


def _in_parallel(calls: list) -> list:
    """The results of calls, made in threads (one call: made here)."""
    if len(calls) == 1:
        return [calls[0]()]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


def _feed(bert: NumpyBert, ids: np.ndarray) -> dict[str, np.ndarray]:
    return {"word_vectors": bert.word_vectors(ids), "attention_mask": np.ones_like(ids)}


class OnnxQueryEmbedder:
    """Questions on ONNX Runtime, fp32: the numpy pass's own computation (cosine >= 0.99999 to it), ~4x faster.

    A question of ~12 tokens takes ~2.6 ms on 2 threads against ~11 ms in numpy, whose small matrix products
    are bound by reading the fp32 weights (bench/latency.py: about a third of an answer at 10k passages).
    The session is opened from the fp32 graph a build's export kept beside the int8 one (GRAPH, checksummed;
    e5: ~0.2 s and ~150 MB), else from the graph written in memory from the tensors NumpyBert holds (~1 s,
    and ~350 MB at its peak for e5: the graph, its serialised bytes and the session). Only a long-lived process
    makes one (Assistant.warm_up); a one-question `tipqa ask` keeps numpy. Not int8: the index's passage vectors
    are int8-encoded, but questions stay at fp32, as bench/quality.py measured retrieval with.
    """

    kind = "onnx-fp32"

    def __init__(self, bert: NumpyBert, model_id: str, threads: int | None = None, graph: Path | None = None):
        self._bert, self.model_id, self.weights_hash, self.dim = bert, model_id, bert.weights_hash, bert.dim
        threads = threads or cpu_cores()
        self.source = "memory"
        if graph is not None and _intact(graph, graph.with_name(graph.name + ".sha256")):
            from onnxruntime.capi import onnxruntime_pybind11_state as state
            with contextlib.suppress(state.Fail, state.InvalidProtobuf, state.InvalidGraph, state.NoSuchFile):
                self._session = _session(str(graph), threads=threads)  # unreadable: written in memory below
                self.source = str(graph)
                return
        self._session = _session(build_graph(bert).SerializeToString(), threads=threads)

    def embed_query(self, text: str) -> np.ndarray:
        return self._run(self._bert.prompts.get("query", "") + text)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        prompt = self._bert.prompts.get("document", "")
        for i, text in enumerate(texts):  # one run each: no padding (see the module docstring)
            out[i] = self._run(prompt + text)
        return out

    def _run(self, text: str) -> np.ndarray:
        ids = np.asarray([self._bert.ids(text)], dtype=np.int64)
        return self._session.run(["sentence_embedding"], _feed(self._bert, ids))[0][0]


def _session(source: str | bytes, threads: int):
    """An onnxruntime CPU session over a graph file or its bytes, without the fusions that are slower here."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle intra-op threads sleep instead of spinning: a web server's question encoder (2 threads) spun ~30 ms
    # of a core after every question, half the server's CPU per answer and taken from concurrent answers.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # quantised graphs warn about shape inference; not actionable
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"], disabled_optimizers=SLOW_FUSIONS)


def _span_vectors(tokens: np.ndarray, encoding, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    starts = np.fromiter((a for a, _ in encoding.offsets), dtype=np.int64, count=len(encoding.offsets))
    real = np.asarray(encoding.special_tokens_mask, dtype=bool) == 0
    vectors = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    for j, (a, b) in enumerate(spans):
        inside = real & (starts >= a) & (starts < b)
        if inside.any():
            mean = tokens[inside].mean(axis=0)
            vectors[j] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return vectors


def _intact(graph: Path, checksum: Path) -> bool:
    """The graph matches the checksum file written when it was exported: by its recorded size and mtime, as
    index files are (hashing the 58 MB graph cost ~90 ms on every cold `tipqa ask`), or by its sha256 when
    those differ or TIPQA_VERIFY=full."""
    try:
        digest, size, mtime_ns = checksum.read_text().split()
        size, mtime_ns = int(size), int(mtime_ns)
        stat = graph.stat()
    except (OSError, ValueError):  # missing, or written by an older tipqa (digest only): export again
        return False
    if stat.st_size != size:
        return False
    if stat.st_mtime_ns == mtime_ns and os.environ.get("TIPQA_VERIFY") != "full":
        return True
    return sha256_file(graph) == digest
