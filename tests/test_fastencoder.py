"""The torch-free encoders run the same weights as sentence-transformers: same vectors, same answers."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tipqa.assistant import Assistant
from tipqa.config import load_settings
from tipqa.encoders import index_embedder, query_embedder
from tipqa.encoders.model import MINILM_WEIGHTS_SHA256, bundled_model_dir, resolve_model, weights_sha256
from tipqa.encoders.numpy_bert import NumpyEmbedder, supports
from tipqa.errors import ConfigError

from .conftest import CANONICAL, SEED

TEXTS = [
    CANONICAL,
    "¿Qué país propuso equipos conjuntos de investigación?",
    "For its part, Brazil proposed disseminating a Directory of National Authorities and the establishment of "
    "joint judicial investigation teams.",
    "x",
    "word " * 400,  # longer than the 256-token limit: truncated the same way
]


@pytest.fixture(scope="module")
def numpy_embedder():
    return query_embedder(load_settings())  # the default model (multilingual-e5-small) on the numpy pass


@pytest.fixture(scope="module")
def minilm_embedder():
    """all-MiniLM-L6-v2 on the numpy pass: its int8 graph is kept per index folder, so the cache tests see their own."""
    from tipqa.config import MINILM_MODEL
    return query_embedder(load_settings(model=MINILM_MODEL))


def minilm_settings(tmp_path):
    from tipqa.config import MINILM_MODEL
    return load_settings(index_dir=tmp_path / "index", model=MINILM_MODEL)


def default_weights_sha256() -> str:
    from pathlib import Path
    return weights_sha256(Path(resolve_model(load_settings().model).path))


def test_numpy_vectors_match_sentence_transformers(numpy_embedder, real_embedder):
    ours = numpy_embedder.embed_documents(TEXTS)
    theirs = real_embedder.embed_documents(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() >= 0.999, cosine
    for text in TEXTS[:2]:
        assert float(numpy_embedder.embed_query(text) @ real_embedder.embed_query(text)) >= 0.999


def test_same_model_id_and_weights_hash(numpy_embedder, real_embedder):
    assert numpy_embedder.model_id == real_embedder.model_id
    assert numpy_embedder.weights_hash == real_embedder.weights_hash == default_weights_sha256()
    assert numpy_embedder.dim == real_embedder.dim == 384


def test_onnx_int8_documents_stay_close_to_fp32(tmp_path, numpy_embedder, real_embedder):
    settings = load_settings(index_dir=tmp_path / "index")
    onnx_embedder = index_embedder(settings, numpy_embedder)
    assert onnx_embedder.kind == "onnx-int8"
    assert onnx_embedder.weights_hash == default_weights_sha256()
    passages = [SEED.read_text(encoding="utf-8")[i:i + 700] for i in range(0, 7000, 700)]
    cosine = (onnx_embedder.embed_documents(passages) * real_embedder.embed_documents(passages)).sum(axis=1)
    # int8 weights move vectors a little (retrieval quality is measured in bench/quality.py), never far.
    assert cosine.min() >= 0.97 and cosine.mean() >= 0.985, cosine
    # The exported graph is cached by weights hash (e5: beside its converted checkpoint): a second embedder reuses it.
    cached = list(onnx_embedder.path.parent.glob(f"*{onnx_embedder.weights_hash[:16]}-int8-*.onnx"))
    assert len(cached) == 1
    assert index_embedder(settings, numpy_embedder).path == cached[0]


def test_damaged_onnx_cache_is_rebuilt(tmp_path, minilm_embedder):
    settings = minilm_settings(tmp_path)
    first = index_embedder(settings, minilm_embedder)
    assert first.path.parent == tmp_path / "index" / "encoders"
    first.path.write_bytes(b"not an onnx graph")
    again = index_embedder(settings, minilm_embedder)  # checksum differs: exported again
    assert again.embed_documents(["Brazil proposed joint investigation teams."]).shape == (1, 384)


def test_minilm_stays_available_on_the_fast_path_with_its_checked_weights():
    from tipqa.config import MINILM_MODEL
    minilm = query_embedder(load_settings(model=MINILM_MODEL))
    assert isinstance(minilm, NumpyEmbedder) and minilm.weights_hash == MINILM_WEIGHTS_SHA256
    assert minilm.bert.prompts == {}  # no prefixes: e5's "query: " / "passage: " belong to e5
    assert supports(bundled_model_dir())


def test_encoder_setting_defaults_to_numpy_and_refuses_unknown_values():
    assert isinstance(query_embedder(load_settings()), NumpyEmbedder)
    with pytest.raises(ConfigError, match="'fast' or 'torch'"):
        load_settings(encoder="onnx")


def test_fast_path_gives_the_same_answer_as_sentence_transformers(settings, real_embedder):
    fast = Assistant.open(settings=settings)  # builds with ONNX int8, asks with numpy
    assert fast.data.manifest["model"]["encoder"] == "onnx-int8"
    assert fast.data.manifest["model"]["weights_sha256"] == default_weights_sha256()
    reference = Assistant.open(settings=settings.with_overrides(index_dir=settings.index_dir.parent / "st"),
                               embedder=real_embedder)
    # Unambiguous questions; on the whole seed evaluation set see bench/quality.py (int8 vs fp32 vectors).
    # ('Who chaired the drafting group?' is not one: two sentences say it, and int8 and fp32 pick one each)
    for question in (CANONICAL, "Which organization was Juan Carlos Murillo with?",
                     "Who chaired the second working group?"):
        a, b = fast.ask(question), reference.ask(question)
        assert a.answer == b.answer
        assert a.evidence.sentence == b.evidence.sentence
        assert a.passages[0].chunk_id == b.passages[0].chunk_id


@pytest.mark.slow
def test_cli_ask_does_not_import_torch(settings):
    Assistant.open(settings=settings)  # build first; the timed path is the question alone
    code = ("import sys\nfrom tipqa.cli import cli\n"
            "try:\n    cli(['ask', '--json', *sys.argv[1:]])\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, CANONICAL, "--corpus", str(settings.corpus_dir),
                           "--index", str(settings.index_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"] == "Brazil"
    assert "NO-TORCH" in done.stderr


def test_onnx_workers_give_the_same_vectors_as_one(tmp_path, numpy_embedder):
    from tipqa.encoders.onnx_bert import OnnxEmbedder
    passages = [SEED.read_text(encoding="utf-8")[i:i + 500] for i in range(0, 6000, 500)]
    one = OnnxEmbedder(numpy_embedder.model_id, numpy_embedder.folder, tmp_path, bert=numpy_embedder.bert, workers=1)
    two = OnnxEmbedder(numpy_embedder.model_id, numpy_embedder.folder, tmp_path, bert=numpy_embedder.bert, workers=2)
    assert two.workers == 2
    np.testing.assert_allclose(one.embed_documents(passages), two.embed_documents(passages), atol=1e-5)
    assert two.embed_documents([]).shape == (0, 384)


def test_sentences_encoded_as_questions_are_e5s_query_view_on_every_encoder(tmp_path, numpy_embedder, real_embedder):
    """The answer step's second view of a sentence (encoders.embed_as_questions): what sentence-transformers gives
    for 'query: ' + sentence, from the int8 graph's sessions in parallel and from the numpy pass alike, and
    not the passage view."""
    from tipqa.encoders import embed_as_questions
    from tipqa.encoders.onnx_bert import OnnxEmbedder
    sentences = TEXTS[1:4]
    reference = real_embedder._model.encode(["query: " + t for t in sentences], normalize_embeddings=True)
    int8 = OnnxEmbedder(numpy_embedder.model_id, numpy_embedder.folder, tmp_path, bert=numpy_embedder.bert, workers=2)
    for embedder, close in ((int8, 0.99), (numpy_embedder, 0.9999), (real_embedder, 0.9999)):
        vectors = embed_as_questions(embedder, sentences)
        one_by_one = np.stack([embedder.embed_query(t) for t in sentences])  # the batch is each text as a question
        assert np.all(np.sum(vectors * one_by_one, axis=1) >= 0.9999)
        assert vectors.shape == (3, 384)
        assert np.all(np.sum(vectors * reference, axis=1) >= close)
    passages = int8.embed_documents(sentences)
    assert np.sum(passages[0] * reference[0]) < 0.99  # the prompt is what makes it the other view
    assert embed_as_questions(int8, []).shape == (0, 384)


def test_torch_builds_store_the_same_sentence_vectors_in_context_as_onnx(tmp_path, numpy_embedder, real_embedder):
    """An index built with sentence-transformers holds each sentence's vector read in its passage, as the ONNX
    build does (the answer models were fitted on those), and its passage vectors are encode()'s."""
    from tipqa.encoders.onnx_bert import OnnxEmbedder
    from tipqa.text import sentence_spans
    texts = [TEXTS[2] + " Mexico encouraged all the member states to strengthen the rule of law. Chile agreed.",
             "La delegación de Chile propuso un directorio. Bolivia señaló la importancia de educar a los niños."]
    spans = [sentence_spans(t) for t in texts]
    vectors, parts = real_embedder.embed_passages(texts, spans)
    np.testing.assert_allclose(vectors, real_embedder.embed_documents(texts), atol=1e-5)
    int8 = OnnxEmbedder(numpy_embedder.model_id, numpy_embedder.folder, tmp_path, bert=numpy_embedder.bert)
    _, expected = int8.embed_passages(texts, spans)
    for mine, theirs, s in zip(parts, expected, spans):
        assert mine.shape == (len(s), 384)
        assert np.all(np.sum(mine * theirs, axis=1) >= 0.99)


