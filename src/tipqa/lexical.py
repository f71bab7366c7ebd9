"""BM25 over chunk texts: small numpy/scipy functions, saved as plain arrays (allow_pickle=False)."""
from __future__ import annotations

import functools
import io
import json
import re
from pathlib import Path

import numpy as np
from scipy import sparse

from .text import fold

STOPWORDS = frozenset(
    "a an and are as at be been by did do does for from had has have he her his how in into is it its "
    "of on or our she that the their them then there these they this to was were what when where which "
    "who whom whose why will with would about also any can could may should than those us we you your "
    "el la los las de del y en que por para con se un una al lo su sus es".split()
)
TOKENIZER = "snowball-english-1"  # recorded in the manifest: a change rebuilds BM25 (vectors are reused)
_TOKEN = re.compile(r"[a-z0-9]+(?:[-/.][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-cased, accent-folded words without stopwords, Snowball-stemmed ('victims' -> 'victim')."""
    words = [t for t in _TOKEN.findall(fold(text)) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]
    return _stemmer().stemWords(words)


@functools.lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: the Snowball English stemmer in C (BM25 +0.02 nDCG@10 on SciFact over plurals only)
    return Stemmer.Stemmer("english")


class BM25:
    """Okapi BM25 with the term-by-document weight matrix precomputed, so a query is a sparse row sum."""

    def __init__(self, vocab: dict[str, int], weights: sparse.csr_matrix, k1: float = 1.2, b: float = 0.75):
        self.vocab = vocab
        self.weights = weights  # shape (terms, documents)
        self.k1, self.b = k1, b

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.2, b: float = 0.75) -> "BM25":
        vocab: dict[str, int] = {}
        rows, cols, counts = [], [], []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for doc, text in enumerate(texts):
            tokens = tokenize(text)
            lengths[doc] = len(tokens)
            for term, count in _counts(tokens).items():
                rows.append(vocab.setdefault(term, len(vocab)))
                cols.append(doc)
                counts.append(count)
        tf = sparse.csr_matrix(
            (np.asarray(counts, np.float32), (np.asarray(rows, np.int64), np.asarray(cols, np.int64))),
            shape=(len(vocab), len(texts)),
        )
        return cls(vocab, _bm25_weights(tf, lengths, k1, b), k1, b)

    def scores(self, query: str) -> np.ndarray:
        ids = sorted({self.vocab[t] for t in tokenize(query) if t in self.vocab})
        if not ids:
            return np.zeros(self.weights.shape[1], dtype=np.float32)
        return np.asarray(self.weights[ids].sum(axis=0)).ravel().astype(np.float32)

    def to_files(self) -> dict[str, bytes]:
        """The index as plain arrays plus a params file: {'lexical.npz': ..., 'lexical_vocab.json': ...}."""
        buffer = io.BytesIO()
        w = self.weights
        np.savez(buffer, data=w.data, indices=w.indices, indptr=w.indptr, shape=np.array(w.shape))
        terms = sorted(self.vocab, key=self.vocab.get)
        params = json.dumps({"k1": self.k1, "b": self.b, "terms": terms}, ensure_ascii=False).encode("utf-8")
        return {"lexical.npz": buffer.getvalue(), "lexical_vocab.json": params}

    @classmethod
    def load(cls, folder: Path) -> "BM25":
        with np.load(folder / "lexical.npz", allow_pickle=False) as arrays:
            weights = sparse.csr_matrix(
                (arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(arrays["shape"])
            )
        meta = json.loads((folder / "lexical_vocab.json").read_text(encoding="utf-8"))
        return cls({t: i for i, t in enumerate(meta["terms"])}, weights, meta["k1"], meta["b"])


def _counts(tokens: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    return counts


def _bm25_weights(tf: sparse.csr_matrix, lengths: np.ndarray, k1: float, b: float) -> sparse.csr_matrix:
    n_docs = max(tf.shape[1], 1)
    df = np.diff(tf.indptr).astype(np.float32)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()) if len(lengths) else 1.0, 1e-9))
    weights = tf.copy().tocoo()
    weights.data = idf[weights.row] * weights.data * (k1 + 1) / (weights.data + norm[weights.col])
    return weights.tocsr()
