"""Web app latency: N concurrent gradio_client calls to /ask, idle and while a report is being indexed.

Starts a real server on a free local port over a scratch copy of the seed corpus (the real model), then prints
p50 / p95 / max latency and throughput for each phase. Figures go to stdout, progress to stderr.

    python bench/web_latency.py [--clients 20] [--rounds 3] [--report tests/data/un-palermo-protocol-2000.md]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.web_server (the same server the tests start)
QUESTIONS = [
    "Which country proposed joint investigation teams?",
    "Who chaired the meeting?",
    "What did Mexico say about victims?",
    "¿Qué país propuso equipos conjuntos de investigación?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def burst(url: str, clients: int) -> tuple[list[float], int, float]:
    """CLIENTS simultaneous /ask calls, each from its own connected client (connecting is not timed).

    Returns (latencies, errors, wall seconds)."""
    from gradio_client import Client
    users = [Client(url, verbose=False) for _ in range(clients)]

    def one(i: int) -> float | None:
        started = time.perf_counter()
        try:
            users[i].predict(QUESTIONS[i % len(QUESTIONS)], "", "", api_name="/ask")
        except Exception as error:  # a benchmark counts failures rather than stopping at the first
            print(f"error: {error}", file=sys.stderr)
            return None
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(one, range(clients)))
    wall = time.perf_counter() - started
    return [r for r in results if r is not None], sum(r is None for r in results), wall


def report(label: str, latencies: list[float], errors: int, wall: float) -> None:
    if not latencies:
        print(f"{label}: all {errors} calls failed")
        return
    print(f"{label}: n={len(latencies)} errors={errors} p50={statistics.median(latencies):.2f}s "
          f"p95={percentile(latencies, 0.95):.2f}s max={max(latencies):.2f}s "
          f"throughput={len(latencies) / wall:.1f} q/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--report", type=Path, default=ROOT / "tests" / "data" / "un-palermo-protocol-2000.md")
    args = parser.parse_args()
    from tests.web_server import start_server
    from tipqa.encoders.sbert import SentenceTransformerEmbedder

    with tempfile.TemporaryDirectory() as scratch:
        server = start_server(Path(scratch), SentenceTransformerEmbedder.default())
        burst(server.url, 2)  # warm-up: first calls pay for lazy imports
        for round_ in range(1, args.rounds + 1):
            report(f"idle   round {round_}", *burst(server.url, args.clients))
        build = threading.Thread(target=server.app.add_reports, args=([str(args.report)],))
        build.start()
        while build.is_alive() and not server.app.assistant._build_lock.locked():
            time.sleep(0.01)
        build_started = time.perf_counter()
        latencies, errors, wall = burst(server.url, args.clients)
        still_building = build.is_alive()
        build.join()
        report("during indexing", latencies, errors, wall)
        print(f"indexing {args.report.name} took {time.perf_counter() - build_started:.1f}s; "
              f"build {'still running' if still_building else 'finished'} when the burst ended")
        server.close()


if __name__ == "__main__":
    main()