def test_onnx_span_vectors_are_the_sentences_in_context(tmp_path, numpy_embedder):
    """A passage's sentence vectors (pooled from its own run) are each closest to that sentence on its own."""
    from tipqa.encoders.onnx_bert import OnnxEmbedder
    sentences = ["For its part, Brazil proposed the establishment of joint judicial investigation teams.",
                 "The meeting elected Ambassador Ricardes of Argentina as its President.",
                 "Ecuador presented its Consular Assistance Protocol as a best practice."]
    text = "Working group 1\n" + " ".join(sentences)
    spans, start = [], len("Working group 1\n")
    for sentence in sentences:
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    spans.append((len(text) + 5, len(text) + 9))  # outside the text (as when truncated): zeros
    encoder = OnnxEmbedder(numpy_embedder.model_id, numpy_embedder.folder, tmp_path, bert=numpy_embedder.bert)
    vectors, parts = encoder.embed_passages([text], [spans])
    np.testing.assert_allclose(vectors, encoder.embed_documents([text]), atol=1e-5)
    in_context = parts[0]
    assert in_context.shape == (4, 384) and not in_context[3].any()
    np.testing.assert_allclose(np.linalg.norm(in_context[:3], axis=1), 1.0, atol=1e-4)
    alone = numpy_embedder.embed_documents(sentences)
    similarity = in_context[:3] @ alone.T
    # Each sentence on its own is closest to its own in-context vector (e5's in-context vectors of one passage
    # are all close to its first sentence: 0.88 vs 0.88 the other way, so only this direction is a margin).
    assert list(similarity.argmax(axis=0)) == [0, 1, 2], similarity


