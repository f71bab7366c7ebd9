"""The query path's fast paths give what the plain code gave: folding, the name pattern, the question cache,
BM25 row sums, single-threaded faiss searches."""
from __future__ import annotations

import re
import unicodedata

import faiss
import numpy as np
from scipy import sparse

from tipqa import text
from tipqa.answering.questions import analyse
from tipqa.language import entities
from tipqa.language.entities import _gazetteer, _trie_pattern, find_named
from tipqa.store.ann import one_thread as _one_thread
from tipqa.store.lexical import BM25

SAMPLES = ["Which country proposed joint investigation teams?", "¿Quién presidió el grupo de redacción?",
           "MÉXICO’s delegation — Ñandú, Ørsted, Straße, İstanbul, ﬁnal, ΟΔΟΣ ΣΑΣ", "e\u0301 n\u0303 ‘x’", "", "İ"]


def _entities_fold(s: str) -> str:  # the per-character definition
    out = []
    for char in s:
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        low = base.lower() if len(base) == 1 else char.lower()
        out.append(low if len(low) == 1 else char)
    return "".join(out).replace("’", "'")


def _text_fold(s: str) -> str:  # the whole-string definition
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()


def test_folds_match_their_definitions_on_ascii_and_other_text():
    for s in SAMPLES:
        assert entities.fold(s) == _entities_fold(s)
        assert len(entities.fold(s)) == len(s)  # offsets hold
        assert text.fold(s) == _text_fold(s)
    assert text.fold("ΟΔΟΣ") == "οδος"  # final sigma: lower-cased as a word, not letter by letter


def test_name_trie_matches_what_the_longest_first_alternation_matches():
    pattern, entries = _gazetteer()
    plain = re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(n) for n in sorted(entries, key=len, reverse=True))
                       + r")(?![\w])")
    for s in ["the united states of america and the united states", "estados unidos de america, brasil.",
              "x.peru, woman, oman; the states", "un women and the un", "republica dominicana y dominica"]:
        assert [m.group(0) for m in pattern.finditer(s)] == [m.group(0) for m in plain.finditer(s)]
    assert re.fullmatch(_trie_pattern(["ab", "abc", "b"]), "abc") and not re.fullmatch(_trie_pattern(["ab"]), "a")
    assert [e.canonical_id for e in find_named("The United States of America and Brasil")] == ["US", "BR"]


def test_analyse_is_cached_but_each_caller_gets_its_own_lists():
    first = analyse("Which country proposed joint investigation teams?")
    first.terms.append("mutated")
    first.ordinals.add(99)
    again = analyse("Which country proposed joint investigation teams?")
    assert "mutated" not in again.terms and 99 not in again.ordinals
    assert again.expected == "country"


def test_bm25_scores_are_the_sparse_row_sums():
    rng = np.random.default_rng(0)
    weights = sparse.random(40, 300, density=0.2, format="csr", dtype=np.float32, random_state=1)
    vocab = {f"term{i}": i for i in range(40)}
    bm25 = BM25(vocab, weights)
    for _ in range(20):
        ids = sorted(rng.choice(40, size=5, replace=False).tolist())
        expected = np.asarray(weights[ids].sum(axis=0)).ravel().astype(np.float32)
        assert np.array_equal(bm25.scores(" ".join(f"term{i}" for i in ids)), expected)
    # repeated entries in a row (not canonical) are still added up
    dup = sparse.csr_matrix((np.array([1.0, 2.0, 4.0], np.float32), np.array([3, 3, 5]), np.array([0, 3])), shape=(1, 8))
    assert BM25({"term0": 0}, dup).scores("term0")[3] == 3.0


def test_one_thread_restores_the_thread_count():
    before = faiss.omp_get_max_threads()
    with _one_thread():
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == before
