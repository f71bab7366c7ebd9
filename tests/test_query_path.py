"""The query path's fast paths give what the plain code gave: folding, the name pattern, the question cache,
BM25 row sums, single-threaded faiss searches."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import faiss
import numpy as np
from scipy import sparse

from tipqa import text
from tipqa.answering.questions import analyse
from tipqa.language import entities
from tipqa.language.entities import _gazetteer, _trie_pattern, find_named
from tipqa.store.ann import one_thread as _one_thread
from tipqa.store.lexical import BM25, Rows

SEED_TEXT = (Path(__file__).resolve().parents[1] / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt").read_text(
    encoding="utf-8")
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
              "x.peru, woman, oman; the states", "un women and the un", "republica dominicana y dominica",
              "peru_x peru2 (peru) peru.brasil_ chile", entities.fold(SEED_TEXT[:40_000])]:
        assert [m.span() for m in pattern.finditer(s)] == [m.span() for m in plain.finditer(s)]
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


def test_bm25_loaded_as_plain_rows_scores_as_scipy(tmp_path):
    texts = ["Brazil proposed joint investigation teams.", "Chile spoke of victims.", "La trata de personas.",
             "Joint teams and victims of trafficking; Brazil again."] * 3
    built = BM25.build(texts)
    for name, data in built.to_files().items():
        (tmp_path / name).write_bytes(data)
    loaded = BM25.load(tmp_path)
    assert isinstance(loaded.weights, Rows) and loaded.weights.has_canonical_format
    for question in ("Which country proposed joint teams?", "victims of trafficking", "¿trata?", "nothing here"):
        assert np.array_equal(loaded.scores(question), built.scores(question))
    assert (loaded.weights.tocsr() != built.weights).nnz == 0
    # a row with a repeated or unsorted column is not canonical (scipy's definition), and still adds up
    dup = Rows(np.array([1.0, 2.0, 4.0], np.float32), np.array([3, 3, 5]), np.array([0, 3]), (1, 8))
    assert not dup.has_canonical_format and BM25({"term0": 0}, dup).scores("term0")[3] == 3.0
    unsorted = Rows(np.ones(3, np.float32), np.array([1, 5, 4]), np.array([0, 1, 3]), (2, 8))
    assert not unsorted.has_canonical_format
    across = Rows(np.ones(3, np.float32), np.array([1, 5, 4]), np.array([0, 2, 3]), (2, 8))  # 5 then 4: two rows
    assert across.has_canonical_format


def test_answering_from_a_loaded_index_needs_no_scipy(tmp_path):
    """Importing scipy.sparse costs a cold `tipqa ask` ~0.25 s: only building an index may import it."""
    import subprocess
    import sys
    texts = ["Brazil proposed joint investigation teams.", "Chile spoke of victims."]
    for name, data in BM25.build(texts).to_files().items():
        (tmp_path / name).write_bytes(data)
    code = ("import sys; from pathlib import Path; import tipqa.assistant, tipqa.cli; "
            "from tipqa.store.lexical import BM25; "
            f"print(BM25.load(Path({str(tmp_path)!r})).scores('Brazil').tolist()); "
            "print(sorted(m for m in sys.modules if m.startswith('scipy')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    scores, modules = done.stdout.splitlines()
    assert modules == "[]" and scores.startswith("[") and "0.0]" in scores


def test_one_thread_restores_the_thread_count():
    before = faiss.omp_get_max_threads()
    with _one_thread():
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == before
