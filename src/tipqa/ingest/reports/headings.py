"""Turn a flat stream of heading and paragraph blocks (from any format) into nested sections."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .base import Section


@dataclass
class Block:
    kind: str  # "heading" or "para"
    text: str
    level: int = 1
    subtitle: str = ""
    page: int | None = None


def sections_from_blocks(blocks: list[Block], default_heading: str) -> list[Section]:
    """Each heading opens a section; its path is the chain of enclosing headings by level.

    Text before the first heading forms a section named default_heading. Headings with no text of their
    own still name the path of the sections below them.
    """
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    current: Section | None = None
    for block in blocks:
        if block.kind == "heading":
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, block.text))
            current = Section(
                heading=block.text, paragraphs=[], path=[text for _, text in stack],
                subtitle=block.subtitle, page=block.page, paragraph_pages=[],
            )
            sections.append(current)
            continue
        if current is None:
            current = Section(heading=default_heading, paragraphs=[], path=[default_heading],
                              page=block.page, paragraph_pages=[])
            sections.append(current)
        current.paragraphs.append(block.text)
        current.paragraph_pages.append(block.page)
        if current.page is None:
            current.page = block.page
    for section in sections:
        if not any(section.paragraph_pages or []):
            section.paragraph_pages = None
    return sections


_MONTHS = {name: n for n, names in enumerate([
    ("january", "enero"), ("february", "febrero"), ("march", "marzo"), ("april", "abril"), ("may", "mayo"),
    ("june", "junio"), ("july", "julio"), ("august", "agosto"), ("september", "septiembre", "setiembre"),
    ("october", "octubre"), ("november", "noviembre"), ("december", "diciembre")], start=1) for name in names}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), ("y", "m", "d")),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:de\s+)?({_MONTH}),?\s+(?:de\s+|del\s+)?(\d{{4}})\b", re.I),
     ("d", "mon", "y")),
    (re.compile(rf"\b({_MONTH})\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I), ("mon", "d", "y")),
]


def find_date(text: str) -> str | None:
    """The first full date stated in text ('27 March 2009', 'March 27, 2009', '27 de marzo de 2009'), as ISO."""
    found: list[tuple[int, str]] = []
    for pattern, order in _DATE_PATTERNS:
        match = pattern.search(text)
        if not match:
            continue
        parts = dict(zip(order, match.groups()))
        month = int(parts["m"]) if "m" in parts else _MONTHS[parts["mon"].lower()]
        day, year = int(parts["d"]), int(parts["y"])
        if 1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2100:
            found.append((match.start(), f"{year:04d}-{month:02d}-{day:02d}"))
    return min(found)[1] if found else None


def opening_text(blocks: list[Block], chars: int = 3000) -> str:
    return " ".join(b.text for b in blocks)[:chars]
