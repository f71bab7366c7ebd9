"""Fusion of the dense and BM25 rankings (pure logic; the real-model paths are in test_engine/test_answer)."""
import numpy as np

from tipqa.answering.retrieval import _with_each_top, rrf


def _fused(rankings):
    return sorted(rrf(rankings, [1.0] * len(rankings)).items(), key=lambda item: -item[1])


def test_rrf_prefers_documents_ranked_well_by_both():
    dense, lexical = np.array([0, 1, 2, 3]), np.array([2, 1, 0, 4])
    order = [doc for doc, _ in _fused([dense, lexical])]
    assert set(order[:3]) == {0, 1, 2} and order[3:] == [3, 4]


def test_each_retrievers_first_choice_stays_in_the_top_k():
    # Dense's rank 1 (doc 9) is unknown to BM25; five documents ranked well by both would push it out.
    dense = np.array([9, 1, 2, 3, 4, 5])
    lexical = np.array([1, 2, 3, 4, 5, 6])
    fused = _fused([dense, lexical])
    assert 9 not in [doc for doc, _ in fused[:5]]
    top = _with_each_top(fused, [dense, lexical], 5)
    assert len(top) == 5 and 9 in [doc for doc, _ in top] and [doc for doc, _ in top][:4] == [1, 2, 3, 4]


def test_both_first_choices_missing_take_the_last_two_slots():
    dense, lexical = np.array([8, 1, 2, 3, 4]), np.array([9, 1, 2, 3, 4])
    fused = sorted(rrf([dense, lexical, np.array([1, 2, 3, 4, 5, 6, 7])], [1.0, 1.0, 3.0]).items(),
                   key=lambda item: -item[1])
    top = [doc for doc, _ in _with_each_top(fused, [dense, lexical], 4)]
    assert set(top[-2:]) == {8, 9} and top[:2] == [1, 2]
