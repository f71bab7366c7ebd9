"""The read side and the one door every front end uses (CLI, web app, benchmarks, Python API): Assistant.

Assistant.open loads the live generation (refreshing it from the corpus through the Indexer when needed);
Assistant.ask turns a question into an Answer: retrieval (answering.retrieval.search), then the answering sentence
and short answer (answering.answer.build_answer), or a speaker's statements (answering.speaker_questions).
"""
from __future__ import annotations

import functools
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from pathlib import Path
from typing import Iterable

import numpy as np

from .answering import documents, kinds, scoring
from .answering.answer import Answer, Passage, build_answer, document_answer, retrieval_text
from .answering.extract import read_candidates
from .answering.meeting_replies import held_reply, meeting_reply, officer_reply, officer_scope, reports_named
from .answering.questions import analyse
from .answering.retrieval import Hit, search
from .answering.speaker_questions import speaker_question, statements_answer, topic_question, topical_answer
from .config import Settings, load_settings
from .encoders import Encoders, calibrated, embed_as_questions
from .encoders.model import Embedder
from .errors import (
    EmptyCorpus,
    IndexCorrupt,
    IndexLocked,
    IndexNotFound,
    ModelMismatch,
    QuestionError,
    ReportNotFound,
    TipqaError,
)
from .ingest import corpus as corpus_folder
from .indexer import BuildResult, Indexer, LiveGeneration, Progress, stderr_progress
from .speakers.statements import SpeakerNotFound, Statement, find_speaker, speakers, statements_of
from .store import open_store
from .store.base import Generation

SENTENCE_CACHE_SIZE = 50_000  # x 384 float32 = 77 MB at most
_UNENCODABLE = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def sanitize_question(question: str | bytes | None) -> str:
    """A question as text the encoders accept: bytes decoded as UTF-8 (invalid bytes become U+FFFD), lone
    surrogates (from a terminal's undecodable bytes) U+FFFD, control characters spaces.

    Raises:
        QuestionError: the question is neither text nor bytes.
    """
    if question is None:
        return ""
    if isinstance(question, (bytes, bytearray)):
        question = bytes(question).decode("utf-8", "replace")
    if not isinstance(question, str):
        raise QuestionError(f"A question must be text, not {type(question).__name__}. "
                            f"Ask something like: \"Which country proposed joint investigation teams?\"")
    return _UNENCODABLE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else " ", question)

FOLLOW_SECONDS = 1.0  # how often a process answering from a shared store looks for a newer generation


