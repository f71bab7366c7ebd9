"""The dense index: exact inner product below ANN_THRESHOLD passages, an IVF index (approximate) above it.

Exact search reads all n x 384 floats for every question (tens of ms at 200k passages on this busy 2-core
machine, hundreds at 1M), and the other stages of an answer need their share of the budget, so past
ANN_THRESHOLD the vectors go into inverted lists (IndexIVFFlat, inner product) and a question scans nprobe of them.
bench/latency.py measures recall@10 against exact search (>= 0.99 is the target) and the latency at each size.
The IVF index keeps the full vectors and a direct map, so reconstruct_n() and reconstruct_batch() (vector reuse
on incremental builds, the candidates' cosines: answering.retrieval.cosines) work exactly as with the flat index.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import faiss
import numpy as np

ANN_THRESHOLD = 50_000  # passages (~1,000 reports). Below it exact search costs ~10-20 ms per question here.
# Lists scanned per question: half of them, but never more than about MAX_SCANNED vectors. On e5's vectors
# (bench/latency.py's synthetic ones, 40 questions) a quarter of the lists gave recall@10 0.95 at 100k and 0.97
# at 200k, half of them 0.99; at 1M a quarter (~250k vectors) gave 0.995, half of them 0.9975 at twice the scan.
NPROBE_FRACTION = 1 / 2
MAX_SCANNED = 250_000  # vectors: the scan of a quarter of 1M passages, within the 100 ms answer at 1M
TRAIN_POINTS_PER_LIST = 64  # k-means sample size per list: faiss's lower bound for stable centroids


def nlist_for(n: int) -> int:
    """Number of inverted lists: ~sqrt(n) rounded to a power of two (1,024 at 1M passages), each list trainable."""
    return max(1, min(1 << round(math.log2(max(math.sqrt(n), 1))), n // TRAIN_POINTS_PER_LIST))


def nprobe_for(n: int, nlist: int) -> int:
    """Inverted lists a question scans: half of them, capped near MAX_SCANNED vectors, never under a quarter."""
    capped = math.ceil(MAX_SCANNED * nlist / max(n, 1))
    return max(1, nlist // 4, min(int(nlist * NPROBE_FRACTION), capped))


def build_vector_index(vectors: np.ndarray, threshold: int | None = None, seed: int = 0,
                       previous: faiss.Index | None = None, origin: np.ndarray | None = None) -> faiss.Index:
    """An inner-product index over L2-normalised vectors: flat when small, IVF when large.

    The IVF centroids are trained here, or taken from previous (the last generation's index) while it has
    the number of lists this size calls for: ~sqrt(n) moves to the next power of two only when the corpus
    doubles, so adding a report does not re-run k-means on the whole corpus. A trained quantizer stays
    representative as long as new passages resemble old ones; each doubling retrains from scratch.
    origin (each vector's row in previous, -1 for new ones) lets reused vectors keep their inverted list
    instead of being assigned again.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if n < (ANN_THRESHOLD if threshold is None else threshold):
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return index
    nlist = nlist_for(n)
    old = faiss.try_extract_index_ivf(previous) if previous is not None else None
    if old is not None and old.nlist == nlist and old.d == dim and old.metric_type == faiss.METRIC_INNER_PRODUCT:
        quantizer = faiss.IndexFlatIP(dim)
        quantizer.add(old.quantizer.reconstruct_n(0, nlist))
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.is_trained = True
        lists = _lists_of(old, origin, vectors, quantizer)
        if lists is not None:
            index.add_core(n, faiss.swig_ptr(vectors), None, faiss.swig_ptr(lists))
            index.nprobe = nprobe_for(n, nlist)
            index.make_direct_map()
            return index
    else:
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed  # reproducible centroids: the same corpus gives the same index
        index.cp.niter = 10  # past ~10 iterations k-means barely moves recall here, and costs build time
        sample = np.random.default_rng(seed).choice(n, size=min(n, nlist * TRAIN_POINTS_PER_LIST), replace=False)
        index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.nprobe = nprobe_for(n, nlist)
    index.make_direct_map()  # reconstruct(i) by passage number, as the flat index allows
    return index


def _lists_of(old, origin: np.ndarray | None, vectors: np.ndarray, quantizer: faiss.Index) -> np.ndarray | None:
    """Inverted list of every vector: the old index's for reused rows, the nearest centroid for new ones."""
    if origin is None or len(origin) != len(vectors) or old.direct_map.type != faiss.DirectMap.Array:
        return None
    old_lists = faiss.vector_to_array(old.direct_map.array) >> 32  # direct map entries: list << 32 | offset
    lists = np.empty(len(vectors), dtype=np.int64)
    known = origin >= 0
    if known.any():
        if int(origin[known].max()) >= len(old_lists):
            return None
        lists[known] = old_lists[origin[known]]
    if (~known).any():
        _, nearest = quantizer.search(vectors[~known], 1)
        lists[~known] = nearest.ravel()
    if lists.min() < 0 or lists.max() >= quantizer.ntotal:
        return None
    return np.ascontiguousarray(lists)


def search_params(index: faiss.Index, selector: faiss.IDSelector | None = None, nprobe: int | None = None):
    """Search parameters of the right class for the index (faiss refuses a base class for IVF)."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return faiss.SearchParametersIVF(sel=selector, nprobe=nprobe or ivf.nprobe)
    return faiss.SearchParameters(sel=selector) if selector is not None else None


def describe(index: faiss.Index) -> str:
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        return f"exact inner product over {index.ntotal:,} vectors"
    return f"IVF: {ivf.nlist} lists, nprobe {ivf.nprobe}, {index.ntotal:,} vectors"


@contextmanager
def one_thread():
    """One OpenMP thread for a single-query search. faiss splits even one query over all threads, and on a busy
    2-core machine waiting for the second one costs more than the search (10k flat: ~16 ms -> ~1 ms). The
    setting is per calling thread in OpenMP, so concurrent questions and index builds keep theirs."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
