"""Turn a flat stream of heading and paragraph blocks (from any format) into nested sections."""
from __future__ import annotations

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
