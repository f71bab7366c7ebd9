"""Assistant: the one object every front end uses (CLI, web app, benchmarks, Python API)."""
from __future__ import annotations

import functools
import hashlib
import shutil
import sys
import threading
import time
import unicodedata
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .speakers import attribution
from .answering.answer import Answer, build_answer, retrieval_text
from .ingest.chunking import CHUNKER_VERSION, Chunk, chunk_report
from .config import Settings, cpu_cores, load_settings
from .encoders.model import Embedder, resolve_model
from .encoders import fast_query_embedder, index_embedder, query_embedder, sentence_embedder
from .errors import (CorpusNotFound, EmptyCorpus, IndexCorrupt, IndexLocked, IndexNotFound, ModelMismatch,
                     QuestionError, ReportError, ReportNotFound, TipqaError)
from .hashing import sha256_file
from .store.files import IndexData, IndexStore
from .store.lexical import TOKENIZER
from .ingest.isolation import parse_many_isolated, parse_report_isolated
from .ingest.reports import Report, report_id_for, sidecar_path, supported_extensions
from .answering.retrieval import Hit, search

Progress = Callable[[float, str], None]
SENTENCE_CACHE_SIZE = 50_000  # x 384 float32 = 77 MB at most


def _stderr_progress(fraction: float, message: str) -> None:
    print(f"tipqa: {message}", file=sys.stderr, flush=True)


