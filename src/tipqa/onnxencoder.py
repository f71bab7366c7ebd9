"""Index-build encoder: the bundled weights as an ONNX Runtime graph with int8 weights (2-3x torch fp32 on CPU).

The graph is written here from the same safetensors tensors NumpyBert uses (no torch, no download), then
its weight matrices are quantised to int8 by onnxruntime's dynamic quantiser. The result is cached next to
the index generations, keyed by the weights' sha256, so it is made once per index folder (a few seconds).
Retrieval quality against the fp32 vectors is measured by bench/quality.py on SciFact and the seed QA set.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import ModelError
from .fastencoder import NumpyBert, supports

OPSET = 17  # LayerNormalization is a single op from opset 17
MS = "com.microsoft"  # onnxruntime's contrib ops


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
        self.inits.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, kind: str, *inputs: str, **attrs) -> str:
        self._n += 1
        out = f"t{self._n}_{kind}"
        self.nodes.append(self.helper.make_node(kind, list(inputs), [out], **attrs))
        return out


def build_graph(bert: NumpyBert):
    """An ONNX model computing exactly NumpyBert.forward: ids, mask (int64[b, n]) -> normalised float32[b, d]."""
    from onnx import TensorProto, helper
    g, w, d = _Graph(), bert._w, bert.dim
    h = bert.heads
    width = g.op("Unsqueeze", g.op("Gather", g.op("Shape", "input_ids"), g.const(np.int64(1))), g.const(np.array([0])))
    positions = g.op("Slice", g.const(w["embeddings.position_embeddings.weight"]), g.const(np.array([0])), width,
                     g.const(np.array([0])))
    x = g.op("Add", g.op("Gather", g.const(w["embeddings.word_embeddings.weight"]), "input_ids"), positions)
    x = g.op("Add", x, g.const(w["embeddings.token_type_embeddings.weight"][0]))
    x = _ln(g, x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], bert.eps)
    maskf = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    mask32 = g.op("Cast", "attention_mask", to=TensorProto.INT32)  # Attention takes the raw 0/1 mask
    for layer in bert.layers:
        x = _block(g, x, mask32, layer, d, h, bert.eps)
    m = g.op("Unsqueeze", maskf, g.const(np.array([2])))
    summed = g.op("ReduceSum", g.op("Mul", x, m), g.const(np.array([1])), keepdims=0)
    count = g.op("Max", g.op("ReduceSum", m, g.const(np.array([1])), keepdims=0), g.const(np.float32(1e-9)))
    pooled = g.op("Div", summed, count)
    norm = g.op("Max", g.op("ReduceL2", pooled, axes=[1], keepdims=1), g.const(np.float32(1e-12)))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["sentence_embedding"]))
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"])
              for n in ("input_ids", "attention_mask")]
    output = helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", d])
    graph = helper.make_graph(g.nodes, "minilm", inputs, [output], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="tipqa")
    model.ir_version = 8
    return model


def _ln(g: _Graph, x: str, weight: np.ndarray, bias: np.ndarray, eps: float) -> str:
    return g.op("LayerNormalization", x, g.const(weight), g.const(bias), axis=-1, epsilon=eps)


def _block(g: _Graph, x: str, mask: str, layer: dict, d: int, h: int, eps: float) -> str:
    # onnxruntime's fused CPU kernels (com.microsoft): one Attention op for QKV + softmax + context,
    # residual + bias + LayerNorm in one pass, bias + exact-erf GELU in one pass.
    attn = g.op("Attention", x, g.const(layer["qkv_w"]), g.const(layer["qkv_b"]), mask, num_heads=h,
                domain=MS)
    x = g.op("SkipLayerNormalization", g.op("MatMul", attn, g.const(layer["out_w"])), x, g.const(layer["ln1"][0]),
             g.const(layer["ln1"][1]), g.const(layer["out_b"]), epsilon=eps, domain=MS)
    inner = g.op("BiasGelu", g.op("MatMul", x, g.const(layer["in_w"])), g.const(layer["in_b"]), domain=MS)
    return g.op("SkipLayerNormalization", g.op("MatMul", inner, g.const(layer["ff_w"])), x,
                g.const(layer["ln2"][0]), g.const(layer["ln2"][1]), g.const(layer["ff_b"]), epsilon=eps, domain=MS)


@contextlib.contextmanager
def _quiet_root_logger():
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def export(bert: NumpyBert, target: Path, int8: bool = True) -> Path:
    """Write the fp32 graph, then (int8) quantise its weight matrices; written to a temp name, renamed last."""
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
        else:
            os.replace(fp32, partial)
        os.replace(partial, target)
    finally:
        for leftover in (fp32, partial):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return target


class OnnxEmbedder:
    """embed_documents on ONNX Runtime (int8 weights by default); same model id and weights hash as the fp32 model."""

    def __init__(self, model_id: str, folder: Path, cache_dir: Path, batch_size: int = 32, int8: bool = True,
                 bert: NumpyBert | None = None):
        if not supports(folder):
            raise ModelError(f"{folder} is not a BERT mean-pooling model the ONNX encoder can run. "
                             f"Set TIPQA_ENCODER=torch to use sentence-transformers for it.")
        self._bert = bert or NumpyBert(folder)  # the tokenizer, and the tensors the graph is written from
        self.model_id, self.weights_hash, self.dim = model_id, self._bert.weights_hash, self._bert.dim
        self.batch_size, self.kind = batch_size, "onnx-int8" if int8 else "onnx-fp32"
        self.path = Path(cache_dir) / f"minilm-{self.weights_hash[:16]}-{'int8' if int8 else 'fp32'}.onnx"
        self._session = self._open(int8)

    def _open(self, int8: bool):
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as state
        checksum = self.path.with_name(self.path.name + ".sha256")
        if not (self.path.is_file() and checksum.is_file()
                and checksum.read_text().strip() == _sha256(self.path)):  # made by us, and undamaged
            print(f"tipqa: preparing the {self.kind} encoder (once per index folder) ...", file=sys.stderr)
            export(self._bert, self.path, int8)
            checksum.write_text(_sha256(self.path))
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        # No busy-waiting: on a small shared machine spinning threads steal the cores they wait for.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # quantised graphs warn about shape inference; not actionable
        try:
            return ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except (state.Fail, state.InvalidProtobuf, state.InvalidGraph, state.NoSuchFile) as error:
            checksum.unlink(missing_ok=True)  # rebuilt on the next run
            raise ModelError(f"Cannot load the cached encoder {self.path} ({error}); it will be rebuilt, "
                             f"run the command again.") from None

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths batch with little padding
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            ids, mask = self._bert.tokenize([texts[i] for i in rows])
            out[rows] = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