def test_answer_sentences_use_the_prepared_int8_graph_and_never_export_one(tmp_path, minilm_embedder):
    from tipqa.encoders import sentence_embedder
    settings = minilm_settings(tmp_path)
    assert sentence_embedder(settings, minilm_embedder) is minilm_embedder  # nothing prepared: the numpy pass
    assert not (tmp_path / "index" / "encoders").exists()  # and no export at question time
    index_embedder(settings, minilm_embedder)  # a build prepares the graph
    onnx = sentence_embedder(settings, minilm_embedder)
    assert onnx.kind == "onnx-int8" and onnx.workers == 1
    cosine = (onnx.embed_documents(TEXTS[:3]) * minilm_embedder.embed_documents(TEXTS[:3])).sum(axis=1)
    assert cosine.min() >= 0.97, cosine


def test_warm_questions_open_the_fp32_graph_a_build_kept(tmp_path, minilm_embedder):
    """The int8 export keeps the fp32 graph it quantised: a long-lived process opens its question encoder from
    it (no graph written in memory); without it, the graph is written in memory, giving the same vectors."""
    from tipqa.encoders import fast_query_embedder
    from tipqa.encoders.onnx_bert import graph_path
    settings = minilm_settings(tmp_path)
    in_memory = fast_query_embedder(minilm_embedder, settings)  # nothing prepared yet
    assert in_memory.source == "memory"
    prepared = index_embedder(settings, minilm_embedder)  # a build prepares both graphs
    fp32 = graph_path(prepared.path.parent, minilm_embedder.weights_hash, int8=False)
    assert fp32.is_file() and fp32.with_name(fp32.name + ".sha256").is_file()
    from_file = fast_query_embedder(minilm_embedder, settings)
    assert from_file.source == str(fp32)
    np.testing.assert_allclose(from_file.embed_documents(TEXTS), in_memory.embed_documents(TEXTS), atol=1e-5)
    index_embedder(settings, minilm_embedder)  # a second embedder neither re-exports nor drops either graph
    assert sorted(p.name for p in fp32.parent.glob("*.onnx")) == sorted([prepared.path.name, fp32.name])
    fp32.write_bytes(b"damaged")  # not what its checksum says: written in memory instead
    assert fast_query_embedder(minilm_embedder, settings).source == "memory"


