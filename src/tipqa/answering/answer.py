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
    score: float
    page: int | None = None
    section_path: list[str] = field(default_factory=list)

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
        if self.evidence:
            lines += [f"Evidence: {self.evidence.sentence}", f"Source:   {self.citation()}"]
        for p in self.passages:
            page = f", p. {p.page}" if p.page else ""
            lines += ["", f"[{p.rank}] {p.report_title} › {p.section}{page}  (score {p.score:.4f}, {p.chunk_id})",
                      _indent(p.text)]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Escaped Markdown/HTML for chat front ends: report text is never interpreted as markup."""
        head = f"**{html.escape(self.answer)}**" if self.answer else "The reports do not say."
        if self.evidence:
            head += f"\n\n> {html.escape(self.evidence.sentence)}\n\n*{html.escape(self.citation())}*"
        return head


def _indent(text: str, width: int = 100) -> str:
    import textwrap
    return "\n".join(textwrap.fill(line, width, initial_indent="    ", subsequent_indent="    ")
                     for line in text.splitlines())


def build_answer(question: str, hits: list[Hit], sentence_vectors, query_vector: np.ndarray) -> Answer:
    """The answer to question from the retrieved passages: short answer, evidence sentence, citations.

    Args:
        sentence_vectors: callable(texts, sources) -> float32[n, d] normalised sentence embeddings, used to
            score sentences against the question; sources gives each text's (hit, sentence spans), so the
            vectors stored in the index can be read instead of encoding the texts.
        query_vector: the question's embedding (of its English form for Spanish questions).
    Returns:
        An Answer whose answer and evidence are None when the passages do not hold the answer.
    """
    found = extract.answer_question(question, hits, sentence_vectors, query_vector)
    if found is None:
        return Answer(question, None, None, 0.0, None, [Passage.from_hit(h) for h in hits])
    passages = [Passage.from_hit(hits[i]) for i in found.order]
    for rank, passage in enumerate(passages, start=1):
        passage.rank = rank  # reranked by the answering sentences; score stays the retrieval score
    if found.abstain:
        return Answer(question, None, None, round(found.confidence, 3), None, passages)
    c = found.hit.chunk
    start, end = found.span
    evidence = Evidence(c.text[start:end], c.report_id, c.report_title, c.section, c.chunk_id, start, end, c.page)
    return Answer(question, found.answer, found.answer_type, round(found.confidence, 3), evidence, passages)


def retrieval_text(question: str) -> str:
    """What retrieval should search with: the question, or its English rendering when asked in Spanish."""
    return extract.retrieval_text(question)
