"""Parse a report in a child process with time and memory limits, so a bad file cannot take tipqa down.

The parent (CLI, web app, builds) never runs a parser itself: a parser that crashes, hangs or balloons only
ends its own child process, and the parent turns that into a ReportError with a plain message.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import ReportError
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
    if path.suffix.lower() not in supported_extensions():
        load_report(path)  # raises UnsupportedFormat with the list of formats
    check_size(path, max_bytes)  # before spawning: a 200 MB file is refused without being read
    started = time.perf_counter()
    command = [sys.executable, "-m", "tipqa.isolation", str(path), str(max_bytes), str(settings.parse_memory_mb)]
    try:
        child = subprocess.run(command, capture_output=True, timeout=settings.parse_timeout, env=_child_env())
    except subprocess.TimeoutExpired:
        raise ReportError(
            f"{path.name}: parsing took longer than {settings.parse_timeout} s and was stopped. The file may be "
            f"damaged or built to hang parsers; re-export it, or raise TIPQA_PARSE_TIMEOUT if it is just very large."
        ) from None
    result = _read_result(child, path, settings)
    report = _report_from_dict(result["report"])
    return report, ParseStats(time.perf_counter() - started, result["peak_rss_mb"])


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
    """Entry point of the child: apply the memory limit, parse, print one JSON object on stdout."""
    path, max_bytes, memory_mb = Path(argv[0]), int(argv[1]), int(argv[2])
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashing parser must not leave core files behind
    sys.setrecursionlimit(10_000)
    try:
        report = load_report(path, max_bytes=max_bytes)
        out = {"report": report.to_dict()}
    except ReportError as error:
        out = {"error": str(error)}
    except MemoryError:
        out = {"error": f"{path.name}: parsing needed more than {memory_mb} MB of memory and was stopped. The file "
                        f"may be damaged or a decompression bomb; re-export it, or raise TIPQA_PARSE_MEMORY_MB."}
    except RecursionError:
        out = {"error": f"{path.name}: the document is nested too deeply to read. Simplify or re-export it."}
    except Exception as error:  # noqa: BLE001  the isolation boundary: any parser failure becomes one message
        out = {"error": f"{path.name}: could not be parsed ({type(error).__name__}: {str(error)[:200]}). The file "
                        f"may be damaged; re-export it and add it again."}
    out["peak_rss_mb"] = _peak_rss_mb()
    sys.stdout.write(json.dumps(out, ensure_ascii=False))
    sys.stdout.flush()
    return 0


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
