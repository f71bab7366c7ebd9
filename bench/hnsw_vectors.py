"""What reading the candidates' vectors costs an answer in the PostgreSQL store's HNSW mode.

    python bench/hnsw_vectors.py [--questions 150]

Retrieval scores its candidates from their stored vectors (answering.retrieval.cosines); above
pg_generation.EXACT_LIMIT passages the database store reads them in one query per answer
(DatabaseGeneration.vectors_of). The seed report and tests/data/corpus-extra go into a scratch pgserver database,
read back with exact_limit=0 (HNSW, as above the limit), and eval/dev_qa.jsonl's questions are asked through
Assistant.ask (the first 10 as warm-up); each answer's time and the time spent in vectors_of are printed, and their
ratio over the same answers.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, emit, fmt, log, machine, real_corpus, summary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=150)
    args = parser.parse_args()
    import pgserver

    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    from tipqa.store import pg_generation
    from tipqa.store.postgres import DatabaseStore
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        server = pgserver.get_server(str(work / "pg"))
        name = f"bench_{uuid.uuid4().hex[:8]}"
        server.psql(f"CREATE DATABASE {name};")
        url = server.get_uri(name)
        settings = load_settings(corpus_dir=real_corpus(work / "corpus"), index_dir=work / "index", database_url=url)
        assistant = Assistant.open(settings=settings, progress=lambda f, m: None)
        assistant.warm_up()
        assistant._data = DatabaseStore(url, exact_limit=0).load()
        log(f"{len(assistant.data.chunks)} passages, HNSW mode")
        spent: list[float] = []
        read = pg_generation.DatabaseGeneration.vectors_of

        def timed(self, rows):
            started = time.perf_counter()
            try:
                return read(self, rows)
            finally:
                spent[-1] += time.perf_counter() - started

        pg_generation.DatabaseGeneration.vectors_of = timed
        lines = (ROOT / "eval" / "dev_qa.jsonl").read_text(encoding="utf-8").splitlines()
        questions = [json.loads(line)["question"] for line in lines if line.strip()][:args.questions]
        answers = []
        for question in questions:
            spent.append(0.0)
            started = time.perf_counter()
            assistant.ask(question)
            answers.append(time.perf_counter() - started)
        server.cleanup()
    answers, spent = answers[10:], spent[10:]
    result = {"passages": len(assistant.data.chunks), "answers": len(answers), "answer": summary(answers),
              "vectors_of": summary(spent), "share": round(sum(spent) / sum(answers), 4), "machine": machine()}
    emit("hnsw_vectors", result)
    print(f"answer {fmt(result['answer'], 'ms', 1e3)}\nvectors_of {fmt(result['vectors_of'], 'ms', 1e3)}\n"
          f"share of the answers' time: {result['share']:.3f}")


if __name__ == "__main__":
    main()
