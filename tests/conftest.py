"""Shared fixtures: tests never touch the user's corpus/ or index/; the real model loads once per session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tipqa.config import load_settings
from tipqa.encoders.model import HashEmbedder
from tipqa.encoders.sbert import SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt"
SEED_ID = "oas-rtp-ii-2009-buenos-aires-report"
# Real public TIP documents (see tests/data/corpus-extra/SOURCES.md), vendored so CI needs nothing outside the repo.
EXTRA = ROOT / "tests" / "data" / "corpus-extra"
CANONICAL = "Which country proposed joint investigation teams?"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TIPQA_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("TIPQA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("TIPQA_MODEL", raising=False)


@pytest.fixture(scope="session")
def real_embedder():
    return SentenceTransformerEmbedder.default()


class CountingEmbedder:
    """Wraps an embedder and counts the texts sent to embed_documents (what a rebuild really costs)."""

    def __init__(self, inner):
        self.inner = inner
        self.model_id, self.weights_hash, self.dim = inner.model_id, inner.weights_hash, inner.dim
        self.texts: list[str] = []

    def embed_documents(self, texts):
        self.texts.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)

    def reset(self) -> None:
        self.texts.clear()


@pytest.fixture
def counting_real(real_embedder):
    return CountingEmbedder(real_embedder)


@pytest.fixture
def hash_embedder():
    return CountingEmbedder(HashEmbedder())


@pytest.fixture
def seed_corpus(tmp_path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    shutil.copy(SEED, corpus / SEED.name)
    shutil.copy(SEED.with_name(SEED.name + ".meta.json"), corpus / (SEED.name + ".meta.json"))
    return corpus


@pytest.fixture
def settings(seed_corpus, tmp_path):
    return load_settings(corpus_dir=seed_corpus, index_dir=tmp_path / "index")


@pytest.fixture
def second_report(tmp_path) -> Path:
    """A second real report: the RTP-III rapporteur's report excerpt."""
    source = EXTRA / "oas_rtp3_rapporteurs_report_guatemala_2012_en.txt"
    target = tmp_path / "incoming" / "rtp-iii-2012-guatemala.txt"
    target.parent.mkdir(exist_ok=True)
    shutil.copy(source, target)
    return target
