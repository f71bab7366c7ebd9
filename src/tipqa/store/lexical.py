"""BM25 over chunk texts: small numpy/scipy functions, saved as plain arrays (allow_pickle=False).

A loaded index answers with numpy alone (Rows): importing scipy.sparse costs a cold `tipqa ask` ~0.25 s (it
pulls in much of numpy's lazily loaded namespace), so scipy is imported only to build or rewrite an index.
"""
from __future__ import annotations

import functools
import io
import json
import re
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from ..text import fold

if TYPE_CHECKING:
    from scipy import sparse

ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be been by did do does for from had has have he her his how in into is it its "
    "of on or our she that the their them then there these they this to was were what when where which "
    "who whom whose why will with would about also any can could may should than those us we you your".split()
)
# Snowball's Spanish stop list (function words; accents folded), less words that carry meaning here (estado).
SPANISH_STOPWORDS = frozenset(
    "a al algo algunas algunos ante antes como con contra cual cuales cuando de del desde donde durante e el "
    "ella ellas ellos en entre era eran es esa esas ese eso esos esta estaba estaban estan estar este esto "
    "estos fue fueron ha habia han hasta hay la las le les lo los mas me mi mis mucho muy nada ni no nos "
    "nosotros o os otra otras otro otros para pero poco por porque que quien quienes se sea sean segun ser si "
    "sido siempre sin sino sobre su sus tambien tanto te tiene tienen todo todos tu tus u un una unas uno "
    "unos vosotros y ya yo cuyo cuya cuyos cuyas dicho dicha dichos dichas asi cada".split()
)
TOKENIZER = "snowball-en-es-2"  # recorded in the manifest: a change rebuilds BM25 (vectors are reused)
_TOKEN = re.compile(r"[a-z0-9\u00e0-\u00ff]+(?:[-/.][a-z0-9\u00e0-\u00ff]+)*")
_SPANISH_WORDS = frozenset("el la los las del y que por para con una se su sus es al como sobre entre este esta "
                           "estos estas ha han fue son segun tambien".split())
_ENGLISH_WORDS = frozenset("the of and to in is was for on that with by as are from this which be were has "
                           "have it its".split())


def language(text: str) -> str:
    """'es' or 'en', by which language's commonest function words the text uses more (ties: 'en')."""
    words = re.findall(r"[a-z\u00e0-\u00ff]+", text.lower())
    spanish = sum(w in _SPANISH_WORDS for w in words)
    english = sum(w in _ENGLISH_WORDS for w in words)
    return "es" if spanish > english or (spanish and text.lstrip().startswith(("¿", "¡"))) else "en"


REPORT_SAMPLE = 5  # a report's language is read from its first passages


def report_language(passages: list[str]) -> str:
    """A report's language ('en' or 'es') from the words of its first passages (language())."""
    return language(" ".join(passages[:REPORT_SAMPLE]))


def tokenize(text: str, lang: str | None = None) -> list[str]:
    """Lower-cased words without the language's stop words, stemmed by its Snowball stemmer, accents folded
    after stemming ('víctimas' -> 'victim', 'victims' -> 'victim').

    Args:
        lang: "en" or "es"; detected from the text when not given (language()).
    """
    lang = lang or language(text)
    stop = SPANISH_STOPWORDS if lang == "es" else ENGLISH_STOPWORDS
    words = [t for t in _TOKEN.findall(text.lower()) if (len(t) > 1 or t.isdigit())]
    words = [w for w in words if fold(w) not in stop]
    return [fold(stem) for stem in _stemmer(lang).stemWords(words)]


@functools.lru_cache(maxsize=2)
def _stemmer(lang: str = "en"):
    import Stemmer  # PyStemmer: Snowball in C (English BM25 +0.02 nDCG@10 on SciFact over plurals only)
    return Stemmer.Stemmer("spanish" if lang == "es" else "english")


