"""A number step like the document step (answering/documents.py), tried for issue 13 and not kept: for the
development questions that ask for a number, each number of the top five passages' sentences is read with its own
words (from the number before it to the one after) and compared with the question by the embedding model; the best
answers when its cosine is at least FLOOR and beats the next by MARGIN, else the usual answer. Prints the usual
answers' right / wrong, how often the top pick is right, and the best floor / margin pairs (right - wrong first).

    python bench/number_step.py [--sets dev,dev2,dev3,dev4]
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, log  # noqa: E402
from answers import SETS, corpus, index_for  # noqa: E402


def candidates(hits) -> list[tuple[str, str]]:
    """(number, its own words) for every number of the top five passages' sentences."""
    from tipqa.answering.spans import chunk_entities
    out = []
    for hit in hits[:5]:
        text = hit.chunk.text
        for start, end in hit.chunk.sentences:
            numbers = [e for e in chunk_entities(text) if e.kind == "number" and start <= e.start < end]
            for i, e in enumerate(numbers):
                left = numbers[i - 1].end if i else start
                right = numbers[i + 1].start if i + 1 < len(numbers) else end
                out.append((e.text, " ".join(text[left:right].split())))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="dev,dev2,dev3,dev4")
    args = parser.parse_args()
    from tipqa.answering import kinds
    from tipqa.answering.answer import retrieval_text
    from tipqa.answering.questions import analyse
    from tipqa.answering.retrieval import search
    from tipqa.assistant import Assistant
    from tipqa.config import load_settings
    from tipqa.evaluate import answer_matches, load_items
    folder = corpus("nine", ROOT / "bench" / ".cache" / "answers")
    assistant = Assistant.open(settings=load_settings(corpus_dir=folder, index_dir=index_for(folder)),
                               progress=lambda f, m: None)
    rows = []
    for name in args.sets.split(","):
        if name == "test" or SETS[name][1] != "nine":
            raise SystemExit(f"{name}: only the development sets over the nine reports")
        for item in load_items(ROOT / "eval" / SETS[name][0]):
            text = retrieval_text(item.question)
            query = assistant.question_embedder.embed_query(item.question)
            hits = search(assistant.data, query, text, assistant.settings.top_k, asked=item.question)
            sentences, calibrated = assistant._answer_inputs(assistant.data, query)
            if kinds.refine(analyse(item.question), assistant.settings.model, calibrated, sentences).expected != "number":
                continue
            found = candidates(hits)
            ranked = []
            if found:
                cosines = assistant.sentence_vectors([words for _, words in found]) @ (query / np.linalg.norm(query))
                ranked = sorted(((float(c), number) for c, (number, _) in zip(cosines, found)), reverse=True)
            golds = [item.answer, *item.aliases] if item.answer else []
            usual = assistant.ask(item.question).answer
            rows.append((golds, ranked, usual))
        log(f"{name}: {len(rows)} number questions so far")

    def right(answer, golds) -> bool:
        return bool(golds) and answer_matches(answer, golds)

    usual_right = sum(right(u, g) for g, _, u in rows)
    usual_wrong = sum(u is not None and not right(u, g) for g, _, u in rows)
    top_right = sum(bool(r) and right(r[0][1], g) for g, r, _ in rows)
    print(f"{len(rows)} questions ask for a number: the usual answers {usual_right} right, {usual_wrong} wrong; "
          f"the step's top pick right {top_right}")
    outcomes = []
    for floor, margin in itertools.product([0.70 + 0.01 * i for i in range(20)], [0, 0.01, 0.02, 0.03, 0.05, 0.08]):
        good = bad = fired = 0
        for golds, ranked, usual in rows:
            fires = bool(ranked) and ranked[0][0] >= floor and \
                ranked[0][0] - (ranked[1][0] if len(ranked) > 1 else floor) >= margin
            answer = ranked[0][1] if fires else usual
            fired += fires
            good += right(answer, golds)
            bad += answer is not None and not right(answer, golds)
        outcomes.append((good - bad, good, bad, fired, round(floor, 2), margin))
    print("best pairs (right - wrong, right, wrong, fired, floor, margin):")
    for outcome in sorted(outcomes, reverse=True)[:5]:
        print(" ", outcome)


if __name__ == "__main__":
    main()
