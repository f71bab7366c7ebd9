"""Parse a report in a child process with time and memory limits, so a bad file cannot take tipqa down.

The parent (CLI, web app, builds) never runs a parser itself: a parser that crashes, hangs or balloons only
ends its own child process, and the parent turns that into a ReportError with a plain message.

A build parses many files through parse_many_isolated: one child parses them one after another, since a
child's start-up (~0.1 s of CPU) cost more than parsing a typical text report. The limits stay per file.
"""
from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..config import Settings, cpu_cores
from ..errors import ReportError
from .reports import Report, Section, check_size, load_report, supported_extensions


@dataclass
class ParseStats:
    """What one isolated parse cost: wall time and the child's peak resident memory."""

    seconds: float
    peak_rss_mb: float


def parse_report_isolated(path: Path, settings: Settings) -> Report:
    """load_report(path) in a child process; see parse_with_stats."""
    return parse_with_stats(path, settings)[0]


def parse_with_stats(path: Path, settings: Settings) -> tuple[Report, ParseStats]:
    """Parse one report file in a child process limited to settings.parse_timeout and settings.parse_memory_mb.

    Raises:
        ReportError: the file is refused (type, size), cannot be parsed, or its parser crashed, hung or ran out
            of memory. The message names the file and what to do.
    """
    path = Path(path)
    max_bytes = settings.max_report_mb * 2**20
    _precheck(path, settings)
    started = time.perf_counter()
    command = [sys.executable, "-m", "tipqa.ingest.isolation", str(path), str(max_bytes), str(settings.parse_memory_mb)]
    try:
        child = subprocess.run(command, capture_output=True, timeout=settings.parse_timeout, env=_child_env())
    except subprocess.TimeoutExpired:
        raise _timeout_error(path, settings) from None
    result = _read_result(child, path, settings)
    report = _report_from_dict(result["report"])
    return report, ParseStats(time.perf_counter() - started, result["peak_rss_mb"])


def parse_many_isolated(paths: list[Path], settings: Settings) -> Iterator[tuple[Path, Report | ReportError]]:
    """Parse files one after another in a child process: (path, Report or ReportError) for each, in order.

    Each file has the limits parse_with_stats gives one: settings.parse_timeout from when the child starts it,
    settings.parse_memory_mb (the child's address space, reset between files as far as the allocator allows).
    A file that crashes, hangs or exhausts memory ends that child only: when the child had parsed files before
    it, it is retried alone in a fresh child (so memory the earlier files left behind cannot be what failed
    it), and the files after it go to a new child. The outcome of every file is what parse_with_stats gives.
    """
    pending: list[Path] = []
    for path in map(Path, paths):
        try:
            _precheck(path, settings)
        except ReportError as error:
            if pending:
                yield from _parse_in_one_child(pending, settings)
                pending = []
            yield path, error
        else:
            pending.append(path)
    yield from _parse_in_one_child(pending, settings)


def prefetch_parses(files: list[tuple[Path, int]], settings: Settings) -> dict[str, Future]:
    """Start isolated parses of FILES ((path, size) pairs, in the order the caller reads them), so they run while
    the caller works on the reports before them: one child process per core, each parsing its share one after
    another (a child's start-up was most of a text file's parse). Shares are balanced by size.

    Returns:
        file name -> Future of its Report (or its ReportError); {} for fewer than two files.
    """
    if len(files) < 2:
        return {}
    shares: list[list[tuple[Path, int]]] = [[] for _ in range(min(len(files), cpu_cores()))]
    sizes = [0] * len(shares)
    for file in sorted(files, key=lambda f: -f[1]):  # largest first, each to the lightest share
        lightest = sizes.index(min(sizes))
        shares[lightest].append(file)
        sizes[lightest] += file[1]
    futures = {path.name: Future() for path, _ in files}

    def parse(share: list[tuple[Path, int]], mine: list[Future]) -> None:
        try:
            for future, (_, outcome) in zip(mine, parse_many_isolated([path for path, _ in share], settings)):
                if isinstance(outcome, ReportError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
        except BaseException as error:  # noqa: BLE001  whatever stopped this share fails its files, not the build
            for future in mine:
                if not future.done():
                    future.set_exception(error)

    for share in shares:
        share.sort(key=files.index)
        mine = [futures[path.name] for path, _ in share]
        threading.Thread(target=parse, args=(share, mine), name="tipqa-parse", daemon=True).start()
    return futures


def _parse_in_one_child(paths: list[Path], settings: Settings) -> Iterator[tuple[Path, Report | ReportError]]:
    while paths:
        command = [sys.executable, "-m", "tipqa.ingest.isolation", "--many", str(settings.max_report_mb * 2**20),
                   str(settings.parse_memory_mb), *map(str, paths)]
        errors = tempfile.TemporaryFile()  # not a pipe: a chatty parser must not block on a full one
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors,
                                 env=_child_env())
        done = 0
        try:
            for line in _lines(child, settings.parse_timeout):
                result = json.loads(line.decode("utf-8"))
                path = paths[done]
                if result.get("error"):
                    if result.get("memory") and done:
                        yield _alone(path, settings)  # memory other files left may be what ran out
                    else:
                        yield path, ReportError(result["error"])
                else:
                    yield path, _report_from_dict(result["report"])
                done += 1
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            yield paths[done], _timeout_error(paths[done], settings)
            done += 1
        else:
            if done < len(paths):  # the child ended partway: a crash, or the memory limit in the parser's C code
                child.wait()
                if done:
                    yield _alone(paths[done], settings)
                else:
                    errors.seek(0)
                    failed = subprocess.CompletedProcess(command, child.returncode, b"", errors.read())
                    try:
                        _read_result(failed, paths[done], settings)  # no result: raises the plain message
                        outcome = ReportError(f"{paths[done].name}: the parser ended without a result.")
                    except ReportError as error:
                        outcome = error
                    yield paths[done], outcome
                done += 1
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()
            errors.close()
        paths = paths[done:]