class Rows:
    """A CSR matrix as its three arrays, read as stored (BM25.load): what answering needs of scipy's csr_matrix
    (shape, indptr, indices, data, has_canonical_format), without importing scipy; tocsr()/tocsc() do."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]):
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, (int(shape[0]), int(shape[1]))
        self._canonical: bool | None = None

    @property
    def has_canonical_format(self) -> bool:
        """Each row's column indices strictly increasing (sorted, no repeats), as scipy defines it."""
        if self._canonical is None:
            step = np.diff(self.indices.astype(np.int64))
            row_start = self.indptr[1:-1]
            ok = step > 0
            ok[row_start[(row_start > 0) & (row_start < len(self.indices))] - 1] = True  # across a row boundary
            self._canonical = bool(ok.all())
        return self._canonical

    def tocsr(self) -> "sparse.csr_matrix":
        from scipy import sparse
        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def tocsc(self) -> "sparse.csc_matrix":
        return self.tocsr().tocsc()

    def __getitem__(self, rows):
        return self.tocsr()[rows]


class BM25:
    """Okapi BM25 with the term-by-document weight matrix precomputed, so a query is a sparse row sum."""

    def __init__(self, vocab: dict[str, int], weights: "sparse.csr_matrix | Rows", k1: float = 1.2, b: float = 0.75):
        self.vocab = vocab
        self.weights = weights  # shape (terms, documents)
        self.k1, self.b = k1, b

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.2, b: float = 0.75) -> "BM25":
        return cls.from_counts(*TermCounts.build(texts), k1, b)

    @classmethod
    def from_counts(cls, vocab: dict[str, int], counts: "TermCounts", k1: float = 1.2, b: float = 0.75) -> "BM25":
        tf = counts.matrix.tocsr()
        lengths = np.asarray(counts.matrix.sum(axis=0), dtype=np.float32).ravel()
        return cls(vocab, _bm25_weights(tf, lengths, k1, b), k1, b)

    def scores(self, query: str) -> np.ndarray:
        ids = sorted({self.vocab[t] for t in query_terms(query) if t in self.vocab})
        if not ids:
            return np.zeros(self.weights.shape[1], dtype=np.float32)
        w = self.weights
        if not w.has_canonical_format:  # repeated (term, passage) entries: let scipy add them up
            return np.asarray(w[ids].sum(axis=0)).ravel().astype(np.float32)
        # The rows' weights added into one float32 array, row by row in term order: the same sums, in the same
        # order, as the sparse row-sum, without copying the rows into a new matrix first (1M passages: ~20% less).
        indptr, indices, data = w.indptr, w.indices, w.data
        out = np.zeros(w.shape[1], dtype=np.float32)
        for row in ids:
            a, b = indptr[row], indptr[row + 1]
            out[indices[a:b]] += data[a:b]
        return out

    def coverage(self, query: str, rows: np.ndarray) -> np.ndarray:
        """float64[len(rows)]: the share of the query's IDF the passage ROWS contain, each query term (in the
        vocabulary) counted once however often it occurs: 1.0 when a passage has every term. Reads only the
        query terms' postings, binary-searched for ROWS (retrieval's ~100 fused candidates)."""
        rows = np.asarray(rows, dtype=np.int64)
        ids = sorted({self.vocab[t] for t in query_terms(query) if t in self.vocab})
        out = np.zeros(len(rows), dtype=np.float64)
        if not ids or not len(rows):
            return out
        w = self.weights
        n_docs = max(w.shape[1], 1)
        canonical = w.has_canonical_format
        total = 0.0
        for term in ids:
            postings = w.indices[w.indptr[term]:w.indptr[term + 1]]
            if canonical:  # sorted, no repeats: as _bm25_weights counts df
                at = np.searchsorted(postings, rows)
                present = (at < len(postings)) & (postings[np.minimum(at, len(postings) - 1)] == rows) \
                    if len(postings) else np.zeros(len(rows), dtype=bool)
                df = len(postings)
            else:
                present, df = np.isin(rows, postings), len(np.unique(postings))
            idf = float(_idf(n_docs, df))
            out += idf * present
            total += idf
        return out / total if total > 0 else out

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
            weights = Rows(arrays["data"], arrays["indices"], arrays["indptr"], tuple(arrays["shape"]))
        meta = _params(folder)
        return cls(_term_ids(meta), weights, meta["k1"], meta["b"])


