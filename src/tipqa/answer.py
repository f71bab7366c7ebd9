"""Answers: the answering sentence inside its passage, a short answer when one can be picked, citations."""
from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field

import numpy as np

from .lexical import tokenize
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


def best_sentence(question: str, hits: list[Hit], sentence_vectors, query_vector: np.ndarray,
                  top_passages: int = 3) -> tuple[Hit, tuple[int, int], float] | None:
    """The sentence of the top passages that best matches the question (dense and word overlap).

    Args:
        sentence_vectors: callable(list[str]) -> float32[n, d] normalised embeddings.
    Returns:
        (hit, span, score) or None when there are no passages.
    """
    candidates = [(hit, span) for hit in hits[:top_passages] for span in hit.chunk.sentences]
    if not candidates:
        return None
    texts = [hit.chunk.text[a:b] for hit, (a, b) in candidates]
    dense = sentence_vectors(texts) @ query_vector
    q_terms = set(tokenize(question))
    overlap = np.array([len(q_terms & set(tokenize(t))) / max(len(q_terms), 1) for t in texts])
    passage_prior = np.array([1.0 / (hit.rank + 1) for hit, _ in candidates])
    scores = dense + 0.5 * overlap + 0.2 * passage_prior
    best = int(np.argmax(scores))
    hit, span = candidates[best]
    return hit, span, float(scores[best])


def build_answer(question: str, hits: list[Hit], sentence_vectors, query_vector: np.ndarray) -> Answer:
    passages = [Passage.from_hit(h) for h in hits]
    found = best_sentence(question, hits, sentence_vectors, query_vector)
    if found is None:
        return Answer(question, None, None, 0.0, None, passages)
    hit, (start, end), score = found
    c = hit.chunk
    evidence = Evidence(c.text[start:end], c.report_id, c.report_title, c.section, c.chunk_id, start, end, c.page)
    return Answer(question, None, None, round(float(np.clip(score / 2, 0, 1)), 3), evidence, passages)
