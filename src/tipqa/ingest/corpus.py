"""The corpus folder: which files are reports, copying one in atomically, and the trash a removal moves it to.

Nothing here parses a report. A file enters the corpus under a hidden temporary name, is fsynced, then renamed
(a kill leaves either no report or the whole one); a removed report and its sidecar move to `corpus/.trash/`
(hidden, so never indexed), from where `restore` brings them back. Hidden names, symbolic links and special files
are refused with one line that says why.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import time
from pathlib import Path

from ..durable import fsync_path
from ..errors import ReportError
from ..hashing import sha256_file
from .reports import report_id_for, sidecar_path

TRASH = ".trash"
PARTIAL_PREFIX = ".tipqa-partial-"  # an add's copy before its rename: hidden, so never indexed, and swept
MAX_NAME_BYTES = 200  # NAME_MAX is 255 bytes; the sidecar adds '.meta.json' and the temporary name a prefix


def check_source(path: Path, allow_symlinks: bool = False) -> None:
    """Refuse what must not become a report, with one line naming the fix.

    Raises:
        ReportError: a hidden file, a symbolic link (unless allowed), not a regular file, or a name that
            cannot be stored (control characters, bytes that are not UTF-8).
    """
    name = path.name
    if name.startswith("."):
        raise ReportError(f"{name}: a hidden file (its name starts with '.'); tipqa does not index hidden files. "
                          f"Rename it without the leading dot.")
    if any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise ReportError(f"{name.encode('utf-8', 'backslashreplace').decode()}: the file name holds control "
                          f"characters or bytes that are not UTF-8. Rename it to plain text and add it again.")
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise ReportError(f"{name}: no such file. Check the path.") from None
    except OSError as error:
        raise ReportError(f"{name}: cannot be read ({error.strerror}). Check the path and its permissions.") from None
    if stat.S_ISLNK(info.st_mode) and not allow_symlinks:
        raise ReportError(f"{name}: a symbolic link; tipqa adds regular files only. Add the file it points to "
                          f"(or copy it here) instead.")
    target = path.stat() if stat.S_ISLNK(info.st_mode) else info
    if not stat.S_ISREG(target.st_mode):
        raise ReportError(f"{name}: not a regular file (a folder, device, FIFO or socket); add a report file.")


def stored_name(name: str) -> str:
    """NAME, or a shortened name that fits the file system with room for the sidecar and temporary names
    (the stem is cut and an 8-character hash of the full name keeps distinct long names apart)."""
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    suffix = Path(name).suffix if len(Path(name).suffix) <= 12 else ""
    stem = name[: len(name) - len(suffix)]
    tag = "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    room = MAX_NAME_BYTES - len((tag + suffix).encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return cut + tag + suffix


def same_bytes(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and sha256_file(a) == sha256_file(b)


def copy_in(source: Path, target: Path) -> None:
    """Copy SOURCE to TARGET atomically: a hidden temporary name in TARGET's folder, fsync, rename, fsync the
    folder. A failure (a full disk) removes the temporary copy and leaves TARGET as it was."""
    partial = target.with_name(f"{PARTIAL_PREFIX}{os.getpid()}-{time.time_ns()}")
    try:
        with source.open("rb") as src, partial.open("xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        shutil.copystat(source, partial)
        os.replace(partial, target)
        fsync_path(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def sweep_partial(corpus: Path) -> None:
    """Remove temporary copies that killed adds left behind (they were never reports)."""
    for leftover in corpus.glob(f"{PARTIAL_PREFIX}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def move_to_trash(path: Path) -> Path:
    """Move a report file and its sidecar into corpus/.trash/<time>/; returns that folder."""
    folder = path.parent / TRASH / time.strftime("%Y%m%dT%H%M%S") / f"{time.time_ns() % 10**9:09d}"
    folder.mkdir(parents=True)
    meta = sidecar_path(path)
    if meta.is_file():
        os.replace(meta, folder / meta.name)
    os.replace(path, folder / path.name)
    fsync_path(folder)
    fsync_path(path.parent)
    return folder


def trashed(corpus: Path) -> list[dict]:
    """Reports in the trash, newest first: {report_id, name, path, removed}."""
    root = corpus / TRASH
    found = []
    for file in root.glob("*/*/*") if root.is_dir() else []:
        if file.is_file() and not file.name.endswith(".meta.json"):
            removed = file.parent.parent.name
            found.append({"report_id": report_id_for(file), "name": file.name, "path": file,
                          "removed": f"{removed[:4]}-{removed[4:6]}-{removed[6:8]} {removed[9:11]}:{removed[11:13]}"})
    found.sort(key=lambda item: str(item["path"]), reverse=True)
    return found


def restore_from_trash(corpus: Path, report_id: str) -> Path:
    """Move the newest trashed file of REPORT_ID (and its sidecar) back into the corpus; returns its path.

    Raises:
        ReportError: nothing of that id in the trash, or the corpus holds a file of that name again.
    """
    match = next((item for item in trashed(corpus) if item["report_id"] == report_id), None)
    if match is None:
        listing = ", ".join(sorted({item["report_id"] for item in trashed(corpus)})) or "empty"
        raise ReportError(f"No removed report {report_id!r} in the trash (trash: {listing}). See 'tipqa trash'.")
    source: Path = match["path"]
    target = corpus / source.name
    if target.exists():
        raise ReportError(f"{source.name}: the corpus already holds a file of that name; rename or remove it, then "
                          f"run 'tipqa restore {report_id}' again.")
    meta = sidecar_path(source)
    if meta.is_file():
        os.replace(meta, corpus / meta.name)
    os.replace(source, target)
    fsync_path(corpus)
    with contextlib.suppress(OSError):  # the emptied time folders
        source.parent.rmdir()
        source.parent.parent.rmdir()
    return target


def empty_trash(corpus: Path) -> int:
    """Delete everything in the trash; returns how many reports were in it."""
    count = len(trashed(corpus))
    shutil.rmtree(corpus / TRASH, ignore_errors=True)
    return count
