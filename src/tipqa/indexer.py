"""The write side: the corpus folder in, a new generation of the store out, re-embedding only what changed.

Indexer.refresh scans corpus/, parses new or changed reports in child processes (ingest.isolation), chunks them
(ingest.chunking), attributes their statements (speakers.attribution), embeds the new passages (encoders) and
writes the generation (store); add and remove change the corpus folder, then refresh.
"""
from __future__ import annotations

import contextlib
import hashlib
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .build_result import BuildResult
from .config import Settings
from .encoders import Encoders
from .errors import CopyError, CorpusNotFound, IndexCorrupt, IndexNotFound, ReportError, ReportNotFound, TipqaError
from .hashing import sha256_file
from .ingest import corpus as corpus_folder
from .ingest.chunking import CHUNKER_VERSION, Chunk, chunk_report
from .ingest.isolation import parse_report_isolated, prefetch_parses
from .ingest.meeting import meeting_facts
from .ingest.reports import Report, has_sidecar, report_id_for, sidecar_path, supported_extensions
from .speakers import attribution
from .speakers.statements import Statement
from .store.base import Generation, Store
from .store.lexical import TOKENIZER, report_language

Progress = Callable[[float, str], None]


def stderr_progress(fraction: float, message: str) -> None:
    print(f"tipqa: {message}", file=sys.stderr, flush=True)


@dataclass
class CorpusFile:
    report_id: str
    path: Path
    source_hash: str  # sha256 of the file and its sidecar metadata
    size: int
    mtime_ns: int


class LiveGeneration:
    """The generation a process answers from: put here by the write side when it makes one live, read by the read
    side (each question keeps the one it started with, so a swap mid-question is harmless)."""

    def __init__(self) -> None:
        self.data: Generation | None = None


