"""What a build, add or remove did (BuildResult): the record the write side returns to every front end."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class BuildResult:
    """What a refresh did: per-report outcome, and how many texts were sent to the embedder."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # file name -> message
    quarantined: dict[str, str] = field(default_factory=dict)  # file name -> why it is left out of the index
    notes: list[str] = field(default_factory=list)  # what else the user should know (a re-run after a kill)
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
        return "".join(f"{note}\n" for note in self.notes) + (
            f"{text}; {self.embedded} passages embedded, {self.chunks} in the index ({self.seconds:.1f} s)"
            + (f"; {len(self.errors)} file(s) skipped" if self.errors else "")
            + (f"; {len(self.quarantined)} quarantined (see 'tipqa reports')" if self.quarantined else ""))