class Assistant:
    """Loads the index once, refreshes it from the corpus, and answers questions with citations."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, progress: Progress | None = None):
        self.settings = settings
        self.store = open_store(settings)
        self.progress = progress or stderr_progress
        self.encoders = Encoders(settings, embedder)
        self._live = LiveGeneration()
        self.indexer = Indexer(settings, self.store, self.encoders, self.progress, self._live)
        self._build_lock = self.indexer.lock  # held while this process builds (the web app shows it)
        self._asked = 0  # questions answered by this process: the second one warms it up (see warm_up)
        # Sentence vectors for the answer step, by text: the same passages come back question after question,
        # and encoding their sentences was most of an answer's time (bench/latency.py).
        self._sentence_cache: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()  # (as a question?, text)
        self._sentence_cache_lock = threading.Lock()
        self._followed = time.monotonic()  # when a shared store's live generation was last looked at
        self._following = threading.Lock()  # held while a newer generation loads in the background

    @property
    def _data(self) -> Generation | None:
        """The generation questions are answered from (None until loaded); builds replace it when done."""
        return self._live.data

    @_data.setter
    def _data(self, data: Generation | None) -> None:
        self._live.data = data

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
        if getattr(self.store, "shared", False) or not self.indexer.corpus_changed(data):
            # A shared store holds reports from other machines' folders too: opening never syncs it to this
            # one ('tipqa build' does; add and remove change it report by report).
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

    def refresh(self, rebuild: bool = False) -> BuildResult:
        """Bring the index in line with the corpus (see Indexer.refresh); questions go on meanwhile."""
        return self.indexer.refresh(rebuild)

    def add(self, paths: Iterable[str | Path]) -> BuildResult:
        """Copy report files into the corpus and index them. Files that cannot be read are reported, not copied."""
        return self.indexer.add(paths)

    def remove(self, report_id: str) -> BuildResult:
        """Move a report to the corpus trash and drop it from the index ('restore' brings it back)."""
        return self.indexer.remove(report_id)

    def restore(self, report_id: str) -> BuildResult:
        """Bring a removed report back from the corpus trash and index it again."""
        return self.indexer.restore(report_id)

    def trash(self) -> list[dict]:
        """Removed reports that 'restore' can bring back, newest first: {report_id, name, removed}."""
        return [{k: v for k, v in item.items() if k != "path"}
                for item in corpus_folder.trashed(Path(self.settings.corpus_dir))]

    def empty_trash(self) -> int:
        """Delete the removed reports for good; returns how many there were."""
        return corpus_folder.empty_trash(Path(self.settings.corpus_dir))

    def reports(self) -> list[dict]:
        return [dict(meta, report_id=rid) for rid, meta in sorted(self.data.reports.items())]

    def quarantined(self) -> dict[str, str]:
        """Corpus files left out of the index, with the reason: file name -> message (what to do)."""
        return {name: q.get("reason", "") for name, q in (self.data.manifest.get("quarantined") or {}).items()}

    @property
    def embedder(self) -> Embedder:
        """The model's reference encoder (numpy for the bundled model): its dim and model id are the index's."""
        return self.encoders.query

    @property
    def index_embedder(self) -> Embedder:
        return self.encoders.index

    @property
    def sentence_embedder(self) -> Embedder:
        return self.encoders.sentence

    @property
    def question_embedder(self) -> Embedder:
        return self.encoders.question

    def warm_up(self) -> None:
        """Ready the faster encoders a long-lived process pays for once (~1 s): questions on onnxruntime fp32
        (~2.6 ms against ~11 ms for numpy) and the rescored answer sentences on one int8 session per core.

        The web app calls it at start; otherwise the second question a process asks does (so `tipqa eval`
        and a Python loop over questions get it, and a one-question `tipqa ask` does not pay for it). A given
        embedder (tests, custom models) is kept as is. Safe to call more than once: it also picks up an int8
        graph that a build in this process has prepared since the first question.
        """
        self.encoders.warm_up(self.progress)

    @property
    def data(self) -> Generation:
        if self._data is None:
            self._data = self._load_checked()
        elif getattr(self.store, "shared", False):
            self._follow()
        return self._data

    def _follow(self) -> None:
        """A shared store is written by other processes too: at most every FOLLOW_SECONDS, look whether its live
        generation moved on, and if so load it in the background (questions go on from the one at hand) and
        swap it in, unless this process made a newer one meanwhile."""
        now = time.monotonic()
        if now - self._followed < FOLLOW_SECONDS or not self._following.acquire(blocking=False):
            return
        self._followed = now
        current = self._data
        try:
            name = self.store.current_name()
        except TipqaError as error:
            self._following.release()
            self.progress(0.0, f"warning: cannot check the live index ({error})")
            return
        if name is None or name == current.generation:
            self._following.release()
            return

        def load() -> None:
            try:
                data = self.store.load(previous=current)
                if self._data is current:
                    self._data = data
            except TipqaError as error:
                self.progress(0.0, f"warning: could not load the new generation {name} ({error})")
            finally:
                self._following.release()

        threading.Thread(target=load, name="tipqa-follow", daemon=True).start()

    def _load_checked(self) -> Generation:
        data = self.store.load()
        for warning in data.warnings:
            self.progress(0.0, f"warning: {warning}")
        expected = self.encoders.expected_model_id()
        if data.model_id != expected:
            raise ModelMismatch(
                f"The index in {self.settings.index_dir} was built with the model {data.model_id!r}, "
                f"but tipqa is set to use {expected!r}. Run 'tipqa build --rebuild' to re-embed the corpus, "
                f"or set TIPQA_MODEL back to {data.model_id!r}."
            )
        return data

    def check_question(self, question: str | bytes) -> str:
        question = " ".join(sanitize_question(question).split())
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

    def _answerable_data(self, report: str | None) -> Generation:
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
        """The answer to QUESTION, with its evidence and passages (see Answer). A generation whose parts fail
        their checksums when read is dropped for the previous one (with a warning) and the question asked again."""
        try:
            return self._ask(question, k, report)
        except IndexCorrupt as error:
            self._drop_damaged(error)
            return self._ask(question, k, report)

    def _drop_damaged(self, error: IndexCorrupt) -> None:
        """Stop answering from the live generation after ERROR; load the one before it, or raise ERROR."""
        data = self._data
        if data is None:
            raise error
        getattr(self.store, "mark_damaged", lambda *a: None)(data.generation, str(error))
        self._data = None
        try:
            self._data = self._load_checked()
        except IndexCorrupt:
            raise error from None

    def _ask(self, question: str, k: int | None, report: str | None) -> Answer:
        question = self.check_question(question)
        data = self._answerable_data(report)  # one generation for the whole question, even if a rebuild swaps in
        listed = self._statements_reply(question, data, report)
        if listed is not None:
            return listed
        self._asked += 1
        if self._asked == 2:
            self.warm_up()  # a process that asks again will likely ask more
        text = retrieval_text(question)  # BM25: Spanish questions are searched in English too (glossary, names)
        # A multilingual model reads the question as asked (its English rendering lost 0.05-0.2 hit@1 on Spanish
        # dev questions: bench/qa_retrieval.py); an English-only one reads the rendering.
        query = self.question_embedder.embed_query(question if self.encoders.multilingual else text)
        hits = self._passages(data, query, question, text, k, report)
        about_meeting = (meeting_reply(question, data, hits, report) or officer_reply(question, data, hits, report)
                         or held_reply(question, data, hits))
        if about_meeting is not None:
            return about_meeting
        scope = officer_scope(question, data, report)
        if scope is not None:  # an officer of the meeting the question names: only from the reports that name it
            scoped = self._passages(data, query, question, text, k, scope) if scope else []
            if not scoped:
                return Answer(question, None, None, 0.0, None, [Passage.from_hit(h) for h in hits], outcome="not_found")
            hits = scoped
        raw_query = query
        sentences, query = self._answer_inputs(data, query)
        q = kinds.refine(analyse(question), self.settings.model, query, sentences)
        if q.expected == "document":
            found = documents.pick(question, raw_query, hits, self.sentence_vectors, self.settings.model,
                                   reports_named(question, data))
            if found is not None:
                return document_answer(question, found[0], hits)
        return build_answer(question, hits, sentences, query, model=self.settings.model)

    def _passages(self, data: Generation, query: np.ndarray, question: str, text: str, k: int | None,
                  report) -> list[Hit]:
        hits = search(data, query, text, k or self.settings.top_k, report=report, asked=question)
        if hasattr(data, "prefetch"):  # a store that reads passages from elsewhere: all of them at once
            data.prefetch([hit.row for hit in hits if hit.row >= 0])
        return hits

    def documents_considered(self, question: str, passages: int | None = None) -> tuple[str, list]:
        """(the kind of answer the question asks for, [(cosine, Cited), ...] best first): what the document step
        reads for QUESTION (bench/fit_documents.py fits its margin on it); PASSAGES: read that many passages
        instead of the step's own number (documents.PASSAGES), to measure what more would bring."""
        question = self.check_question(question)
        data = self._answerable_data(None)
        text = retrieval_text(question)
        query = self.question_embedder.embed_query(question if self.encoders.multilingual else text)
        passages = passages or documents.PASSAGES
        hits = search(data, query, text, max(passages, self.settings.top_k), asked=question)
        sentences, calibrated_query = self._answer_inputs(data, query)
        q = kinds.refine(analyse(question), self.settings.model, calibrated_query, sentences)
        return q.expected, documents.scored(question, query, documents.cited_documents(hits, passages),
                                            self.sentence_vectors, reports_named(question, data))

    def _answer_inputs(self, data: Generation, query: np.ndarray):
        """(sentence vectors, question vector) for the answer step; e5's cosines put on the scale it was set on."""
        sentences = functools.partial(self._stored_sentence_vectors, data)
        calibration = self.encoders.cosine_calibration
        if calibration is not None:
            query = calibrated(query[None, :], calibration, question=True)[0]
            sentences = functools.partial(_calibrated_sentences, sentences, calibration)
        return sentences, query

    def _stored_sentence_vectors(self, data: Generation, texts: list[str], sources,
                                 as_questions: bool = False) -> np.ndarray:
        """Answer-candidate sentence vectors read from the generation (built with them), else encoded (on their
        own; as_questions: as the model encodes questions, see encoders.embed_as_questions).

        A text of two sentences ('It also ...' read with the one before) gets the normalised mean of theirs."""
        if data.sentences is None or sources is None or as_questions:
            return self.sentence_vectors(texts, as_questions)
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

    def sentence_vectors(self, texts: list[str], as_questions: bool = False) -> np.ndarray:
        """Embeddings of answer-candidate sentences (as_questions: encoded as questions are), from a bounded LRU
        cache where already seen."""
        def encode(batch: list[str]) -> np.ndarray:
            if as_questions:
                return embed_as_questions(self.sentence_embedder, batch)
            return self.sentence_embedder.embed_documents(batch)

        with self._sentence_cache_lock:
            missing = list(dict.fromkeys(t for t in texts if (as_questions, t) not in self._sentence_cache))
        fresh = encode(missing) if missing else None
        with self._sentence_cache_lock:
            for text, vector in zip(missing, fresh if fresh is not None else []):
                self._sentence_cache[as_questions, text] = vector
            rows = []
            for text in texts:
                vector = self._sentence_cache.get((as_questions, text))
                if vector is None:  # evicted by a concurrent question meanwhile
                    vector = encode([text])[0]
                self._sentence_cache[as_questions, text] = vector
                self._sentence_cache.move_to_end((as_questions, text))
                rows.append(vector)
            while len(self._sentence_cache) > SENTENCE_CACHE_SIZE:
                self._sentence_cache.popitem(last=False)
        return np.stack(rows) if rows else np.zeros((0, self.embedder.dim), dtype=np.float32)

    def speaker(self, name: str) -> dict:
        """The canonical speaker ({kind, id, name}) NAME means, in any language or alias ('México', 'ONUDD')."""
        return find_speaker(name, self.data.statements or [])

    def statements(self, speaker: str, report: str | None = None) -> list[Statement]:
        """Every statement SPEAKER made (in report and sentence order), optionally in one report only."""
        data = self.data
        if report is not None and report not in data.reports:
            raise ReportNotFound(report, sorted(data.reports))
        return statements_of(self.speaker(speaker)["id"], data.statements or [], report)

    def speakers(self, report: str | None = None) -> list[dict]:
        """Everyone with statements: {kind, id, name, count, reports: {report_id: count}}, most statements first."""
        chosen = [s for s in self.data.statements or [] if report is None or s.report_id == report]
        found = speakers(chosen)
        for entry in found:
            entry["reports"] = {}
            for s in statements_of(entry["id"], chosen):
                entry["reports"][s.report_id] = entry["reports"].get(s.report_id, 0) + 1
        return found

    def _statements_reply(self, question: str, data: Generation, report: str | None) -> Answer | None:
        """'What did Mexico say?' / '¿Qué dijo México?': every statement, grouped by report and section.
        'What did Chile say about joint investigation teams?': Chile's statements, the closest to the topic first."""
        topical = topic_question(question)
        named = topical[0] if topical else speaker_question(question)
        if named is None:
            return None
        try:
            speaker = find_speaker(named, data.statements or [])
        except SpeakerNotFound:
            return None  # 'What did the report say?': not a speaker, answer it the usual way
        found = statements_of(speaker["id"], data.statements or [], report)
        if not found:
            return None
        chunks = {c.chunk_id: c for c in data.chunks}
        if topical is None:
            return statements_answer(question, speaker, found, chunks, data.reports)
        text = retrieval_text(question)
        topic = self.question_embedder.embed_query(text)
        scores = self.sentence_vectors([s.sentence for s in found]) @ topic
        order = np.argsort(-scores, kind="stable")
        ranked = [found[i] for i in order]
        return topical_answer(question, ranked, [float(scores[i]) for i in order], chunks,
                              on_topic=self._among_the_best(question, text, topic, data, ranked))

    def _among_the_best(self, question: str, text: str, query: np.ndarray, data: Generation, statements) -> bool:
        """Whether one of the speaker's statements is among the sentences the reports offer on the question, as the
        sentence model ranks every sentence of the passages retrieved for it: within two logits of the best (odds
        at least a seventh of the best sentence's)."""
        hits = search(data, query, text, self.settings.top_k, asked=question)
        found = read_candidates(question, hits, *self._answer_inputs(data, query), model=self.settings.model)
        if found is None:
            return False
        logits = scoring.models().sentence.logit(found.features)
        for (hit, (start, end)), logit in zip(found.items, logits):
            if logit >= logits.max() - 2.0 and any(hit.chunk.chunk_id == s.chunk_id and start <= s.start < end
                                                   for s in statements):
                return True
        return False


__all__ = ["Assistant", "BuildResult", "TipqaError"]


def _calibrated_sentences(sentence_vectors, calibration: tuple[float, float], texts: list[str], sources,
                          as_questions: bool = False) -> np.ndarray:
    return calibrated(sentence_vectors(texts, sources, as_questions), calibration, question=False)
