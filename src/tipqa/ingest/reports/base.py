"""A report as tipqa reads it (Report, Section) and the loader registry each format's module adds itself to."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable


@dataclass
class Section:
    heading: str
    paragraphs: list[str]
    path: list[str] = field(default_factory=list)  # ancestors' headings, outermost first, then heading
    subtitle: str = ""
    page: int | None = None
    # Page of each paragraph where the format has pages (PDF); None elsewhere.
    paragraph_pages: list[int | None] | None = None

    @property
    def path_text(self) -> str:
        return " › ".join(self.path or [self.heading])


@dataclass
class Report:
    report_id: str
    title: str
    sections: list[Section]
    source: str  # file name inside the corpus
    content_hash: str  # sha256 of the file's bytes
    format: str
    date: str | None = None
    language: str | None = None
    place: str | None = None  # where the meeting it records was held, when its metadata says (sidecar)

    def to_dict(self) -> dict:
        return asdict(self)


Loader = Callable[[bytes, str], tuple[str | None, str | None, list[Section]]]
"""A loader turns a file's bytes (and name) into (title?, date?, sections)."""

_LOADERS: dict[str, Loader] = {}


def register_loader(*extensions: str) -> Callable[[Loader], Loader]:
    def wrap(func: Loader) -> Loader:
        for ext in extensions:
            _LOADERS[ext.lower()] = func
        return func
    return wrap
