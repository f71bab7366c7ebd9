"""Do the index folder and the PostgreSQL store give the same answers, to the last bit?

    python bench/stores_alike.py [--src DIR] [--limit N]

The seed report and every file of tests/data/corpus-extra (the reports eval/*_qa.jsonl were written from) are
indexed in each store (a scratch pgserver database), with the encoders `tipqa serve` uses; every question of
eval/*_qa.jsonl is asked of both. Printed: how many questions got the same answer, evidence, passages and passage
scores bit for bit, how many only within 1e-5 of each other, how many further apart, and the furthest.
tests/test_postgres.py asserts the first for every question; this script gives the counts for another source tree
(--src, e.g. a `git worktree` of an earlier commit: the "before" of bench/README.md, "The question's background,
'other' answers ranked, and the two stores alike").
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EXTRA, ROOT, emit, log, machine  # noqa: E402

# --src DIR: the tipqa source tree to compare the stores of (after _common, which puts this one's src/ first)
SRC = Path(sys.argv[sys.argv.index("--src") + 1]) if "--src" in sys.argv else ROOT / "src"
sys.path.insert(0, str(SRC))


def compare(folder, database, questions: list[str]) -> dict:
    same = close = 0
    apart = []
    for question in questions:
        a, b = folder.ask(question), database.ask(question)
        said = (a.answer, a.evidence and a.evidence.sentence) == (b.answer, b.evidence and b.evidence.sentence)
        ids = [p.chunk_id for p in a.passages] == [p.chunk_id for p in b.passages]
        scores = np.array([p.score for p in a.passages]), np.array([p.score for p in b.passages])
        sized = len(scores[0]) == len(scores[1]) and len(scores[0]) > 0
        gap = float(np.abs(scores[0] - scores[1]).max()) if sized else 1.0
        if said and ids and gap == 0.0 and a.confidence == b.confidence:
            same += 1
        elif said and ids and gap <= 1e-5:
            close += 1
        else:  # the largest score gap at one rank; whether the passages' order (or the answer) differs too
            apart.append((round(gap, 6), "reordered" if not ids else "", "other answer" if not said else "",
                          question))
    apart.sort(reverse=True)
    return {"questions": len(questions), "identical": same, "within_1e-5": close, "apart": len(apart),
            "furthest": apart[:10]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, help="the tipqa source tree to compare (default: this one's src/)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    args = parser.parse_args()
    import pgserver

    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    log(f"tipqa from {Path(sys.modules['tipqa'].__file__).parent}")
    questions = []
    for path in sorted((ROOT / "eval").glob("*_qa.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        questions += [json.loads(line)["question"] for line in lines if line.strip()]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        corpus = work / "corpus"
        corpus.mkdir()
        for source in [*EXTRA.iterdir(), *(ROOT / "corpus").iterdir()]:
            if source.is_file() and source.name != "SOURCES.md":
                (corpus / source.name).write_bytes(source.read_bytes())
        server = pgserver.get_server(str(work / "pg"))
        name = f"bench_{uuid.uuid4().hex[:8]}"
        server.psql(f"CREATE DATABASE {name};")
        files = load_settings(corpus_dir=corpus, index_dir=work / "index")
        folder = Assistant.open(settings=files, progress=lambda f, m: None)
        database = Assistant.open(settings=files.with_overrides(database_url=server.get_uri(name),
                                                                index_dir=work / "index-db"),
                                  progress=lambda f, m: None)
        folder.warm_up()
        database.warm_up()
        result = compare(folder, database, questions[:args.limit])
        server.cleanup()
    emit("stores_alike", {**result, "machine": machine()})
    print(f"{result['questions']} questions: identical {result['identical']}, within 1e-5 {result['within_1e-5']}, "
          f"apart {result['apart']}")
    for gap, reordered, answered, question in result["furthest"]:
        print(f"  {gap:.6f} {reordered:9} {answered:12} {question}")


if __name__ == "__main__":
    main()
