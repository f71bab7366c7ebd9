"""What the integrity checks cost at 1M passages: the hashing a load now does, and the block checks per answer.

    python bench/integrity.py [--passages 1000000] [--json]

A generation of N passages holds (as README's Performance section measures them) float32 vectors (N x 384 x 4
bytes), BM25 weights (~500 bytes a passage), a chunk table (~120 bytes a passage), statements (~100 bytes a
passage); those are read whole at load and now hashed every time (store/files.py: two threads beside the
parsing). chunks.jsonl (~1 KB a passage) and sentences.npy (~3.4 float16 vectors of 384 a passage) are read piece by
piece, each 64 KiB block checked against its CRC-32 (store/checks.py). Files of those sizes are written to a
temporary folder and put through the same functions; figures go to stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipqa.hashing import sha256_file  # noqa: E402
from tipqa.store.checks import BLOCK, BlockSums, CheckedFile  # noqa: E402

WHOLE = {"vectors.faiss": 384 * 4, "lexical.npz": 500, "chunk_table.npz": 120, "statements.jsonl": 100}
PIECEMEAL = {"chunks.jsonl": 1000, "sentences.npy": 2600}  # ~3.4 float16 sentence vectors of 384


def write(path: Path, size: int, sums: BlockSums | None = None) -> None:
    rng = np.random.default_rng(0)
    with path.open("wb") as handle:
        left = size
        while left:
            part = rng.integers(0, 256, min(left, 1 << 24), dtype=np.uint8).tobytes()
            handle.write(part)
            if sums is not None:
                sums.update(part)
            left -= len(part)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.passages
    figures: dict = {"passages": n}
    with tempfile.TemporaryDirectory(prefix="tipqa-integrity-") as tmp:
        folder = Path(tmp)
        for name, per in WHOLE.items():
            write(folder / name, n * per)
        sums = {}
        started = time.perf_counter()
        for name, per in PIECEMEAL.items():
            sums[name] = BlockSums()
            write(folder / name, n * per, sums[name])
            sums[name] = sums[name].result()
        figures["whole_mb"] = round(sum(n * per for per in WHOLE.values()) / 2**20)
        figures["piecemeal_mb"] = round(sum(n * per for per in PIECEMEAL.values()) / 2**20)
        for name in WHOLE:  # warm the page cache, as the load's own reading of the files does
            (folder / name).read_bytes()
        started = time.perf_counter()
        for name in WHOLE:
            (folder / name).read_bytes()
        figures["read_whole_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(sha256_file, [folder / name for name in WHOLE]))
        figures["hash_whole_s_2_threads"] = round(time.perf_counter() - started, 2)
        rng = np.random.default_rng(1)
        checked = {name: CheckedFile(folder / name, sums[name]) for name in PIECEMEAL}
        timings = []
        for _ in range(200):  # an answer reads ~5 passage records and their sentence rows
            started = time.perf_counter()
            for passage in rng.integers(0, n, 5):
                for name, per in PIECEMEAL.items():
                    start = int(passage) * per
                    checked[name].read(start, start + per)
            timings.append(time.perf_counter() - started)
        figures["checked_reads_per_answer_ms_p50"] = round(float(np.median(timings)) * 1000, 2)
        figures["block_kib"] = BLOCK // 1024
        figures["block_sums_kb"] = round(sum(a.nbytes for a in sums.values()) / 1024)
        for c in checked.values():
            c.close()
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{n:,} passages: files read whole {figures['whole_mb']:,} MB, read piecemeal {figures['piecemeal_mb']:,} MB")
    print(f"load-time sha256 of the whole-read files (2 threads): {figures['hash_whole_s_2_threads']} s "
          f"(reading them from the page cache: {figures['read_whole_s']} s)")
    print(f"block checks ({figures['block_kib']} KiB, CRC-32; {figures['block_sums_kb']} KB of sums) per answer "
          f"(5 records + their sentence rows): {figures['checked_reads_per_answer_ms_p50']} ms p50")


if __name__ == "__main__":
    main()
