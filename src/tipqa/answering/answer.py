"""Answers: the answering sentence inside its passage, a short answer when one can be picked, citations."""
from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field

import numpy as np

from . import extract
from .retrieval import Hit


@dataclass
class Evidence:
    sentence: str
    report_id: str
    report_title: str
    section: str
    chunk_id: str
    start: int  # character offsets of the sentence inside its passage's text, for highlighting
    end: int
    page: int | None = None


@dataclass
class Passage:
    rank: int
    text: str
    report_id: str
    report_title: str
    section: str
    chunk_id: str
    score: float  # what ordered the passages: P(its best sentence answers) when answering read it, else retrieval's
    page: int | None = None
    section_path: list[str] = field(default_factory=list)
    retrieval_score: float | None = None  # the fused retrieval score, when the answer step reordered the passages

    @classmethod
    def from_hit(cls, hit: Hit) -> "Passage":
        c = hit.chunk
        return cls(hit.rank, c.text, c.report_id, c.report_title, c.section, c.chunk_id,
                   round(hit.score, 6), c.page, list(c.section_path))


@dataclass
class Answer:
    question: str
    answer: str | None
    answer_type: str | None
    confidence: float
    evidence: Evidence | None
    passages: list[Passage]
    # "answer": a short answer and its sentence; "closest": the sentence that comes closest, no short answer;
    # "not_found": the reports do not address the question; "statements": a speaker's statements.
    outcome: str = "answer"

    def to_dict(self) -> dict:
        return asdict(self)

    def citation(self) -> str:
        if not self.evidence:
            return ""
        e = self.evidence
        page = f", p. {e.page}" if e.page else ""
        return f"{e.report_title} › {e.section}{page}"

    def to_text(self) -> str:
        lines = []
        if self.answer:
            lines.append(f"Answer: {self.answer}  ({self.answer_type}, confidence {self.confidence:.2f})")
        elif self.evidence is None:
            lines.append("The reports do not say. Closest passages:")
        else:
            lines.append("No short answer; the closest the reports come is:")
        if self.evidence:
            lines += [f"Evidence: {self.evidence.sentence}", f"Source:   {self.citation()}"]
        for p in self.passages:
            page = f", p. {p.page}" if p.page else ""
            lines += ["", f"[{p.rank}] {p.report_title} › {p.section}{page}  (score {p.score:.4f}, {p.chunk_id})",
                      _indent(p.text)]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Escaped Markdown/HTML for chat front ends: report text is never interpreted as markup."""
        head = (f"**{html.escape(self.answer)}**" if self.answer else "The reports do not say." if self.evidence is None
                else "No short answer; the closest the reports come is:")
        if self.evidence:
            head += f"\n\n> {html.escape(self.evidence.sentence)}\n\n*{html.escape(self.citation())}*"
        return head


def _indent(text: str, width: int = 100) -> str:
    import textwrap
    return "\n".join(textwrap.fill(line, width, initial_indent="    ", subsequent_indent="    ")
                     for line in text.splitlines())


def build_answer(question: str, hits: list[Hit], sentence_vectors, query_vector: np.ndarray,
                 model: str | None = None) -> Answer:
    """The answer to question from the retrieved passages: short answer, evidence sentence, citations.

    Args:
        sentence_vectors: callable(texts, sources) -> float32[n, d] normalised sentence embeddings, used to
            score sentences against the question; sources gives each text's (hit, sentence spans), so the
            vectors stored in the index can be read instead of encoding the texts; called with
            as_questions=True (and sources None), the texts encoded as the model encodes questions.
        query_vector: the question's embedding (of its English form for Spanish questions).
        model: the embedding model's name (the kind of answer asked for is also read from the question's meaning
            when a model for it was fitted: kinds.py).
    Returns:
        An Answer whose answer and evidence are None when the passages do not hold the answer.
    """
    found = extract.answer_question(question, hits, sentence_vectors, query_vector, model=model)
    if found is None:
        return Answer(question, None, None, 0.0, None, [Passage.from_hit(h) for h in hits], outcome="not_found")
    passages = []
    for rank, i in enumerate(found.order, start=1):
        passage = Passage.from_hit(hits[i])
        passage.rank = rank  # in the order the answer step ranked them: by their best sentence
        passage.retrieval_score = passage.score
        passage.score = round(found.passage_scores.get(i, 0.0), 6)
        passages.append(passage)
    if found.outcome == "not_found":
        return Answer(question, None, None, round(found.confidence, 3), None, passages, outcome="not_found")
    c = found.hit.chunk
    start, end = found.span
    evidence = Evidence(c.text[start:end], c.report_id, c.report_title, c.section, c.chunk_id, start, end, c.page)
    kind = found.answer_type if found.outcome == "answer" else None
    return Answer(question, found.answer, kind, round(found.confidence, 3), evidence, passages, outcome=found.outcome)


def retrieval_text(question: str) -> str:
    """What retrieval should search with: the question, or its English rendering when asked in Spanish."""
    return extract.retrieval_text(question)


def document_answer(question: str, cited, hits: list[Hit]) -> Answer:
    """The document the document step picked (answering/documents.py), cited to the sentence that names it, its
    passage first; confidence: how often the step's picks were right on the development sets."""
    from .documents import precision
    chunk = cited.hit.chunk
    evidence = Evidence(chunk.text[cited.start:cited.end], chunk.report_id, chunk.report_title, chunk.section,
                        chunk.chunk_id, cited.start, cited.end, chunk.page)
    passages = [Passage.from_hit(cited.hit)] + [Passage.from_hit(h) for h in hits if h is not cited.hit]
    for rank, passage in enumerate(passages, start=1):
        passage.rank = rank
    return Answer(question, cited.symbol, "document", precision(), evidence, passages, outcome="answer")
