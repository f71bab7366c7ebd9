"""Fusion of the dense and BM25 rankings (pure logic; the real-model paths are in test_engine/test_answer)."""
import numpy as np
import pytest

from tipqa.answering.retrieval import _with_each_top, fit_fusion, rrf


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


class _Collection:
    """What search reads of a Generation, over plain arrays."""

    def __init__(self, vectors, bm25, model_id="m"):
        self.vectors, self.bm25, self.model_id = vectors, bm25, model_id
        self.chunks = [f"doc{i}" for i in range(len(vectors))]

    def dense_search(self, query, depth, allowed=None):
        scores = self.vectors @ query
        top = np.argsort(-scores, kind="stable")[:depth]
        return top, scores[top]

    def vectors_of(self, rows):
        return self.vectors[rows]

    def lexical_scores(self, text):
        return self.bm25

    def lexical_coverage(self, text, rows):  # no text behind these scores: no term covers anything
        return np.zeros(len(rows))


def _collection(scale=1.0, spread=1.0, seed=0, dim=16):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(200, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    bm25 = np.where(rng.random(200) < 0.3, rng.gamma(2.0, 3.0, 200), 0.0).astype(np.float32) * scale
    return _Collection(vectors * spread if spread != 1.0 else vectors, bm25), rng


def test_fusion_fit_weighs_each_question_set_alike():
    """A second set (e.g. SciFact's train split beside eval/dev_qa.jsonl) counts as much as the first, whatever
    its size: fitting on A with B weighs the same as on B with A."""
    a, rng = _collection(seed=1)
    b, _ = _collection(seed=2)

    def questions(collection, n):
        out = []
        for _ in range(n):
            target = int(rng.integers(len(collection.vectors)))
            relevant = np.zeros(len(collection.vectors), dtype=bool)
            relevant[target] = True
            out.append((collection.vectors[target] + 0.3 * rng.normal(size=16).astype(np.float32), "q", relevant))
        return out

    qa, qb = questions(a, 5), questions(b, 40)
    one = fit_fusion(a, qa, steps=200, also=((b, qb),))
    other = fit_fusion(b, qb, steps=200, also=((a, qa),))
    np.testing.assert_allclose(one, other, rtol=1e-6, atol=1e-9)
    assert one[0] > 0  # the cosine counts for a question near its passage


def test_fusion_reads_each_candidates_best_sentence():
    """A passage whose one sentence answers the question, in a passage about other things, gets that sentence's
    cosine as a feature (a passage without stored sentence vectors, its own cosine), and a fusion that weighs it
    ranks that passage first although its passage cosine is lower."""
    from tipqa.answering import retrieval
    from tipqa.store.base import SentenceVectors

    query = np.zeros(16, dtype=np.float32)
    query[0] = 1.0
    vectors = np.eye(16, dtype=np.float32)[[1, 2, 3]]
    vectors[1] = (0.6 * query + 0.8 * vectors[1])  # passage 1 is nearest the question as a whole
    vectors[2] = (0.3 * query + np.sqrt(1 - 0.09) * vectors[2])  # passage 2: no sentence vectors stored
    flat = np.zeros((5, 16), dtype=np.float16)
    flat[0] = query  # passage 0's first sentence says what was asked; its second does not
    flat[1, 5] = 1.0
    flat[2, 1] = 1.0
    collection = _Collection(vectors, np.zeros(3, dtype=np.float32))
    collection.sentences = SentenceVectors(flat, np.array([0, 2, 4]))
    collection.chunks = [type("Passage", (), {"sentences": spans})()
                         for spans in ([(0, 1), (2, 3)], [(0, 1)], [(0, 1)])]
    docs, x = retrieval.candidate_features(collection, query, np.array([1, 2, 0]), {}, np.array([], dtype=np.int64),
                                           collection.bm25)
    np.testing.assert_allclose(x[:, 4], [1.0, 0.0, 0.3], atol=1e-6)  # rows 0, 1, 2; row 2's is its passage cosine
    saved = retrieval.FUSION_WEIGHTS.get("m")
    retrieval.FUSION_WEIGHTS["m"] = (1.0, 0.0, 0.0, 0.0, 2.0, 0.0)
    try:
        assert [hit.row for hit in retrieval.search(collection, query, "q", k=3, mode="dense")][0] == 1
        # 0: its sentence (2.0); 2: its passage twice (0.9); 1: passage 0.6, no sentence near the question
        assert [hit.row for hit in retrieval.search(collection, query, "q", k=3)] == [0, 2, 1]
    finally:
        retrieval.FUSION_WEIGHTS.pop("m")
        if saved is not None:
            retrieval.FUSION_WEIGHTS["m"] = saved


def test_stores_that_sum_dot_products_differently_give_the_same_hits():
    """Two stores of the same vectors whose dense searches sum in other orders (scores a few ulps apart, near
    ties and the whole list returned in another order) give the same hits, scores and cosines to the last bit in
    both fusions, over many questions: retrieval rescores the candidates from their stored vectors itself, each
    row summed alone (a BLAS product over the batch sums a row in an order that depends on where it stands)."""
    from tipqa.answering import retrieval

    exact, rng = _collection(seed=3, dim=384)  # the model's width: BLAS kernels block rows and columns
    exact.vectors[7], exact.bm25[7] = exact.vectors[3], exact.bm25[3]  # a tie, broken by row

    class Noisy(_Collection):
        def dense_search(self, query, depth, allowed=None):
            rows, scores = super().dense_search(query, depth, allowed)
            noisy = scores * (1 + rng.choice([-3e-7, 3e-7], size=len(scores)))
            return rows[::-1].copy(), noisy[::-1].astype(np.float32)  # worst first, ties the other way round

    noisy = Noisy(exact.vectors, exact.bm25)
    saved = retrieval.FUSION_WEIGHTS.get("m")
    retrieval.FUSION_WEIGHTS["m"] = (5.0, 1.0, 3.0, 0.6, 0.0, 0.0)
    try:
        queries = [exact.vectors[3] + 0.1 * rng.normal(size=384).astype(np.float32)]
        queries += [rng.normal(size=384).astype(np.float32) for _ in range(20)]
        for query in queries:
            for fusion in ("learned", "rrf"):
                hits = [retrieval.search(c, query, "q", k=8, depth=50, fusion=fusion) for c in (exact, noisy)]
                assert [(h.row, h.score, h.dense) for h in hits[0]] == [(h.row, h.score, h.dense) for h in hits[1]]
        rows = [h.row for h in retrieval.search(exact, queries[0], "q", k=8, depth=50, fusion="learned")]
        assert rows[:2] == [3, 7], rows  # the tie, by row
    finally:
        retrieval.FUSION_WEIGHTS.pop("m")
        if saved is not None:
            retrieval.FUSION_WEIGHTS["m"] = saved


def test_term_coverage_counts_each_question_term_once_by_its_idf():
    """A passage with every question term covers 1.0 however often each occurs; one that repeats the rarest term
    covers only that term's share of the question's IDF; the share is the same read from the stored arrays
    (Rows, as a loaded index holds them) or with its postings not in canonical order."""
    from tipqa.answering import retrieval
    from tipqa.store.lexical import BM25, Rows

    texts = ["smuggling migrants border", "smuggling smuggling smuggling report", "border police report",
             "annual report", "report on labour"]
    bm25 = BM25.build(texts)
    rows = np.array([0, 1, 2, 3])
    cover = bm25.coverage("migrant smuggling across the border", rows)
    n = len(texts)
    idf = {df: np.log1p((n - df + 0.5) / (df + 0.5)) for df in (1, 2)}
    total = idf[1] + 2 * idf[2]  # migrant (1 passage), smuggl (2), border (2); 'across' is not in the vocabulary
    np.testing.assert_allclose(cover, [1.0, idf[2] / total, idf[2] / total, 0.0])
    w = bm25.weights.tocsr()
    stored = BM25(bm25.vocab, Rows(w.data, w.indices, w.indptr, w.shape))
    np.testing.assert_allclose(stored.coverage("migrant smuggling across the border", rows), cover)
    shuffled = w.copy()
    for term in range(shuffled.shape[0]):
        a, b = shuffled.indptr[term], shuffled.indptr[term + 1]
        shuffled.indices[a:b] = shuffled.indices[a:b][::-1].copy()
        shuffled.data[a:b] = shuffled.data[a:b][::-1].copy()
    unsorted = BM25(bm25.vocab, Rows(shuffled.data, shuffled.indices, shuffled.indptr, shuffled.shape))
    np.testing.assert_allclose(unsorted.coverage("migrant smuggling across the border", rows), cover)
    assert bm25.coverage("nothing indexed here", rows).tolist() == [0.0] * 4

    class Collection(_Collection):
        def lexical_coverage(self, text, rows):
            return bm25.coverage(text, rows)

    docs, x = retrieval.candidate_features(Collection(np.eye(5, dtype=np.float32), bm25.scores("x")),
                                           np.eye(5, dtype=np.float32)[0], np.array([0, 1, 2, 3]), {},
                                           np.array([], dtype=np.int64), np.zeros(5, dtype=np.float32),
                                           "migrant smuggling across the border")
    np.testing.assert_allclose(x[:, 5], cover)
    no_text = retrieval.candidate_features(Collection(np.eye(5, dtype=np.float32), bm25.scores("x")),
                                           np.eye(5, dtype=np.float32)[0], np.array([0, 1, 2, 3]), {},
                                           np.array([], dtype=np.int64), np.zeros(5, dtype=np.float32))[1]
    assert not no_text[:, 5].any()
    # the hits search returns carry it too (a feature of the answer step's sentence model), in either fusion
    collection = Collection(np.eye(5, dtype=np.float32), bm25.scores("migrant smuggling across the border"))
    saved = retrieval.FUSION_WEIGHTS.get("m")
    retrieval.FUSION_WEIGHTS["m"] = (1.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    try:
        for fusion in ("rrf", "learned"):
            hits = retrieval.search(collection, np.eye(5, dtype=np.float32)[0], "migrant smuggling across the border",
                                    k=4, fusion=fusion)
            assert hits[0].row == 0 and hits[0].coverage == pytest.approx(1.0)
            np.testing.assert_allclose([hit.coverage for hit in hits],
                                       bm25.coverage("migrant smuggling across the border",
                                                     np.array([hit.row for hit in hits])))
    finally:
        retrieval.FUSION_WEIGHTS.pop("m")
        if saved is not None:
            retrieval.FUSION_WEIGHTS["m"] = saved


def test_bm25_scores_each_passage_in_the_language_the_question_was_asked_in():
    """A Spanish question is searched in English (its rendering) over English passages, and with its own words
    over Spanish ones: the report's metadata language first, else the language its passages are written in."""
    from types import SimpleNamespace

    from tipqa.answering import retrieval
    from tipqa.store.lexical import BM25

    texts = ["The hotline received complaints from victims of trafficking.",  # English report, no metadata
             "Annual report on forced labour in mining.",
             "La línea 145 recibe denuncias de trata de personas las 24 horas.",  # Spanish report, detected
             "Los datos de las denuncias se publican cada mes.",
             "Hotline complaints are answered every day."]  # a report whose metadata says Spanish
    bm25 = BM25.build(texts)
    reports = ["en-report", "en-report", "es-report", "es-report", "said-es"]

    class Collection(_Collection):
        def lexical_scores(self, text):
            return bm25.scores(text)

    data = Collection(np.eye(5, dtype=np.float32), bm25.scores("x"))
    data.chunks = [SimpleNamespace(report_id=r, text=t) for r, t in zip(reports, texts)]
    data.reports = {"en-report": {}, "es-report": {"language": None}, "said-es": {"language": "es"}}
    assert retrieval.passage_languages(data).tolist() == ["en", "en", "es", "es", "es"]

    asked = "¿Cuántas denuncias recibe la línea 145?"
    rendering = "how many complaints does the hotline 145 receive?"
    routed = retrieval.lexical_scores(data, rendering, asked)
    np.testing.assert_allclose(routed[:2], bm25.scores(rendering)[:2])
    np.testing.assert_allclose(routed[2:], bm25.scores(asked)[2:])
    assert routed[2] > routed[0] > 0 and bm25.scores(rendering)[2] < bm25.scores(rendering)[0]
    for same in (None, rendering, "How many complaints does the hotline receive?"):  # asked in English: as before
        np.testing.assert_allclose(retrieval.lexical_scores(data, rendering, same), bm25.scores(rendering))
    hits = retrieval.search(data, np.eye(5, dtype=np.float32)[1], rendering, k=2, mode="lexical", asked=asked)
    assert hits[0].chunk.text.startswith("La línea 145")


def test_the_passages_read_hold_each_languages_best():
    """The best candidate of a language missing from the top k takes the last slot; nothing moves when every
    language is there, or below three slots."""
    from tipqa.answering.retrieval import with_each_language

    languages = np.array(["en"] * 8 + ["es"] * 2, dtype=object)
    docs = np.arange(10)
    order = np.array([0, 1, 2, 3, 4, 5, 9, 8, 6, 7])  # the Spanish rows ranked 7th and 8th
    assert with_each_language(order, docs, languages, 5).tolist() == [0, 1, 2, 3, 9]
    assert with_each_language(order, docs, languages, 2).tolist() == [0, 1]
    mixed = np.array([0, 8, 1, 2, 3, 4, 9])
    assert with_each_language(mixed, docs, languages, 5).tolist() == [0, 8, 1, 2, 3]
    assert with_each_language(order, docs, np.array(["en"] * 10, dtype=object), 5).tolist() == [0, 1, 2, 3, 4]


def test_an_english_question_reads_the_spanish_report_that_answers_it(tmp_path, real_embedder):
    """The real model and index over two English reports and a Spanish one: an English question answered only by
    the Spanish report has that report's passage among those read (the English passages had filled all five)."""
    from .conftest import EXTRA, open_seed_and

    hotline = EXTRA / "ar_minjus_trata_linea145_denuncias_metadata_es.md"
    assistant = open_seed_and(tmp_path, real_embedder, hotline, EXTRA / "un_palermo_protocol_2000_en.md")
    answer = assistant.ask("Can complaints to the hotline be made anonymously?")
    read = [p for p in answer.passages if "en forma anónima" in p.text]
    assert read and read[0].report_id == "ar-minjus-trata-linea145-denuncias-metadata-es"
    assert {p.report_id for p in answer.passages} > {read[0].report_id}  # English passages read beside it
    # each report's language recorded at ingestion: the seed's from its metadata, the others' from their words
    assert {r: meta["language"] for r, meta in assistant.data.reports.items()} == {
        "oas-rtp-ii-2009-buenos-aires-report": "en", "ar-minjus-trata-linea145-denuncias-metadata-es": "es",
        "un-palermo-protocol-2000-en": "en"}