@dataclass
class BuildResult:
    """What a refresh did: per-report outcome, and how many texts were sent to the embedder."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # file name -> message
    embedded: int = 0
    chunks: int = 0
    generation: str | None = None
    seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # seconds: load, parse (+ attribution), embed, write

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        parts = [f"{len(v)} {k}" for k, v in (("added", self.added), ("updated", self.updated),
                                              ("removed", self.removed), ("unchanged", self.unchanged)) if v]
        text = ", ".join(parts) or "no reports"
        return (f"{text}; {self.embedded} passages embedded, {self.chunks} in the index"
                f" ({self.seconds:.1f} s)" + (f"; {len(self.errors)} file(s) skipped" if self.errors else ""))


@dataclass
class CorpusFile:
    report_id: str
    path: Path
    source_hash: str  # sha256 of the file and its sidecar metadata
    size: int
    mtime_ns: int


class Assistant:
    """Loads the index once, refreshes it from the corpus, and answers questions with citations."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None):
        self.settings = settings
        self.store = IndexStore(settings.index_dir)
        self.progress = progress or _stderr_progress
        self._embedder = embedder
        self._index_embedder: Embedder | None = embedder  # a given embedder serves builds too
        self._sentence_embedder: Embedder | None = embedder
        self._question_embedder: Embedder | None = embedder  # set by warm_up(); else questions use .embedder
        self._asked = 0  # questions answered by this process: the second one warms it up (see warm_up)
        self._embedder_lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._data: IndexData | None = None
        # Sentence vectors for the answer step, by text: the same passages come back question after question,
        # and encoding their sentences was most of an answer's time (bench/latency.py).
        self._sentence_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sentence_cache_lock = threading.Lock()
        self._prechecked: dict[str, Report] = {}  # parsed by add() already: refresh() need not parse them again

    @classmethod
    def open(cls, corpus_dir: str | Path | None = None, index_dir: str | Path | None = None, *,
             settings: Settings | None = None, embedder: Embedder | None = None, refresh: bool = True,
             progress: Progress | None = None) -> "Assistant":
        """Open the index, building or refreshing it first when the corpus changed since the live generation."""
        settings = (settings or load_settings()).with_overrides(
            corpus_dir=Path(corpus_dir) if corpus_dir is not None else None,
            index_dir=Path(index_dir) if index_dir is not None else None,
        )
        assistant = cls(settings, embedder=embedder, progress=progress)
        if refresh:
            assistant.refresh_if_needed()
        else:
            assistant._data = assistant._load_checked()
        return assistant

    def refresh_if_needed(self) -> BuildResult | None:
        """Load the live generation; rebuild only when the corpus changed (a reader never waits on a writer).

        Returns:
            What the refresh did, or None when the live generation was up to date (or a build is running
            elsewhere, in which case questions are answered from the live generation meanwhile).
        """
        try:
            data = self._load_checked()
        except ModelMismatch:
            raise
        except (IndexNotFound, IndexCorrupt):
            return self.refresh()
        if not self._corpus_changed(data):
            self._data = data
            return None
        try:
            with self.store.lock(wait_seconds=0):
                pass
        except IndexLocked:
            self._data = data
            self.progress(0.0, "warning: another build is running; answering from the current index meanwhile.")
            return None
        return self.refresh()

    def _corpus_changed(self, data: IndexData) -> bool:
        files = self.scan_corpus()
        if {f.report_id for f in files} != set(data.reports):
            return True
        if data.manifest.get("chunking") != self._chunking():
            return True
        if not _attribution_current(data) or not _lexical_current(data):
            return True  # older rules or tokenizer: a new generation with the vectors reused
        return not all(self._unchanged(f, data.reports[f.report_id]) for f in files)

    # ---- model and index ---------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = query_embedder(self.settings)  # numpy, no torch import, for the bundled model
            return self._embedder

    @property
    def index_embedder(self) -> Embedder:
        """The encoder for building the index (ONNX Runtime int8 by default): same weights, faster in bulk."""
        return self._derived_embedder("_index_embedder", index_embedder)

    @property
    def sentence_embedder(self) -> Embedder:
        """The encoder of answer sentences that are not stored in the index (see encoders.sentence_embedder)."""
        return self._derived_embedder("_sentence_embedder", sentence_embedder)

    @property
    def question_embedder(self) -> Embedder:
        """The encoder of questions: after warm_up(), onnxruntime fp32; before, the numpy pass (same vectors)."""
        return self._question_embedder or self.embedder

    def warm_up(self) -> None:
        """Ready the faster encoders a long-lived process pays for once (~1 s): questions on onnxruntime fp32
        (~2.6 ms against ~11 ms for numpy) and the rescored answer sentences on one int8 session per core.

        The web app calls it at start; otherwise the second question a process asks does (so `tipqa eval`
        and a Python loop over questions get it, and a one-question `tipqa ask` does not pay for it). A given
        embedder (tests, custom models) is kept as is. Safe to call more than once: it also picks up an int8
        graph that a build in this process has prepared since the first question.
        """
        query = self.embedder
        if self._question_embedder is query:  # given at construction, or nothing faster: nothing to replace
            return
        try:
            question = self._question_embedder or fast_query_embedder(query)
            sentences = sentence_embedder(self.settings, query, workers=cpu_cores())
        except Exception as error:  # noqa: BLE001  a speed-up only: answering goes on with what it has
            self.progress(0.0, f"warning: faster encoders unavailable ({type(error).__name__}: {error}); "
                               f"questions keep the numpy encoder.")
            question, sentences = query, self._sentence_embedder
        with self._embedder_lock:
            self._question_embedder, self._sentence_embedder = question, sentences

    def _derived_embedder(self, attribute: str, make: Callable[[Settings, Embedder], Embedder]) -> Embedder:
        """An encoder made once from the settings and the query embedder (whose weights and tokenizer it shares)."""
        query = self.embedder
        with self._embedder_lock:
            if getattr(self, attribute) is None:
                setattr(self, attribute, make(self.settings, query))
            return getattr(self, attribute)

    def _encoder_kind(self) -> str | None:
        """What embedded this generation's new passages (None: nothing new was embedded)."""
        if self._index_embedder is None:
            return None
        return getattr(self._index_embedder, "kind", "sentence-transformers")

    @property
    def data(self) -> IndexData:
        if self._data is None:
            self._data = self._load_checked()
        return self._data

    def _expected_model_id(self) -> str:
        return self._embedder.model_id if self._embedder is not None else resolve_model(self.settings.model).model_id

    def _load_checked(self) -> IndexData:
        data = self.store.load()
        for warning in data.warnings:
            self.progress(0.0, f"warning: {warning}")
        expected = self._expected_model_id()
        if data.model_id != expected:
            raise ModelMismatch(
                f"The index in {self.settings.index_dir} was built with the model {data.model_id!r}, "
                f"but tipqa is set to use {expected!r}. Run 'tipqa build --rebuild' to re-embed the corpus, "
                f"or set TIPQA_MODEL back to {data.model_id!r}."
            )
        return data

    # ---- corpus --------------------------------------------------------------------------------
    def scan_corpus(self) -> list[CorpusFile]:
        corpus = Path(self.settings.corpus_dir)
        if not corpus.is_dir():
            raise CorpusNotFound(corpus)
        extensions = set(supported_extensions())
        files: list[CorpusFile] = []
        seen: set[str] = set()
        for path in sorted(corpus.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in extensions:
                continue
            report_id = report_id_for(path)
            if report_id in seen:  # 'a.txt' and 'a.pdf' both present
                report_id = f"{report_id}-{path.suffix.lower().lstrip('.')}"
            seen.add(report_id)
            stat = path.stat()
            files.append(CorpusFile(report_id, path, "", stat.st_size, stat.st_mtime_ns))
        return files

    def _source_hash(self, file: CorpusFile) -> str:
        digest = hashlib.sha256()
        sha256_file(file.path, digest)
        meta = sidecar_path(file.path)
        if meta.is_file():
            digest.update(b"\0meta\0" + meta.read_bytes())
        return digest.hexdigest()

    def _unchanged(self, file: CorpusFile, previous: dict | None) -> bool:
        if not previous or previous.get("source") != file.path.name:
            return False
        meta = sidecar_path(file.path)
        meta_mtime = meta.stat().st_mtime_ns if meta.is_file() else None
        if (previous.get("size"), previous.get("mtime_ns"), previous.get("meta_mtime_ns")) == (
                file.size, file.mtime_ns, meta_mtime):
            file.source_hash = previous["source_hash"]
            return True
        file.source_hash = self._source_hash(file)
        return file.source_hash == previous.get("source_hash")

    # ---- building ------------------------------------------------------------------------------
    def refresh(self, rebuild: bool = False) -> BuildResult:
        """Bring the index in line with the corpus: embed only new or changed passages, drop removed reports."""
        with self._build_lock, self.store.lock():
            started = time.perf_counter()
            old = self._load_for_refresh(rebuild)
            result = BuildResult()
            result.stages["load"] = time.perf_counter() - started
            files = self.scan_corpus()
            old_reports = old.reports if old else {}
            old_chunks = _by_report(old.chunks) if old else {}  # one pass, not one per report (1,000 reports)
            old_statements = _by_report(old.statements or []) if old else {}
            rechunk = old is not None and old.manifest.get("chunking") != self._chunking()
            reports_meta: dict[str, dict] = {}
            chunks: list[Chunk] = []
            statements: list[attribution.Statement] = []
            unchanged = {f.report_id for f in files
                         if old and not rechunk and self._unchanged(f, old_reports.get(f.report_id))}
            parsing = self._prefetch([f for f in files if f.report_id not in unchanged])
            for file in files:
                previous = old_reports.get(file.report_id)
                if file.report_id in unchanged:
                    kept = old_chunks.get(file.report_id, [])
                    chunks.extend(kept)
                    statements.extend(self._kept_statements(old, file, kept, old_statements))
                    reports_meta[file.report_id] = {**previous, "size": file.size, "mtime_ns": file.mtime_ns}
                    result.unchanged.append(file.report_id)
                    continue
                try:
                    new_chunks, meta, new_statements = self._parse(file, parsing.pop(file.path.name, None))
                except ReportError as error:
                    result.errors[file.path.name] = str(error)
                    self.progress(0.0, f"skipped {error}")
                    if previous and old:  # keep the last good version rather than lose the report
                        chunks.extend(old_chunks.get(file.report_id, []))
                        statements.extend(old_statements.get(file.report_id, []))
                        reports_meta[file.report_id] = previous
                    continue
                meta["added"] = previous.get("added", meta["added"]) if previous else meta["added"]
                chunks.extend(new_chunks)
                statements.extend(new_statements)
                reports_meta[file.report_id] = meta
                (result.updated if previous else result.added).append(file.report_id)
            result.removed = sorted(set(old_reports) - {f.report_id for f in files})
            model_changed = old is not None and old.model_id != self._expected_model_id()
            if old is not None and not (result.added or result.updated or result.removed or model_changed) \
                    and _attribution_current(old) and _lexical_current(old):
                self._data = old
                result.chunks, result.generation = len(old.chunks), old.generation
                result.seconds = time.perf_counter() - started
                return result
            previous = old if not model_changed else None
            result.stages["parse"] = time.perf_counter() - started - result.stages["load"]
            vectors, sentences, result.embedded, origin = self._vectors_for(chunks, previous)
            result.stages["embed"] = time.perf_counter() - started - result.stages["load"] - result.stages["parse"]
            embedder = self.embedder
            manifest = {
                "model": {"id": embedder.model_id, "weights_sha256": embedder.weights_hash, "dim": int(embedder.dim),
                          "normalized": True, "encoder": self._encoder_kind()},
                "chunking": self._chunking(),
                "lexical": {"tokenizer": TOKENIZER},
                "reports": reports_meta,
                "attribution": {"version": attribution.VERSION, "statements": len(statements)},
            }
            self._data = self.store.write(chunks, vectors, manifest, statements, sentences,
                                          reuse=(previous, origin) if previous is not None else None)
            result.chunks, result.generation = len(chunks), self._data.generation
            result.seconds = time.perf_counter() - started
            result.stages["write"] = result.seconds - sum(result.stages.values())
            result.stages = {k: round(v, 3) for k, v in result.stages.items()}
            self.progress(1.0, f"index {result.generation}: {result.summary()}")
            return result

    def _load_for_refresh(self, rebuild: bool) -> IndexData | None:
        if rebuild:
            return None
        if self._data is not None and self._data.generation == self.store.current_name() and not self._data.warnings:
            return self._data  # still the live generation, verified when loaded (a server adding a report)
        try:
            data = self.store.load()
        except IndexNotFound:
            return None
        except IndexCorrupt as error:
            self.progress(0.0, f"warning: {error} Rebuilding from the corpus.")
            return None
        for warning in data.warnings:
            self.progress(0.0, f"warning: {warning}")
        return data  # if the chunking changed, refresh re-chunks every report and reuses equal passages' vectors

    def _chunking(self) -> dict:
        return {"max_chars": self.settings.chunk_chars, "version": CHUNKER_VERSION}

    def _prefetch(self, files: list[CorpusFile]) -> dict[str, Future]:
        """Start the isolated parses of these files, so they run while the reports before them are chunked and
        attributed here: one child process per core, each parsing its share of the files one after another
        (a child's start-up was most of a text file's parse). Shares are balanced by file size; the caller takes
        the futures out as it reads them."""
        todo = [f for f in files if f.path.name not in self._prechecked]
        if len(todo) < 2:
            return {}
        shares: list[list[CorpusFile]] = [[] for _ in range(min(len(todo), cpu_cores()))]
        sizes = [0] * len(shares)
        for file in sorted(todo, key=lambda f: -f.size):  # largest first, each to the lightest share
            lightest = sizes.index(min(sizes))
            shares[lightest].append(file)
            sizes[lightest] += file.size
        futures = {f.path.name: Future() for f in todo}

        def parse(share: list[CorpusFile], mine: list[Future]) -> None:
            try:
                for future, (_, outcome) in zip(mine, parse_many_isolated([f.path for f in share], self.settings)):
                    if isinstance(outcome, ReportError):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
            except BaseException as error:  # noqa: BLE001  whatever stopped this share fails its files, not the build
                for future in mine:
                    if not future.done():
                        future.set_exception(error)

        for share in shares:
            share.sort(key=todo.index)  # in the order they are read here
            mine = [futures[f.path.name] for f in share]
            threading.Thread(target=parse, args=(share, mine), name="tipqa-parse", daemon=True).start()
        return futures

    def _parse(self, file: CorpusFile, parsing: Future | None = None
               ) -> tuple[list[Chunk], dict, list[attribution.Statement]]:
        report = self._prechecked.pop(file.path.name, None)
        if report is None or report.content_hash != sha256_file(file.path):
            # in a child process, so a crashing parser cannot take us down
            report = parsing.result() if parsing is not None else parse_report_isolated(file.path, self.settings)
        report.report_id = file.report_id
        chunks = chunk_report(report, self.settings.chunk_chars)
        if not file.source_hash:
            file.source_hash = self._source_hash(file)
        meta_file = sidecar_path(file.path)
        meta = {
            "report_id": file.report_id, "title": report.title, "date": report.date, "language": report.language,
            "source": file.path.name, "format": report.format, "source_hash": file.source_hash,
            "content_hash": report.content_hash, "size": file.size, "mtime_ns": file.mtime_ns,
            "meta_mtime_ns": meta_file.stat().st_mtime_ns if meta_file.is_file() else None,
            "sections": [s.path_text for s in report.sections], "chunks": len(chunks),
            "added": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        return chunks, meta, attribution.attribute_report(report, chunks)

    def _kept_statements(self, old: IndexData, file: CorpusFile, kept: list[Chunk],
                         old_statements: dict[str, list]) -> list[attribution.Statement]:
        """An unchanged report's statements: reused, or re-attributed on its kept chunks if the rules changed."""
        if _attribution_current(old):
            return old_statements.get(file.report_id, [])
        try:
            report = parse_report_isolated(file.path, self.settings)
        except ReportError as error:
            self.progress(0.0, f"warning: statements of {file.report_id} not updated ({error})")
            return []
        report.report_id = file.report_id
        return attribution.attribute_report(report, kept)

    def _vectors_for(self, chunks: list[Chunk], old: IndexData | None) -> tuple[np.ndarray, tuple | None, int, np.ndarray]:
        """Passage and sentence vectors: reused for passages whose content hash the old generation has, the
        rest embedded. Returns (vectors, (sentence vectors, first row per passage) or None, embedded, origin):
        origin is each chunk's row in the old generation, -1 for new ones."""
        known: dict[str, int] = {c.content_hash: i for i, c in enumerate(old.chunks)} if old is not None else {}
        origin = np.fromiter((known.get(c.content_hash, -1) for c in chunks), dtype=np.int64, count=len(chunks))
        todo, reuse = np.flatnonzero(origin < 0), np.flatnonzero(origin >= 0)
        dim = self.embedder.dim
        vectors = np.zeros((len(chunks), dim), dtype=np.float32)
        if len(reuse):
            vectors[reuse] = old.all_vectors()[origin[reuse]]
        encoder = self.index_embedder
        spans = getattr(encoder, "embed_passages", None)  # the ONNX encoder gives sentence vectors in the same run
        counts = np.fromiter((len(c.sentences) for c in chunks), dtype=np.int64, count=len(chunks))
        first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(chunks) else counts
        keep_sentences = spans is not None or (old is not None and old.sentences is not None and len(reuse) > 0)
        sentences = np.zeros((int(counts.sum()) if keep_sentences else 0, dim), dtype=np.float16)
        if keep_sentences and len(reuse) and old.sentences is not None:
            n = counts[reuse]
            offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
            source = np.repeat(old.sentences.start[origin[reuse]], n) + offsets
            sentences[np.repeat(first[reuse], n) + offsets] = old.sentences.vectors[source]
        batch = 256
        for start in range(0, len(todo), batch):
            rows = todo[start:start + batch]
            self.progress(start / max(len(todo), 1), f"embedding passages {start + 1}-{start + len(rows)} of {len(todo)}")
            texts = [chunks[i].embedding_text() for i in rows]
            if spans is None:
                vectors[rows] = encoder.embed_documents(texts)
                continue
            shift = [len(chunks[i].section_text) + 1 for i in rows]  # embedding_text() = section path + newline + text
            vectors[rows], parts = spans(texts, [[(a + k, b + k) for a, b in chunks[i].sentences]
                                                 for i, k in zip(rows, shift)])
            for i, part in zip(rows, parts):
                sentences[first[i]:first[i] + counts[i]] = part
        return vectors, (sentences, first) if keep_sentences else None, len(todo), origin

    # ---- corpus management ---------------------------------------------------------------------
    def add(self, paths: Iterable[str | Path]) -> BuildResult:
        """Copy report files into the corpus and index them. Files that cannot be read are reported, not copied."""
        corpus = Path(self.settings.corpus_dir)
        if not corpus.is_dir():
            raise CorpusNotFound(corpus)
        errors: dict[str, str] = {}
        known = self._indexed_hashes()
        for raw in paths:
            path = Path(raw)
            try:
                report = parse_report_isolated(path, self.settings)  # refuse bad files before they reach the corpus
                self._refuse_duplicate(path, report, known)
            except ReportError as error:
                errors[path.name] = str(error)
                continue
            target = corpus / path.name
            if path.resolve() != target.resolve() and target.exists():
                errors[path.name] = (f"{path.name}: the corpus already holds a different report under this name; "
                                     f"rename the file, or run 'tipqa remove {report_id_for(target)}' first.")
                continue
            known[report.content_hash] = (report_id_for(path), path.name)
            self._prechecked[path.name] = report
            if path.resolve() != target.resolve():
                shutil.copy2(path, target)
                meta = sidecar_path(path)
                if meta.is_file():
                    shutil.copy2(meta, corpus / meta.name)
        result = self.refresh()
        result.errors.update(errors)
        return result

    def _indexed_hashes(self) -> dict[str, tuple[str, str]]:
        """Content hash -> (report id, file name) of every report in the live index (from its manifest only:
        the refresh that follows loads and verifies the whole generation once)."""
        reports = self._data.reports if self._data is not None else (self.store.live_manifest() or {}).get("reports", {})
        return {m["content_hash"]: (rid, m.get("source", "")) for rid, m in reports.items() if m.get("content_hash")}

    @staticmethod
    def _refuse_duplicate(path: Path, report: Report, known: dict[str, tuple[str, str]]) -> None:
        if report.content_hash not in known:
            return
        report_id, source = known[report.content_hash]
        if source == path.name:
            raise ReportError(f"{path.name}: already indexed as {report_id}, with the same content; nothing to add.")
        raise ReportError(
            f"{path.name}: an exact copy of {source}, already indexed as {report_id}; it was not added again. "
            f"To replace that report, run 'tipqa remove {report_id}' first."
        )

    def remove(self, report_id: str) -> BuildResult:
        files = {f.report_id: f for f in self.scan_corpus()}
        if report_id not in files:
            raise ReportNotFound(report_id, sorted(files))
        path = files[report_id].path
        path.unlink()
        meta = sidecar_path(path)
        if meta.is_file():
            meta.unlink()
        return self.refresh()

    def reports(self) -> list[dict]:
        return [dict(meta, report_id=rid) for rid, meta in sorted(self.data.reports.items())]

    # ---- questions -----------------------------------------------------------------------------
    def check_question(self, question: str) -> str:
        question = " ".join((question or "").split())
        if not question:
            raise QuestionError("The question is empty. Ask something like: "
                                "\"Which country proposed joint investigation teams?\"")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionError(f"The question is {len(question):,} characters long; the limit is {limit:,}. "
                                f"Ask the question itself in a sentence or two.")
        letters = [c for c in question if c.isalpha()]
        if not letters:
            raise QuestionError("The question has no words in it. Ask in English or Spanish.")
        latin = sum("LATIN" in unicodedata.name(c, "") for c in letters)
        if latin / len(letters) < 0.5:
            raise QuestionError("tipqa answers questions in English or Spanish (Latin script), and the reports are "
                                "in those languages. Please ask again in English or Spanish.")
        return question

    def _answerable_data(self, report: str | None) -> IndexData:
        data = self.data
        if not data.reports:
            raise EmptyCorpus(Path(self.settings.corpus_dir))
        if report is not None and report not in data.reports:
            raise ReportNotFound(report, sorted(data.reports))
        return data

    def search(self, question: str, k: int | None = None, report: str | None = None, mode: str = "hybrid") -> list[Hit]:
        question = self.check_question(question)
        data = self._answerable_data(report)
        query = self.question_embedder.embed_query(question)
        return search(data, query, question, k or self.settings.top_k, report=report, mode=mode)

    def ask(self, question: str, k: int | None = None, report: str | None = None) -> Answer:
        question = self.check_question(question)
        data = self._answerable_data(report)  # one generation for the whole question, even if a rebuild swaps in
        listed = self._statements_reply(question, data, report)
        if listed is not None:
            return listed
        self._asked += 1
        if self._asked == 2:
            self.warm_up()  # a process that asks again will likely ask more
        text = retrieval_text(question)  # Spanish questions are searched in English (glossary + entity names)
        query = self.question_embedder.embed_query(text)
        hits = search(data, query, text, k or self.settings.top_k, report=report)
        return build_answer(question, hits, functools.partial(self._stored_sentence_vectors, data), query)

    def _stored_sentence_vectors(self, data: IndexData, texts: list[str], sources) -> np.ndarray:
        """Answer-candidate sentence vectors read from the generation (built with them), else encoded.

        A text of two sentences ('It also ...' read with the one before) gets the normalised mean of theirs."""
        if data.sentences is None or sources is None:
            return self.sentence_vectors(texts)
        out = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        missing = []
        for i, (hit, spans) in enumerate(sources):
            sentences = hit.chunk.sentences
            index = [sentences.index(span) for span in spans]
            rows = data.sentences.rows(hit.row, len(sentences))[index] if hit.row >= 0 else None
            if rows is None or not np.all(rows.any(axis=1)):  # a zero row: not stored (see SentenceVectors)
                missing.append(i)
                continue
            mean = rows.mean(axis=0)
            out[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        if missing:
            out[missing] = self.sentence_vectors([texts[i] for i in missing])
        return out

    def sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings of answer-candidate sentences, from a bounded LRU cache where already seen."""
        with self._sentence_cache_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._sentence_cache))
        fresh = self.sentence_embedder.embed_documents(missing) if missing else None
        with self._sentence_cache_lock:
            for text, vector in zip(missing, fresh if fresh is not None else []):
                self._sentence_cache[text] = vector
            rows = []
            for text in texts:
                vector = self._sentence_cache.get(text)
                if vector is None:  # evicted by a concurrent question meanwhile
                    vector = self.sentence_embedder.embed_documents([text])[0]
                self._sentence_cache[text] = vector
                self._sentence_cache.move_to_end(text)
                rows.append(vector)
            while len(self._sentence_cache) > SENTENCE_CACHE_SIZE:
                self._sentence_cache.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, self.embedder.dim), dtype=np.float32)

    # ---- who said what -------------------------------------------------------------------------
    def speaker(self, name: str) -> dict:
        """The canonical speaker ({kind, id, name}) NAME means, in any language or alias ('México', 'ONUDD')."""
        return attribution.find_speaker(name, self.data.statements or [])

    def statements(self, speaker: str, report: str | None = None) -> list[attribution.Statement]:
        """Every statement SPEAKER made (in report and sentence order), optionally in one report only."""
        data = self.data
        if report is not None and report not in data.reports:
            raise ReportNotFound(report, sorted(data.reports))
        return attribution.statements_of(self.speaker(speaker)["id"], data.statements or [], report)

    def speakers(self, report: str | None = None) -> list[dict]:
        """Everyone with statements: {kind, id, name, count, reports: {report_id: count}}, most statements first."""
        chosen = [s for s in self.data.statements or [] if report is None or s.report_id == report]
        found = attribution.speakers(chosen)
        for entry in found:
            entry["reports"] = {}
            for s in attribution.statements_of(entry["id"], chosen):
                entry["reports"][s.report_id] = entry["reports"].get(s.report_id, 0) + 1
        return found

    def _statements_reply(self, question: str, data: IndexData, report: str | None) -> Answer | None:
        """'What did Mexico say?' / '¿Qué dijo México?': every statement, grouped by report and section.
        'What did Chile say about joint investigation teams?': Chile's statements, the closest to the topic first."""
        topical = attribution.topic_question(question)
        named = topical[0] if topical else attribution.speaker_question(question)
        if named is None:
            return None
        try:
            speaker = attribution.find_speaker(named, data.statements or [])
        except attribution.SpeakerNotFound:
            return None  # 'What did the report say?': not a speaker, answer it the usual way
        found = attribution.statements_of(speaker["id"], data.statements or [], report)
        if not found:
            return None
        chunks = {c.chunk_id: c for c in data.chunks}
        if topical is None:
            return attribution.statements_answer(question, speaker, found, chunks, data.reports)
        topic = self.question_embedder.embed_query(retrieval_text(question))
        scores = self.sentence_vectors([s.sentence for s in found]) @ topic
        order = np.argsort(-scores, kind="stable")
        return attribution.topical_answer(question, [found[i] for i in order], [float(scores[i]) for i in order], chunks)


def _by_report(chunks: list[Chunk]) -> dict[str, list[Chunk]]:
    grouped: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        grouped.setdefault(chunk.report_id, []).append(chunk)
    return grouped


__all__ = ["Assistant", "BuildResult", "TipqaError"]


def _lexical_current(data: IndexData) -> bool:
    """BM25 is rebuilt from the passage texts on every write; a new tokenizer only needs a new generation."""
    return data.manifest.get("lexical", {}).get("tokenizer") == TOKENIZER


def _attribution_current(data: IndexData) -> bool:
    return data.statements is not None and data.manifest.get("attribution", {}).get("version") == attribution.VERSION