def query_terms(query: str) -> list[str]:
    """A question's terms: stemmed in its own language, and for a Spanish one also as English (names, symbols
    and loanwords the English reports share: 'Palermo', 'RTP-II/doc.5/09')."""
    lang = language(query)
    terms = tokenize(query, lang)
    return terms + tokenize(query, "en") if lang == "es" else terms


class TermCounts:
    """Term counts per passage (terms x passages, CSC: one column per passage), kept in each generation so
    an incremental build tokenizes only new passages and recomputes BM25 weights from the counts
    (re-tokenizing 60k passages took most of adding one report to 1,000)."""

    FILE = "lexical_counts.npz"

    def __init__(self, matrix: sparse.csc_matrix):
        self.matrix = matrix

    @classmethod
    def build(cls, texts: list[str], vocab: dict[str, int] | None = None,
              reuse: tuple["TermCounts", np.ndarray] | None = None) -> tuple[dict[str, int], "TermCounts"]:
        """(vocab, counts) for texts. vocab (extended in place) and reuse = (old counts, old column per text,
        -1 where new) let passages of an earlier generation keep their columns without being tokenized."""
        from scipy import sparse
        vocab = {} if vocab is None else vocab
        origin = reuse[1] if reuse is not None else np.full(len(texts), -1, dtype=np.int64)
        fresh = np.flatnonzero(origin < 0)
        rows, cols, values = [], [], []
        for col, doc in enumerate(fresh.tolist()):
            for term, count in _counts(tokenize(texts[doc])).items():
                rows.append(vocab.setdefault(term, len(vocab)))
                cols.append(col)
                values.append(count)
        new = sparse.csc_matrix((np.asarray(values, np.float32), (np.asarray(rows, np.int64), np.asarray(cols, np.int64))),
                                shape=(len(vocab), len(fresh)))
        if reuse is None or len(fresh) == len(texts):
            return vocab, cls(new)
        old = reuse[0].matrix
        kept = old[:, origin[origin >= 0]]
        kept = sparse.csc_matrix((kept.data, kept.indices, kept.indptr), shape=(len(vocab), kept.shape[1]))
        both = sparse.hstack([kept, new], format="csc")
        # columns back in text order: reused ones first in both, then the fresh ones
        position = np.empty(len(texts), dtype=np.int64)
        position[np.flatnonzero(origin >= 0)] = np.arange(kept.shape[1])
        position[fresh] = kept.shape[1] + np.arange(len(fresh))
        return vocab, cls(both[:, position].tocsc())

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        m = self.matrix
        np.savez(buffer, data=m.data.astype(np.int32), indices=m.indices, indptr=m.indptr, shape=np.array(m.shape))
        return buffer.getvalue()

    @classmethod
    def load(cls, folder: Path) -> "TermCounts":
        from scipy import sparse
        with np.load(folder / cls.FILE, allow_pickle=False) as arrays:
            return cls(sparse.csc_matrix((arrays["data"].astype(np.float32), arrays["indices"], arrays["indptr"]),
                                         shape=tuple(arrays["shape"])))


def vocabulary(folder: Path) -> dict[str, int]:
    return _term_ids(_params(folder))


def _params(folder: Path) -> dict:
    return json.loads((folder / "lexical_vocab.json").read_text(encoding="utf-8"))


def _term_ids(params: dict) -> dict[str, int]:
    return {t: i for i, t in enumerate(params["terms"])}


def _counts(tokens: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    return counts


def _idf(n_docs: int, df):
    """BM25's inverse document frequency of a term in df of n_docs passages (never negative)."""
    return np.log1p((n_docs - df + 0.5) / (df + 0.5))


def _bm25_weights(tf: sparse.csr_matrix, lengths: np.ndarray, k1: float, b: float) -> sparse.csr_matrix:
    n_docs = max(tf.shape[1], 1)
    idf = _idf(n_docs, np.diff(tf.indptr).astype(np.float32))
    norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()) if len(lengths) else 1.0, 1e-9))
    weights = tf.copy().tocoo()
    weights.data = idf[weights.row] * weights.data * (k1 + 1) / (weights.data + norm[weights.col])
    return weights.tocsr()
