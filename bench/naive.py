"""The naive recipe the benchmarks compare against, as a user would first write it.

Fixed 1,000-character windows, dense retrieval only (no BM25, no sections), every window re-embedded on each
change, and sentence-transformers imported on every CLI call. The "answer" is the top window.

    python bench/naive.py build CORPUS_DIR OUT_DIR
    python bench/naive.py ask OUT_DIR "question"
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

WINDOW = 1000


def windows(corpus: Path) -> list[dict]:
    out = []
    for path in sorted(corpus.iterdir()):
        if path.suffix in (".txt", ".md"):
            text = path.read_text(encoding="utf-8", errors="replace")
            out += [{"source": path.name, "text": text[i:i + WINDOW]} for i in range(0, len(text), WINDOW)]
    return out


def model():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from sentence_transformers import SentenceTransformer

    from tipqa.encoders.model import bundled_model_dir
    return SentenceTransformer(str(bundled_model_dir()), device="cpu")


def build(corpus: Path, out: Path) -> dict:
    started = time.perf_counter()
    records = windows(corpus)
    vectors = model().encode([r["text"] for r in records], batch_size=32, normalize_embeddings=True)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", vectors.astype(np.float32))
    (out / "windows.json").write_text(json.dumps(records), encoding="utf-8")
    return {"windows": len(records), "chars": sum(len(r["text"]) for r in records),
            "seconds": time.perf_counter() - started}


def ask(out: Path, question: str, k: int = 5) -> list[dict]:
    vectors = np.load(out / "vectors.npy")
    records = json.loads((out / "windows.json").read_text(encoding="utf-8"))
    query = model().encode([question], normalize_embeddings=True)[0]
    top = np.argsort(-(vectors @ query))[:k]
    return [{**records[i], "score": float(vectors[i] @ query)} for i in top]


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "build":
        print(json.dumps(build(Path(rest[0]), Path(rest[1]))))
    else:
        print(json.dumps(ask(Path(rest[0]), rest[1]), ensure_ascii=False))