def _alone(path: Path, settings: Settings) -> tuple[Path, Report | ReportError]:
    try:
        return path, parse_report_isolated(path, settings)
    except ReportError as error:
        return path, error


def _lines(child: subprocess.Popen, timeout: float) -> Iterator[bytes]:
    """The child's stdout line by line; TimeoutExpired when a line takes longer than TIMEOUT to come."""
    buffer = bytearray()
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        fd = child.stdout.fileno()
        while True:
            newline = buffer.find(b"\n")
            if newline >= 0:
                yield bytes(buffer[:newline])
                del buffer[:newline + 1]
                deadline = time.monotonic() + timeout
                continue
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise subprocess.TimeoutExpired(child.args, timeout)
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return  # the child ended; a partial last line is a crash mid-write
            buffer += chunk


def _precheck(path: Path, settings: Settings) -> None:
    """What is refused before a child starts: an unsupported type (the message lists the formats), a size."""
    if path.suffix.lower() not in supported_extensions():
        load_report(path)  # raises UnsupportedFormat with the list of formats
    check_size(path, settings.max_report_mb * 2**20)  # a 200 MB file is refused without being read


def _timeout_error(path: Path, settings: Settings) -> ReportError:
    return ReportError(
        f"{path.name}: parsing took longer than {settings.parse_timeout} s and was stopped. The file may be "
        f"damaged or built to hang parsers; re-export it, or raise TIPQA_PARSE_TIMEOUT if it is just very large.")


def _child_env() -> dict[str, str]:
    """The child must import this same tipqa, installed or not, and needs no threads for numeric libraries."""
    env = dict(os.environ)
    source_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH", "")) if p)
    env["OMP_NUM_THREADS"] = "1"
    return env


def _read_result(child: subprocess.CompletedProcess, path: Path, settings: Settings) -> dict:
    try:
        result = json.loads(child.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        result = None
    if isinstance(result, dict) and result.get("error"):
        raise ReportError(result["error"])
    if child.returncode == 0 and isinstance(result, dict) and "report" in result:
        return result
    if child.returncode < 0:
        how = signal.Signals(-child.returncode).name
        raise ReportError(
            f"{path.name}: the parser crashed ({how}) on this file, probably damaged or malformed. Nothing was "
            f"indexed from it; re-export the file (or save it again from its editor) and add it again."
        )
    last = (child.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1][:200]
    raise ReportError(
        f"{path.name}: the parser stopped with exit code {child.returncode} ({last}). The file may be damaged or "
        f"need more than {settings.parse_memory_mb} MB; re-export it or raise TIPQA_PARSE_MEMORY_MB."
    )


def _report_from_dict(record: dict) -> Report:
    sections = [Section(**section) for section in record.pop("sections")]
    return Report(sections=sections, **record)


# ---- the child -----------------------------------------------------------------------------------------------
def _child_main(argv: list[str]) -> int:
    """Entry point of the child: apply the memory limit, parse, print one JSON line on stdout.

    argv: PATH MAX_BYTES MEMORY_MB, or --many MAX_BYTES MEMORY_MB PATH... (a line each, flushed as it is done)."""
    if argv[:1] == ["--many"]:
        max_bytes, memory_mb, paths = int(argv[1]), int(argv[2]), [Path(a) for a in argv[3:]]
    else:
        paths, max_bytes, memory_mb = [Path(argv[0])], int(argv[1]), int(argv[2])
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashing parser must not leave core files behind
    sys.setrecursionlimit(10_000)
    for path in paths:
        _reset_peak_rss()
        out = _parse_one(path, max_bytes, memory_mb)
        out["peak_rss_mb"] = _peak_rss_mb()
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def _parse_one(path: Path, max_bytes: int, memory_mb: int) -> dict:
    try:
        report = load_report(path, max_bytes=max_bytes)
        return {"report": report.to_dict()}
    except ReportError as error:
        return {"error": str(error)}
    except MemoryError:
        return {"memory": True,
                "error": f"{path.name}: parsing needed more than {memory_mb} MB of memory and was stopped. The file "
                         f"may be damaged or a decompression bomb; re-export it, or raise TIPQA_PARSE_MEMORY_MB."}
    except RecursionError:
        return {"error": f"{path.name}: the document is nested too deeply to read. Simplify or re-export it."}
    except Exception as error:  # noqa: BLE001  the isolation boundary: any parser failure becomes one message
        return {"error": f"{path.name}: could not be parsed ({type(error).__name__}: {str(error)[:200]}). The file "
                         f"may be damaged; re-export it and add it again."}


def _reset_peak_rss() -> None:
    """Start this process's peak resident memory afresh (Linux), so each file's figure is its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    """This process's own peak resident memory. VmHWM restarts at exec; ru_maxrss would include the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
