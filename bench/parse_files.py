"""Parse every real and bad test file through the isolated parser; print outcome, time and peak memory per file.

    python bench/parse_files.py [--json]

Files: the seed, tests/data/corpus-extra (with raw/GLOTIP2024_Chapter_2.pdf) when present, the seed rendered as
DOCX and HTML, and the bad files of tests/test_bad_files.py. An "unhandled" error is anything other than a
ReportError with its one-line message; a "hang" is a parse stopped by the timeout.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.docgen import seed_as_docx, seed_as_html  # noqa: E402
from tests.test_bad_files import make_bad_files, wrapped_text  # noqa: E402
from tipqa.config import load_settings  # noqa: E402
from tipqa.errors import ReportError  # noqa: E402
from tipqa.ingest.isolation import parse_with_stats  # noqa: E402
from tipqa.ingest.reports import load_report  # noqa: E402

SEED = ROOT / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt"
EXTRA = ROOT / "tests" / "data" / "corpus-extra"


def candidates(work: Path) -> list[Path]:
    seed = load_report(SEED)
    files = [SEED, seed_as_docx(seed, work / "seed.docx"), seed_as_html(seed, work / "seed.html")]
    if EXTRA.is_dir():
        files += sorted(p for p in EXTRA.iterdir() if p.is_file() and p.suffix in (".txt", ".md"))
        files += sorted((EXTRA / "raw").glob("*.pdf"))
    make_bad_files(work / "bad")
    deep = work / "bad" / "deep.html"
    deep.write_text("<html><body>" + "<div>" * 10_000 + "<p>Deep text.</p>" + "</div>" * 10_000 + "</body></html>")
    (work / "bad" / "wrapped-lines.txt").write_text(wrapped_text())  # 100,000 lines, each continuing the one above
    return files + sorted((work / "bad").iterdir())


def measure(path: Path, settings) -> dict:
    started = time.perf_counter()
    row = {"file": path.name, "mb": round(path.stat().st_size / 2**20, 2)}
    try:
        report, stats = parse_with_stats(path, settings)
        return {**row, "outcome": "ok", "sections": len(report.sections), "seconds": round(stats.seconds, 2),
                "peak_rss_mb": round(stats.peak_rss_mb, 1)}
    except ReportError as error:
        hang = "was stopped" in str(error) and "longer than" in str(error)
        return {**row, "outcome": "hang" if hang else "refused", "message": str(error),
                "seconds": round(time.perf_counter() - started, 2)}
    except Exception as error:  # noqa: BLE001  the bench counts what the library failed to turn into a message
        return {**row, "outcome": "unhandled", "message": f"{type(error).__name__}: {error}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="tipqa-parse-") as tmp:
        rows = [measure(path, settings) for path in candidates(Path(tmp))]
    ok = [r for r in rows if r["outcome"] == "ok"]
    largest = max(ok, key=lambda r: r["mb"])
    totals = {"files": len(rows), "parsed": len(ok), "refused_with_message": sum(r["outcome"] == "refused" for r in rows),
              "unhandled": sum(r["outcome"] == "unhandled" for r in rows), "hangs": sum(r["outcome"] == "hang" for r in rows),
              "largest_parsed": largest["file"], "largest_peak_rss_mb": largest["peak_rss_mb"],
              "max_peak_rss_mb": max(r["peak_rss_mb"] for r in ok)}
    if args.json:
        print(json.dumps({"totals": totals, "rows": rows}, ensure_ascii=False))
        return
    for r in rows:
        detail = f"{r.get('sections', '')} sections, peak {r.get('peak_rss_mb')} MB" if r["outcome"] == "ok" else r["message"]
        print(f"{r['outcome']:9} {r['file'][:48]:48} {r['mb']:8.2f} MB {r['seconds'] if 'seconds' in r else '':>6} s  {detail}")
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
