"""Every benchmark, tipqa vs the naive recipe in the same run; prints a summary with ratios (`make bench`).

Each benchmark runs in its own process (so peak memory is its own) and prints JSON lines; this script saves
them to bench/results/<time>.jsonl and prints a Markdown summary to stdout. Progress goes to stderr.

    python bench/run.py                      # everything (about 30-60 min on a busy 2-core machine)
    python bench/run.py --quick              # smaller sizes and fewer repeats (a few minutes)
    python bench/run.py --only latency,cli   # some of: cli, latency, incremental, quality, sentences, web,
                                             # models (e5 vs MiniLM, bench/e5_costs.py)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, log, machine  # noqa: E402

BENCH = ROOT / "bench"


def plans(quick: bool) -> dict[str, list[str]]:
    return {
        "cli": ["cli.py", "--repeats", "1" if quick else "3", "--asks", "3" if quick else "7"],
        "latency": ["latency.py", "--sizes", "1000,10000" if quick else "1000,10000,100000,1000000",
                    "--questions", "15" if quick else "40"],
        "incremental": ["incremental.py", "--sizes", "10,100" if quick else "10,100,1000",
                        "--repeats", "1" if quick else "3", "--naive-max", "10"],
        "quality": ["quality.py", *(["--skip-scifact"] if quick else [])],
        "sentences": ["answer_sentences.py"],
        "web": ["web_latency.py", "--clients", "20", "--rounds", "1" if quick else "3"],
        "models": ["e5_costs.py", "--builds", "1" if quick else "2", "--asks", "3" if quick else "7"],
    }


def run(name: str, args: list[str]) -> tuple[list[dict], str]:
    log(f"{name}: {' '.join(args)}")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(BENCH / args[0]), *args[1:]], capture_output=True, text=True)
    log(f"{name}: done in {time.perf_counter() - started:.0f} s (exit {done.returncode})")
    if done.returncode:
        log(done.stderr[-3000:])
    rows, text = [], []
    for line in done.stdout.splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            text.append(line)  # benchmarks that print a table (web_latency.py)
    return rows, "\n".join(text)


def med(stats: dict, scale: float = 1.0, digits: int = 3) -> str:
    return f"{stats['median'] * scale:.{digits}g}"


def summarise(rows: list[dict]) -> list[str]:
    lines = ["| measurement | tipqa | naive | ratio |", "|---|---|---|---|"]
    for r in rows:
        kind = r["bench"]
        if kind == "build":
            lines.append(f"| build, {r['passages']} passages (chunks/s; naive: 1000-char windows/s) | "
                         f"{med(r['fast_chunks_per_s'])} ({r['fast_tokens_per_s']} tokens/s) | "
                         f"{med(r['naive_windows_per_s'])} | {r['ratio_chunks_per_s']}x |")
            lines.append(f"| build wall time incl. start-up (s) | {med(r['fast_wall_s'])} | {med(r['naive_wall_s'])} | "
                         f"{r['ratio_wall']}x |")
            if "fast_stages_s" in r:
                stages = ", ".join(f"{k} {med(v)}" for k, v in r["fast_stages_s"].items())
                lines.append(f"| build stages (s): {stages}; embedding alone {med(r['fast_embed_chunks_per_s'])} "
                             f"chunks/s | | | |")
        elif kind == "encoder_only":
            lines.append(f"| encoder alone, {r['texts']} passages (chunks/s): ONNX int8 vs torch fp32 | "
                         f"{med(r['onnx_int8_chunks_per_s'])} | {med(r['torch_fp32_chunks_per_s'])} | {r['ratio']}x |")
        elif kind == "cold_ask":
            lines.append(f"| cold `tipqa ask` wall (s), peak MB | {med(r['fast_wall_s'])}, {r['fast_peak_mb']:.0f} | "
                         f"{med(r['naive_wall_s'])}, {r['naive_peak_mb']:.0f} | {r['ratio']}x |")
            if "numpy_rescoring_wall_s" in r:
                lines.append(f"| cold `tipqa ask` without the int8 graph (numpy rescoring) (s) | "
                             f"{med(r['numpy_rescoring_wall_s'])} | | |")
        elif kind == "latency":
            recall = f", recall@10 {r['recall_at_10']:.3f}" if r.get("recall_at_10") is not None else ""
            lines.append(f"| answer p50/p95 at {r['passages']:,} passages (ms) [{r['index']}{recall}; "
                         f"retrieval alone p50 {med(r['search_ms'])}; peak {r['peak_rss_mb']} MB] | "
                         f"{med(r['answer_ms'])} / {r['answer_ms']['p95']:.3g} | {med(r['naive_answer_ms'])} / "
                         f"{r['naive_answer_ms']['p95']:.3g} | {r['naive_answer_ms']['median'] / r['answer_ms']['median']:.2f}x |")
            if r.get("question_ms"):
                q = r["question_ms"]
                lines.append(f"| encoding a question (ms): warmed-up {q['warm_kind']} vs numpy (min cosine "
                             f"{q['min_cosine']}) | {med(q['warm'])} | {med(q['numpy'])} | "
                             f"{q['numpy']['median'] / q['warm']['median']:.2f}x |")
        elif kind == "answer_sentences":
            differ = ", ".join(f"{k.split('_')[1]}: {v['questions_differing_from_encoded']}" for k, v in r["stored"].items())
            lines.append(f"| {r['set']}: questions whose outcome differs from encoding every sentence, by RESCORE "
                         f"({differ}) | | | |")
        elif kind == "incremental_add":
            naive = f"{r['naive_rebuild_s']}{'' if r.get('naive_measured') else ' (est.)'}" if "naive_rebuild_s" in r else "-"
            lines.append(f"| add a 20-page report to {r['reports']} reports ({r['passages_before']:,} passages; "
                         f"{r['embedded_per_add']} embedded) (s), server / `tipqa add` | {med(r['add_s'])} / "
                         f"{med(r['cli_add_wall_s']) if 'cli_add_wall_s' in r else '-'} | {naive} | {r.get('ratio', '-')}x |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated: cli, latency, incremental, quality, sentences, web")
    args = parser.parse_args()
    chosen = plans(args.quick)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    out = BENCH / "results" / f"{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
    out.parent.mkdir(exist_ok=True)
    rows, texts = [{"bench": "machine", **machine()}], []
    for name, plan in chosen.items():
        got, text = run(name, plan)
        rows += got
        if text.strip():
            texts.append(f"### {name}\n```\n{text.strip()}\n```")
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"Machine: {json.dumps(rows[0])}\n")
    print("\n".join(summarise(rows)))
    for r in rows:
        if r["bench"].startswith("quality") or r["bench"] in ("cold_ask", "models"):
            print(f"\n{r['bench']}: {json.dumps({k: v for k, v in r.items() if k not in ('machine', 'bench')})}")
    print("\n".join(texts))
    log(f"raw results: {out}")


if __name__ == "__main__":
    main()