def test_prepared_graph_is_trusted_by_size_and_mtime_and_hashed_when_they_change(tmp_path, minilm_embedder,
                                                                                monkeypatch):
    import os

    from tipqa.encoders.onnx_bert import _intact
    settings = minilm_settings(tmp_path)
    graph = index_embedder(settings, minilm_embedder).path
    checksum = graph.with_name(graph.name + ".sha256")
    assert _intact(graph, checksum)
    stat = graph.stat()
    data = bytearray(graph.read_bytes())
    data[-10] ^= 0xFF
    graph.write_bytes(bytes(data))
    assert not _intact(graph, checksum)  # rewritten: a new mtime, so it is hashed, and the hash differs
    os.utime(graph, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _intact(graph, checksum)  # same size and mtime: trusted without hashing, as index files are
    monkeypatch.setenv("TIPQA_VERIFY", "full")
    assert not _intact(graph, checksum)


def test_onnx_question_encoder_computes_what_the_numpy_pass_does(numpy_embedder):
    from tipqa.encoders.onnx_bert import OnnxQueryEmbedder
    fast = OnnxQueryEmbedder(numpy_embedder.bert, numpy_embedder.model_id)
    assert (fast.model_id, fast.weights_hash, fast.dim) == (numpy_embedder.model_id, numpy_embedder.weights_hash, 384)
    cosine = (fast.embed_documents(TEXTS) * numpy_embedder.embed_documents(TEXTS)).sum(axis=1)
    assert cosine.min() >= 0.99999, cosine  # TEXTS include a 400-word text: truncated alike
    np.testing.assert_allclose(fast.embed_query(TEXTS[1]), numpy_embedder.embed_query(TEXTS[1]), atol=1e-4)
    assert fast.embed_documents([]).shape == (0, 384)


def test_a_second_question_warms_the_process_up_with_the_same_answers(settings):
    from tipqa.config import cpu_cores
    from tipqa.encoders.onnx_bert import OnnxQueryEmbedder
    questions = [CANONICAL, "Who chaired the drafting group?", "Who chaired the second working group?",
                 "¿Qué país propuso equipos conjuntos de investigación?", "When was the meeting held?"]
    Assistant.open(settings=settings)  # build once
    # Each the first question of its own assistant: numpy questions, one int8 sentence session.
    cold = {q: Assistant.open(settings=settings).ask(q) for q in questions}
    warm = Assistant.open(settings=settings)
    warm.ask(questions[0])
    assert warm.question_embedder is warm.embedder  # a one-question `tipqa ask` pays for nothing more
    warm.ask(questions[1])
    assert isinstance(warm.question_embedder, OnnxQueryEmbedder)
    assert warm.sentence_embedder.kind == "onnx-int8" and warm.sentence_embedder.workers == min(cpu_cores(), 8)
    for question in questions:
        a, b = warm.ask(question), cold[question]
        assert (a.answer, a.evidence.sentence) == (b.answer, b.evidence.sentence), question
        assert [p.chunk_id for p in a.passages] == [p.chunk_id for p in b.passages], question
        # The encoders agree to ~1e-6 in a feature; the sentence model's trees read their features on a 1e-4 grid
        # (scoring.Trees), so no split lies next to a value they met in fitting (one had: 0.9648 against 0.9605).
        assert [p.score for p in a.passages] == pytest.approx([p.score for p in b.passages], abs=1e-4)


def test_warm_up_keeps_a_given_embedder(settings, hash_embedder):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    assistant.warm_up()
    assert assistant.question_embedder is hash_embedder and assistant.sentence_embedder is hash_embedder


def test_warm_up_that_fails_keeps_answering_with_numpy(settings, monkeypatch):
    import tipqa.encoders as engine

    def broken(*args):
        raise RuntimeError("no memory for a second graph")

    monkeypatch.setattr(engine, "fast_query_embedder", broken)
    messages = []
    assistant = Assistant.open(settings=settings, progress=lambda fraction, message: messages.append(message))
    first = assistant.ask(CANONICAL)
    second = assistant.ask(CANONICAL)  # warms up, which fails: a warning, and the same answer
    assert assistant.question_embedder is assistant.embedder
    assert any("faster encoders unavailable" in m and "no memory" in m for m in messages), messages
    assert (first.answer, first.evidence.sentence) == (second.answer, second.evidence.sentence)
