"""Shared helpers for the benchmarks: machine info, repeated timing with median and spread, peak memory."""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

# As the tipqa command does (cli.py): one BLAS thread, set before numpy loads; see bench/README.md.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
SEED = ROOT / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt"
EXTRA = ROOT / "tests" / "data" / "corpus-extra"
EVAL = ROOT / "eval" / "seed_qa.jsonl"
CANONICAL = "Which country proposed joint investigation teams?"
sys.path.insert(0, str(SRC))


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def machine() -> dict:
    """What the figures were measured on, including how busy the machine was (it is shared)."""
    import numpy
    info = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "numpy": numpy.__version__, "load_avg_1m": round(os.getloadavg()[0], 2)}
    try:
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if "model name" in line)
        info["mem_gb"] = round(int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")))
                               / 2**20, 1)
    except (OSError, StopIteration):
        pass
    return info


def summary(values: list[float]) -> dict:
    """Median, p95, min and max of repeated measurements."""
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(values), "median": statistics.median(ordered), "p95": p95, "min": ordered[0], "max": ordered[-1]}


def fmt(stats: dict, unit: str = "s", scale: float = 1.0) -> str:
    return (f"{stats['median'] * scale:.3g} {unit} median (p95 {stats['p95'] * scale:.3g}, "
            f"range {stats['min'] * scale:.3g}-{stats['max'] * scale:.3g}, n={stats['n']})")


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_run(args: list[str], env: dict | None = None, timeout: float = 600) -> tuple[float, float, str]:
    """Run a command; returns (wall seconds, peak RSS MB of the child, stdout).

    As a user's installation runs it: with Python's bytecode cache (pip compiles it at install). Some machines set
    PYTHONDONTWRITEBYTECODE, which would add compiling tipqa's own ~50 modules (~0.2-0.8 s) to every command."""
    wrapped = ["/usr/bin/time", "-f", "%M", *args] if Path("/usr/bin/time").exists() else args
    child = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not getattr(timed_run, "compiled", False):
        import compileall
        compileall.compile_dir(str(SRC), quiet=1)
        timed_run.compiled = True
    started = time.perf_counter()
    done = subprocess.run(wrapped, capture_output=True, text=True, env={**child, **(env or {})}, timeout=timeout)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed: {done.stderr[-2000:]}")
    peak = float(done.stderr.strip().splitlines()[-1]) / 1024 if wrapped is not args else float("nan")
    return wall, peak, done.stdout


def real_corpus(target: Path) -> Path:
    """The seed report plus tests/data/corpus-extra (text and Markdown), copied into target."""
    import shutil
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, target / SEED.name)
    shutil.copy(SEED.with_name(SEED.name + ".meta.json"), target / (SEED.name + ".meta.json"))
    if EXTRA.is_dir():
        for path in sorted(EXTRA.iterdir()):
            if path.suffix in (".txt", ".md") and path.name != "SOURCES.md":
                shutil.copy(path, target / path.name)
    else:
        log(f"{EXTRA} is missing: measuring on the seed report alone")
    return target


def emit(name: str, result: dict) -> None:
    """One JSON line per benchmark on stdout (bench/run.py collects them)."""
    print(json.dumps({"bench": name, **result}, ensure_ascii=False), flush=True)
