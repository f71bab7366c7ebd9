"""Past the size threshold the dense index is IVF: high recall, filters, reconstruct, save/load all still work."""
from __future__ import annotations

import faiss
import numpy as np

from tipqa.assistant import Assistant
from tipqa.store import ann
from tipqa.store.files import IndexStore


def recall_at_10(index, vectors: np.ndarray, queries: np.ndarray) -> float:
    """The share of the exact 10 nearest (inner product) that the approximate index also returns."""
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    _, exact = flat.search(queries, 10)
    _, approx = index.search(queries, 10)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact)]))


def clustered(n: int, dim: int = 64, centres: int = 50, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres, as passages on a handful of topics are."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, dim)).astype(np.float32)
    vectors = means[rng.integers(0, centres, n)] + rng.normal(scale=0.6, size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_small_corpora_stay_exact():
    index = ann.build_vector_index(clustered(1000), threshold=5000)
    assert isinstance(index, faiss.IndexFlatIP)
    assert ann.search_params(index) is None


def test_ivf_recall_filters_and_reconstruct():
    vectors = clustered(20_000)
    index = ann.build_vector_index(vectors, threshold=10_000)
    assert faiss.try_extract_index_ivf(index) is not None and index.ntotal == len(vectors)
    queries = clustered(200, seed=1)
    recall = recall_at_10(index, vectors, queries)
    assert recall >= 0.95, recall
    np.testing.assert_array_equal(index.reconstruct(123), vectors[123])
    allowed = np.arange(0, 20_000, 7, dtype=np.int64)
    _, ids = index.search(queries[:5], 10, params=ann.search_params(index, faiss.IDSelectorBatch(allowed)))
    assert set(ids[ids >= 0].tolist()) <= set(allowed.tolist()) and (ids >= 0).sum() > 0
    again = faiss.deserialize_index(faiss.serialize_index(index))  # nprobe and the direct map survive saving
    assert faiss.extract_index_ivf(again).nprobe == faiss.extract_index_ivf(index).nprobe
    np.testing.assert_array_equal(again.reconstruct(123), vectors[123])


def test_store_switches_to_ivf_past_the_threshold(settings, hash_embedder, monkeypatch):
    monkeypatch.setattr(ann, "ANN_THRESHOLD", 10)  # the seed report has ~25 passages
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    loaded = IndexStore(settings.index_dir).load()
    assert faiss.try_extract_index_ivf(loaded.vectors) is not None
    assert faiss.try_extract_index_ivf(assistant.data.vectors) is not None
    report = next(iter(loaded.reports))
    hits = assistant.search("joint investigation teams", k=3, report=report)
    assert hits and all(h.chunk.report_id == report for h in hits)


def test_ivf_recall_on_crowded_vectors():
    """e5's vectors share a large common direction (cosines ~0.7-0.9): a quarter of the lists missed near
    neighbours there (recall@10 0.95 at 100k in bench/latency.py); half of them keep recall@10 >= 0.99."""
    rng = np.random.default_rng(2)
    common = rng.normal(size=64).astype(np.float32)
    common /= np.linalg.norm(common)
    spread = clustered(20_000, centres=200, seed=3)
    vectors = 2.0 * common + spread
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = ann.build_vector_index(vectors, threshold=10_000)
    ivf = faiss.extract_index_ivf(index)
    assert ivf.nprobe == ann.nprobe_for(len(vectors), ivf.nlist) and ivf.nprobe * 2 == ivf.nlist
    queries = 2.0 * common + clustered(200, centres=200, seed=4)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    recall = recall_at_10(index, vectors, queries)
    assert recall >= 0.99, recall
