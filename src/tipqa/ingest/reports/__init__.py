"""Reports: the typed result of loading one file, and the loader registry (one loader per format)."""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

from ...errors import ReportError, UnsupportedFormat
from ...text import fold, slugify
from .base import _LOADERS, Loader, Report, Section, register_loader


def supported_extensions() -> list[str]:
    _import_loaders()
    return sorted(_LOADERS)


def report_id_for(path: Path) -> str:
    return slugify(path.stem, max_len=80)


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_report(path: Path, data: bytes | None = None, max_bytes: int | None = None) -> Report:
    """Read one report file into sections.

    Args:
        max_bytes: refuse larger files, from their size on disk, before reading them.

    Raises:
        UnsupportedFormat: the extension has no loader.
        ReportError: the file is empty, unreadable, too large or holds no text.
    """
    _import_loaders()
    ext = path.suffix.lower()
    loader = _LOADERS.get(ext)
    if loader is None:
        raise UnsupportedFormat(
            f"{path.name}: unsupported file type {ext or '(none)'}; "
            f"tipqa reads {', '.join(sorted(_LOADERS))}. Convert it to one of these first."
        )
    if data is None:
        check_size(path, max_bytes)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ReportError(f"{path.name}: cannot read the file ({error.strerror}). Check it exists and is readable.") from None
    if not data.strip():
        raise ReportError(f"{path.name}: the file is empty. Nothing was indexed from it; check the export and add it again.")
    title, date, sections = loader(data, path.name)
    sections = [s for s in sections if any(p.strip() for p in s.paragraphs)]
    if not sections:
        raise ReportError(f"{path.name}: no text could be read from the file. If it is a scan, run OCR on it first.")
    meta = read_sidecar(path)
    return Report(
        report_id=report_id_for(path), title=meta.get("title") or title or title_from_name(path, sections),
        sections=sections, source=path.name, content_hash=file_hash(data), format=ext.lstrip("."),
        date=meta.get("date") or date, language=meta.get("language"), place=meta.get("place"),
    )


def check_size(path: Path, max_bytes: int | None) -> None:
    """Refuse a file over the size limit from its size on disk, without reading it."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ReportError(f"{path.name}: cannot read the file ({error.strerror}). Check it exists and is readable.") from None
    if max_bytes is not None and size > max_bytes:
        raise ReportError(
            f"{path.name}: the file is {size / 2**20:,.0f} MB; tipqa reads reports up to {max_bytes / 2**20:,.0f} MB. "
            f"Split it into smaller files, or raise the limit with TIPQA_MAX_REPORT_MB."
        )


def sidecar_path(path: Path) -> Path:
    """Optional metadata next to a report: '<file name>.meta.json' with title, date, language, place."""
    return path.with_name(path.name + ".meta.json")


def has_sidecar(path: Path) -> bool:
    """Whether PATH has a sidecar (False also when the sidecar's name would be too long to exist)."""
    try:
        return sidecar_path(path).is_file()
    except OSError:
        return False


def read_sidecar(path: Path) -> dict:
    meta_path = sidecar_path(path)
    if not has_sidecar(path):
        return {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportError(f"{meta_path.name}: not valid JSON ({error}). Fix or delete it.") from None
    if not isinstance(meta, dict):
        raise ReportError(f"{meta_path.name}: expected a JSON object with 'title' and 'date'. Fix or delete it.")
    return {k: str(v) for k, v in meta.items() if k in ("title", "date", "language", "place") and v}


# A file name's last word that only says the report's language ('..._2024_es.txt'): no part of its title.
_LANGUAGE_CODE = re.compile(r"(?:en|es|fr|pt)", re.I)


def title_from_name(path: Path, sections: list[Section] = ()) -> str:
    """The title of a report that states none: its file name's words, each written as the report writes it.

    'oea_discurso_septima_reunion_autoridades_trata_2024_es.txt' -> 'OEA discurso Séptima Reunión Autoridades trata
    2024': a word takes the form the text uses most (accents, capitals) outside lines in capitals (a heading's
    'REPORT' is no acronym); a word the text lacks stays as the name has it. Words are the name's pieces between
    underscores or spaces (between hyphens only where it has neither, so 'E-063-06' stays one); a last piece that
    is a language code is left out."""
    stem = path.stem.strip()
    pieces = [p for p in re.split(r"[_\s]+" if re.search(r"[_\s]", stem) else r"-+", stem) if p]
    if len(pieces) > 1 and _LANGUAGE_CODE.fullmatch(pieces[-1]):
        pieces.pop()
    wanted = {fold(piece) for piece in pieces}
    forms: dict[str, Counter] = {}  # only the name's words are counted: a report may hold millions of others
    for section in sections:
        for text in (section.heading, *section.paragraphs):
            if _in_capitals(text):  # 'RAPPORTEUR’S REPORT' says nothing of how 'report' is written
                continue
            for word in re.findall(r"[^\W_]+(?:-[^\W_]+)*", text):  # 'RTP-III', and its 'RTP' and 'III'
                for form in dict.fromkeys([word, *word.split("-")]):
                    if fold(form) in wanted:
                        forms.setdefault(fold(form), Counter())[form] += 1
    words = [_written(piece, forms.get(fold(piece))) for piece in pieces]
    title = " ".join(words) or path.name
    return title[0].upper() + title[1:]


def _in_capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) > 0.6 * len(letters)


def _written(piece: str, seen: Counter | None) -> str:
    return seen.most_common(1)[0][0] if seen else piece


def _import_loaders() -> None:
    from . import plain  # noqa: F401  (registers .txt and .md)
    try:
        from . import rich  # noqa: F401  (registers .pdf, .docx, .html when present)
    except ImportError:
        pass


__all__ = ["Loader", "Report", "Section", "check_size", "load_report", "register_loader", "report_id_for",
           "sidecar_path", "supported_extensions"]