class Indexer:
    """Keeps a store in line with the corpus folder. One build at a time per process (and per store: its lock)."""

    def __init__(self, settings: Settings, store: Store, encoders: Encoders, progress: Progress,
                 live: LiveGeneration | None = None):
        """live: where the generation this process answers from is kept; each refresh puts the one it makes live
        (or finds current) there, and starts from it when it is still the store's live one."""
        self.settings = settings
        self.store = store
        self.encoders = encoders
        self.progress = progress
        self.live = live or LiveGeneration()
        self.lock = threading.Lock()
        self._prechecked: dict[str, Report] = {}  # parsed by add() already: refresh() need not parse them again
        self._refused: dict[str, str] = {}  # corpus files the last scan left out (symlinks, special files)

    def corpus_changed(self, data: Generation) -> bool:
        """Whether the corpus (or the chunking, attribution or BM25 rules) changed since this generation was built."""
        files = self.scan_corpus()
        if set(self._refused) - set(_quarantine(data)):
            return True  # a refused file not yet recorded as quarantined
        held = [f for f in files if _still_quarantined(f, data)]
        files = [f for f in files if f not in held]
        kept = {f.report_id for f in held if f.report_id in data.reports}
        if {f.report_id for f in files} | kept != set(data.reports):
            return True
        if data.manifest.get("chunking") != self._chunking():
            return True
        if not _attribution_current(data) or not _lexical_current(data):
            return True  # older rules or tokenizer: a new generation with the vectors reused
        return not all(self._unchanged(f, data.reports[f.report_id]) for f in files)

    def refresh(self, rebuild: bool = False, only: set[str] | None = None, drop: frozenset[str] = frozenset()
                ) -> BuildResult:
        """Bring the index in line with the corpus: embed only new or changed passages, drop removed reports.
        A previous generation found damaged while its parts are copied is not used: everything is rebuilt.

        only: look at these report ids of the corpus folder alone, and keep every other report of the live
        generation as it is (less those in drop): how add/remove change a shared store, whose reports come from
        other machines' folders too."""
        try:
            return self._refresh(rebuild, only, drop)
        except IndexCorrupt as error:
            live = self.live.data
            if rebuild or live is None or only is not None:  # a shared store is not rebuilt from one folder
                raise
            self.progress(0.0, f"warning: {error} Rebuilding from the corpus.")
            getattr(self.store, "mark_damaged", lambda *a: None)(live.generation, str(error))
            self.live.data = None
            return self._refresh(True)

    def _refresh(self, rebuild: bool, only: set[str] | None = None, drop: frozenset[str] = frozenset()
                 ) -> BuildResult:
        with self.lock, self.store.lock():
            started = time.perf_counter()
            old = self._load_for_refresh(rebuild)
            result = BuildResult()
            result.stages["load"] = time.perf_counter() - started
            if Path(self.settings.corpus_dir).is_dir():
                corpus_folder.sweep_partial(Path(self.settings.corpus_dir))
            files = self.scan_corpus()
            quarantined = {name: {"reason": reason} for name, reason in self._refused.items()}
            old_reports = old.reports if old else {}
            if only is not None:
                files = [f for f in files if f.report_id in only]
                elsewhere = sorted(set(old_reports) - {f.report_id for f in files} - set(drop))
                files += [CorpusFile(r, Path(old_reports[r].get("source", r)), old_reports[r].get("source_hash", ""),
                                     -1, -1) for r in elsewhere]
            old_chunks = _by_report(old.chunks) if old else {}  # one pass, not one per report (1,000 reports)
            old_statements = _by_report(old.statements or []) if old else {}
            rechunk = old is not None and old.manifest.get("chunking") != self._chunking()
            reports_meta: dict[str, dict] = {}
            chunks: list[Chunk] = []
            statements: list[Statement] = []
            unchanged = {f.report_id for f in files
                         if old and not rechunk and (f.size < 0 or self._unchanged(f, old_reports.get(f.report_id)))}
            held = {f.report_id for f in files if old and f.size >= 0 and _still_quarantined(f, old)}
            to_parse = [f for f in files if f.report_id not in unchanged | held]
            parsing = self._prefetch(to_parse)
            if to_parse:  # new or changed reports, so most likely passages to embed: ready the encoder meanwhile
                self.encoders.prepare_index()
            for file in files:
                previous = old_reports.get(file.report_id)
                if file.report_id in held:  # failed before and unchanged since: not parsed again
                    quarantined[file.path.name] = _quarantine(old)[file.path.name]
                    if previous:
                        chunks.extend(old_chunks.get(file.report_id, []))
                        statements.extend(old_statements.get(file.report_id, []))
                        reports_meta[file.report_id] = previous
                    continue
                if file.report_id in unchanged:
                    kept = old_chunks.get(file.report_id, [])
                    chunks.extend(kept)
                    statements.extend(self._kept_statements(old, file, kept, old_statements))
                    reports_meta[file.report_id] = previous if file.size < 0 else \
                        {**previous, "size": file.size, "mtime_ns": file.mtime_ns}
                    result.unchanged.append(file.report_id)
                    continue
                try:
                    new_chunks, meta, new_statements = self._parse(file, parsing.pop(file.path.name, None))
                except ReportError as error:
                    result.errors[file.path.name] = str(error)
                    quarantined[file.path.name] = {"reason": str(error), "size": file.size, "mtime_ns": file.mtime_ns,
                                                   "kept": bool(previous and old)}
                    self.progress(0.0, f"quarantined {error}")
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
            result.quarantined = {name: q["reason"] for name, q in quarantined.items()}
            for name, reason in self._refused.items():
                result.errors.setdefault(name, reason)
            model_changed = old is not None and old.model_id != self.encoders.expected_model_id()
            if old is not None and not (result.added or result.updated or result.removed or model_changed) \
                    and _quarantine(old) == quarantined and _attribution_current(old) and _lexical_current(old):
                self.encoders.release_index()  # prepared for passages that turned out unchanged
                self.live.data = old
                result.chunks, result.generation = len(old.chunks), old.generation
                result.seconds = time.perf_counter() - started
                return result
            previous = old if not model_changed else None
            result.stages["parse"] = time.perf_counter() - started - result.stages["load"]
            vectors, sentences, result.embedded, origin = self._vectors_for(chunks, previous)
            result.stages["embed"] = time.perf_counter() - started - result.stages["load"] - result.stages["parse"]
            embedder = self.encoders.query
            manifest = {
                "model": {"id": embedder.model_id, "weights_sha256": embedder.weights_hash, "dim": int(embedder.dim),
                          "normalized": True, "encoder": self.encoders.index_kind()},
                "chunking": self._chunking(),
                "lexical": {"tokenizer": TOKENIZER},
                "reports": reports_meta,
                "attribution": {"version": attribution.VERSION, "statements": len(statements)},
                "quarantined": quarantined,
            }
            written = self.store.write(chunks, vectors, manifest, statements, sentences,
                                       reuse=(previous, origin) if previous is not None else None)
            self.live.data = written
            result.chunks, result.generation = len(chunks), written.generation
            result.seconds = time.perf_counter() - started
            result.stages["write"] = result.seconds - sum(result.stages.values())
            result.stages = {k: round(v, 3) for k, v in result.stages.items()}
            self.progress(1.0, f"index {result.generation}: {result.summary()}")
            return result

    def add(self, paths: Iterable[str | Path]) -> BuildResult:
        """Copy report files into the corpus and index them. Files that cannot be read are reported, not copied.

        Each copy is atomic (a hidden temporary name, fsync, rename). If the index cannot be written (a full
        disk), the files this call copied are taken out again, so the corpus matches the live index."""
        corpus = Path(self.settings.corpus_dir)
        if not corpus.is_dir():
            raise CorpusNotFound(corpus)
        errors: dict[str, str] = {}
        copied: list[Path] = []
        notes: list[str] = []
        known = self._indexed_hashes()
        for raw in paths:
            path = Path(raw)
            try:
                corpus_folder.check_source(path)
                target = corpus / corpus_folder.stored_name(path.name)
                inside = path.resolve() == target.resolve()
                already = not inside and target.is_file() and corpus_folder.same_bytes(path, target)
                report = parse_report_isolated(path, self.settings)  # refuse bad files before they reach the corpus
                if not already:
                    self._refuse_duplicate(path, report, known)
            except ReportError as error:
                errors[path.name] = str(error)
                continue
            if not inside and not already and target.exists():
                errors[path.name] = (f"{path.name}: the corpus already holds a different report under this name; "
                                     f"rename the file, or run 'tipqa remove {report_id_for(target)}' first.")
                continue
            if already:  # an earlier add copied it (and was stopped before indexing, or indexed it)
                notes.append(f"{path.name}: already in the corpus as {target.name}; indexing it if needed.")
            if target.name != path.name:
                notes.append(f"{path.name}: stored as {target.name} (the name was too long to keep).")
            known[report.content_hash] = (report_id_for(target), target.name)
            self._prechecked[target.name] = report
            if not inside and not already:
                try:
                    meta = sidecar_path(path)
                    if has_sidecar(path):
                        corpus_folder.copy_in(meta, sidecar_path(target))
                        copied.append(sidecar_path(target))
                    corpus_folder.copy_in(path, target)
                    copied.append(target)
                except OSError as error:
                    self._undo_copies(copied)
                    raise CopyError(path, corpus, error) from None
        try:
            result = self._refresh_added()
        except TipqaError:
            self._undo_copies(copied)
            raise
        result.errors.update(errors)
        result.notes = notes + result.notes
        return result

    @staticmethod
    def _undo_copies(copied: list[Path]) -> None:
        for path in copied:
            with contextlib.suppress(OSError):
                path.unlink()

    def remove(self, report_id: str) -> BuildResult:
        """Move a report (and its sidecar) to the corpus trash and drop it from the index ('tipqa restore' brings
        it back). Run again after a kill, it finishes the job: a report already out of the corpus but still
        indexed is dropped from the index."""
        files = {f.report_id: f for f in self.scan_corpus()}
        corpus = Path(self.settings.corpus_dir)
        if report_id not in files:
            shared = getattr(self.store, "shared", False)  # another process may have added it: ask the store
            indexed = self.live.data.reports if self.live.data is not None and not shared else \
                (self.store.live_manifest() or {}).get("reports", {})
            if report_id in indexed:
                result = self._refresh_removed(report_id)
                result.notes.insert(0, f"{report_id} was already out of the corpus; removed it from the index.")
                return result
            if any(item["report_id"] == report_id for item in corpus_folder.trashed(corpus)):
                result = BuildResult(notes=[f"{report_id} is already removed (it is in the trash: "
                                            f"'tipqa restore {report_id}' brings it back)."])
                result.chunks = len(self.live.data.chunks) if self.live.data is not None else 0
                return result
            raise ReportNotFound(report_id, sorted(files))
        path = files[report_id].path
        trash = corpus_folder.move_to_trash(path)
        try:
            result = self._refresh_removed(report_id)
        except TipqaError:
            corpus_folder.restore_from_trash(corpus, report_id)  # the corpus goes back to what is indexed
            raise
        result.notes.insert(0, f"{report_id} moved to the trash ({trash}); 'tipqa restore {report_id}' brings it back.")
        return result

    def restore(self, report_id: str) -> BuildResult:
        """Bring a removed report back from the trash and index it again."""
        corpus = Path(self.settings.corpus_dir)
        if report_id in {f.report_id for f in self.scan_corpus()}:  # restored already (a re-run after a kill)
            result = self.refresh()
            result.notes.insert(0, f"{report_id} is already back in the corpus; it is indexed.")
            return result
        path = corpus_folder.restore_from_trash(corpus, report_id)
        try:
            return self.refresh()
        except TipqaError:
            corpus_folder.move_to_trash(path)
            raise

    def _refresh_added(self) -> BuildResult:
        """After add() copied files in: a shared store indexes those alone (keeping every other report)."""
        if not getattr(self.store, "shared", False):
            return self.refresh()
        return self.refresh(only={f.report_id for f in self.scan_corpus() if f.path.name in self._prechecked})

    def _refresh_removed(self, report_id: str) -> BuildResult:
        """After remove() took a report out of the folder: a shared store drops that one alone."""
        if not getattr(self.store, "shared", False):
            return self.refresh()
        return self.refresh(only=set(), drop=frozenset({report_id}))

    def scan_corpus(self) -> list[CorpusFile]:
        corpus = Path(self.settings.corpus_dir)
        if not corpus.is_dir():
            raise CorpusNotFound(corpus)
        extensions = set(supported_extensions())
        files: list[CorpusFile] = []
        seen: set[str] = set()
        self._refused = {}
        for path in sorted(corpus.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() not in extensions or path.is_dir():
                continue
            try:
                corpus_folder.check_source(path)
            except ReportError as error:  # a symlink, a FIFO, an unstorable name: left out, shown in 'reports'
                self._refused[path.name] = str(error)
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

    def _load_for_refresh(self, rebuild: bool) -> Generation | None:
        if rebuild:
            return None
        live = self.live.data
        if live is not None and live.generation == self.store.current_name() and not live.warnings:
            return live  # still the live generation, verified when loaded (a server adding a report)
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
        """Start the isolated parses of these files (see ingest.isolation.prefetch_parses)."""
        todo = [f for f in files if f.path.name not in self._prechecked]
        return prefetch_parses([(f.path, f.size) for f in todo], self.settings)

    def _parse(self, file: CorpusFile, parsing: Future | None = None
               ) -> tuple[list[Chunk], dict, list[Statement]]:
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
            "report_id": file.report_id, "title": report.title, "date": report.date,
            "language": report.language or report_language([c.text for c in chunks]),
            "place": report.place, "meeting": meeting_facts(report, chunks),
            "source": file.path.name, "format": report.format, "source_hash": file.source_hash,
            "content_hash": report.content_hash, "size": file.size, "mtime_ns": file.mtime_ns,
            "meta_mtime_ns": meta_file.stat().st_mtime_ns if meta_file.is_file() else None,
            "sections": [s.path_text for s in report.sections], "chunks": len(chunks),
            "added": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        return chunks, meta, attribution.attribute_report(report, chunks)

    def _kept_statements(self, old: Generation, file: CorpusFile, kept: list[Chunk],
                         old_statements: dict[str, list]) -> list[Statement]:
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

    def _vectors_for(self, chunks: list[Chunk], old: Generation | None) -> tuple[np.ndarray, tuple | None, int, np.ndarray]:
        """Passage and sentence vectors: reused for passages whose content hash the old generation has, the
        rest embedded. Returns (vectors, (sentence vectors, first row per passage) or None, embedded, origin):
        origin is each chunk's row in the old generation, -1 for new ones."""
        known: dict[str, int] = {c.content_hash: i for i, c in enumerate(old.chunks)} if old is not None else {}
        origin = np.fromiter((known.get(c.content_hash, -1) for c in chunks), dtype=np.int64, count=len(chunks))
        todo, reuse = np.flatnonzero(origin < 0), np.flatnonzero(origin >= 0)
        dim = self.encoders.query.dim
        vectors = np.zeros((len(chunks), dim), dtype=np.float32)
        kept_by_store = getattr(self.store, "keeps_reused", False)  # the database copies them itself: not read
        if len(reuse) and not kept_by_store:
            vectors[reuse] = old.all_vectors()[origin[reuse]]
        encoder = self.encoders.index
        spans = getattr(encoder, "embed_passages", None)  # the ONNX encoder gives sentence vectors in the same run
        counts = np.fromiter((len(c.sentences) for c in chunks), dtype=np.int64, count=len(chunks))
        first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(chunks) else counts
        keep_sentences = spans is not None or (old is not None and old.sentences is not None and len(reuse) > 0)
        sentences = np.zeros((int(counts.sum()) if keep_sentences else 0, dim), dtype=np.float16)
        if keep_sentences and len(reuse) and old.sentences is not None and not kept_by_store:
            n = counts[reuse]
            offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
            source = np.repeat(old.sentences.start[origin[reuse]], n) + offsets
            sentences[np.repeat(first[reuse], n) + offsets] = old.sentences.take(source)
        batch = 256
        for start in range(0, len(todo), batch):
            rows = todo[start:start + batch]
            self.progress(start / max(len(todo), 1), f"embedding passages {start + 1}-{start + len(rows)} of {len(todo)}")
            texts = [chunks[i].embedding_text() for i in rows]
            if spans is None:
                vectors[rows] = encoder.embed_documents(texts)
                continue
            shift = [len(chunks[i].context_text) + 1 for i in rows]  # embedding_text() = context + newline + text
            vectors[rows], parts = spans(texts, [[(a + k, b + k) for a, b in chunks[i].sentences]
                                                 for i, k in zip(rows, shift)])
            for i, part in zip(rows, parts):
                sentences[first[i]:first[i] + counts[i]] = part
        self.encoders.release_index()
        return vectors, (sentences, first) if keep_sentences else None, len(todo), origin

    def _indexed_hashes(self) -> dict[str, tuple[str, str]]:
        """Content hash -> (report id, file name) of every report in the live index (from its manifest only:
        the refresh that follows loads and verifies the whole generation once)."""
        live = self.live.data
        reports = live.reports if live is not None else (self.store.live_manifest() or {}).get("reports", {})
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

def _quarantine(data: Generation | None) -> dict[str, dict]:
    return (data.manifest.get("quarantined") or {}) if data is not None else {}


def _still_quarantined(file: CorpusFile, data: Generation) -> bool:
    """Whether FILE failed in the build of DATA and has not changed since (so it is not parsed again)."""
    record = _quarantine(data).get(file.path.name)
    return bool(record) and (record.get("size"), record.get("mtime_ns")) == (file.size, file.mtime_ns)


def _by_report(chunks: list[Chunk]) -> dict[str, list[Chunk]]:
    grouped: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        grouped.setdefault(chunk.report_id, []).append(chunk)
    return grouped



def _lexical_current(data: Generation) -> bool:
    """BM25 is rebuilt from the passage texts on every write; a new tokenizer only needs a new generation."""
    return data.manifest.get("lexical", {}).get("tokenizer") == TOKENIZER


def _attribution_current(data: Generation) -> bool:
    return data.statements is not None and data.manifest.get("attribution", {}).get("version") == attribution.VERSION

