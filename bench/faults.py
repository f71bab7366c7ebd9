"""Fault and misuse trials: kill -9 during add/remove/restore/copy, every single-file corruption, bad files,
fuzzed questions, and a full disk at each write step. Figures go to stdout (one line per trial kind, or --json).

    python bench/faults.py [--kills 60] [--bad 50] [--questions 1000] [--json] [--seed 1]

Index writes use HashEmbedder (the write path does not depend on the model, and a trial then takes about a
second); the fuzzed questions go through the real encoders (numpy, then onnxruntime after warm-up), where a
bad question once gave a TypeError. Run it next to bench/durability.py (kill -9 during rebuilds).
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipqa.assistant import Assistant  # noqa: E402
from tipqa.config import load_settings  # noqa: E402
from tipqa.encoders.model import HashEmbedder  # noqa: E402
from tipqa.errors import QuestionError, TipqaError  # noqa: E402
from tipqa.store.files import IndexStore  # noqa: E402

SEED = ROOT / "corpus" / "oas-rtp-ii-2009-buenos-aires-report.txt"
QUESTION = "Which country proposed joint investigation teams?"
SECOND = ("OPENING CEREMONY\nThe meeting's opening ceremony was led by the Minister of Foreign Affairs of Guatemala.\n"
          "ELECTION OF OFFICERS OF THE MEETING\nThe delegation of Nicaragua nominated Zulma Subillaga Dubón to chair "
          "the meeting. She was elected by acclamation.\n"
          + "".join(f"Item {i}: the delegation of Peru noted that {i} victims were assisted in year {1990 + i}.\n"
                    for i in range(60)))
SECOND_ID = "second-report"
# The child of a kill trial: one operation, as the CLI runs it, with the fast embedder; prints its summary.
CHILD = """
import json, sys
sys.path.insert(0, {src!r})
from tipqa.assistant import Assistant
from tipqa.config import load_settings
from tipqa.encoders.model import HashEmbedder
from tipqa.errors import TipqaError
op, arg, corpus, index = sys.argv[1:5]
a = Assistant(load_settings(corpus_dir=corpus, index_dir=index), embedder=HashEmbedder(), progress=lambda f, m: None)
try:
    r = getattr(a, op)([arg] if op == "add" else arg)
except TipqaError as e:
    print(json.dumps({{"exit": 1, "message": str(e)}})); sys.exit(1)
failed = op == "add" and r.errors
print(json.dumps({{"exit": 1 if failed else 0, "message": r.summary(), "errors": r.errors}}))
sys.exit(1 if failed else 0)
"""


class SentenceHashEmbedder(HashEmbedder):
    """HashEmbedder that also gives each passage's sentence vectors, as the ONNX build does: generations then hold
    sentences.npy and sentence_start.npy, so their corruption is tried too."""

    def embed_passages(self, texts, spans):
        vectors = self.embed_documents(texts)
        return vectors, [self.embed_documents([text[a:b] for a, b in sentence_spans]).astype("float16")
                         for text, sentence_spans in zip(texts, spans)]


def fresh(root: Path, second: bool = False, embedder=None) -> tuple:
    corpus, index = root / "corpus", root / "index"
    shutil.rmtree(root, ignore_errors=True)
    corpus.mkdir(parents=True)
    shutil.copy(SEED, corpus / SEED.name)
    shutil.copy(SEED.with_name(SEED.name + ".meta.json"), corpus / (SEED.name + ".meta.json"))
    settings = load_settings(corpus_dir=corpus, index_dir=index)
    assistant = Assistant(settings, embedder=embedder or HashEmbedder(), progress=lambda f, m: None)
    assistant.refresh()
    if second:
        (root / "incoming").mkdir(exist_ok=True)
        (root / "incoming" / f"{SECOND_ID}.txt").write_text(SECOND, encoding="utf-8")
        assistant.add([root / "incoming" / f"{SECOND_ID}.txt"])
    return settings, assistant


def run_child(op: str, arg: str, settings, timeout: float = 120) -> subprocess.Popen:
    code = CHILD.format(src=str(ROOT / "src"))
    return subprocess.Popen([sys.executable, "-c", code, op, arg, str(settings.corpus_dir), str(settings.index_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def state(settings) -> tuple[set, set]:
    """(report ids the live index holds, report files in the corpus folder)."""
    data = IndexStore(settings.index_dir).load()
    files = {p.name for p in Path(settings.corpus_dir).iterdir() if p.is_file() and not p.name.startswith(".")}
    return set(data.reports), files


def kill_trials(n: int, rng: random.Random, root: Path) -> dict:
    """kill -9 during add, remove, restore and the copy of a large add; then re-run the same operation."""
    out = {"trials": 0, "inconsistent": 0, "misleading": 0, "by_op": {}}
    big = root / "big" / "big-report.txt"
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_text(SECOND + "".join(f"Line {i} of the annex lists case {i * 7} in district {i % 97}.\n"
                                    for i in range(120_000)), encoding="utf-8")  # ~7 MB: a kill during the copy
    ops = ["add", "remove", "restore", "copy"]
    for trial in range(n):
        op = ops[trial % len(ops)]
        settings, assistant = fresh(root / "t", second=op in ("remove", "restore"))
        incoming = Path(settings.corpus_dir).parent / "incoming" / f"{SECOND_ID}.txt"
        if op == "restore":
            assistant.remove(SECOND_ID)
        if op == "add":
            incoming.parent.mkdir(exist_ok=True)
            incoming.write_text(SECOND, encoding="utf-8")
        source = str(big) if op == "copy" else str(incoming) if op == "add" else SECOND_ID
        child_op = "add" if op == "copy" else op
        child = run_child(child_op, source, settings)
        time.sleep(rng.uniform(0.05, 2.5))
        child.send_signal(signal.SIGKILL)
        child.communicate()
        ok = True
        try:
            reports, files = state(settings)
            partial = [p for p in Path(settings.corpus_dir).iterdir() if p.name == big.name
                       and p.stat().st_size != big.stat().st_size]
            ok = not partial
        except TipqaError:
            ok = False
        rerun = run_child(child_op, source, settings)
        stdout, _ = rerun.communicate(timeout=300)
        reply = json.loads(stdout.decode().strip().splitlines()[-1]) if stdout.strip() else {"exit": rerun.returncode}
        try:
            reports, files = state(settings)
        except TipqaError:
            reports, files = set(), set()
            ok = False
        wanted_id = "big-report" if op == "copy" else SECOND_ID
        present = wanted_id in reports and any(f.startswith(wanted_id) for f in files)
        absent = wanted_id not in reports and not any(f.startswith(wanted_id) for f in files)
        ok = ok and (absent if op == "remove" else present)
        misleading = rerun.returncode != 0
        out["trials"] += 1
        out["inconsistent"] += not ok
        out["misleading"] += misleading
        by = out["by_op"].setdefault(op, {"trials": 0, "inconsistent": 0, "misleading": 0})
        by["trials"] += 1
        by["inconsistent"] += not ok
        by["misleading"] += misleading
        if not ok or misleading:
            print(f"kill trial {trial} ({op}): ok={ok} rerun={reply}", file=sys.stderr)
    return out


def corruption_cases(root: Path) -> dict:
    """Every file of a generation truncated, and flipped at three places with its size and mtime kept; CURRENT
    made invalid four ways. Detected: an error naming the fix, a fallback with a warning, or the same answer."""
    out = {"cases": 0, "undetected": 0, "tracebacks": 0, "rebuild_failed": 0}
    settings, assistant = fresh(root / "c", second=True, embedder=SentenceHashEmbedder())
    baseline = _answer(settings)
    files = sorted(p.name for p in assistant.data.path.iterdir())
    cases = [(f, kind) for f in files for kind in ("truncate", "flip-start", "flip-middle", "flip-end")]
    cases += [("CURRENT", kind) for kind in ("non-utf8", "garbage", "empty", "missing-generation")]
    for name, kind in cases:
        settings, assistant = fresh(root / "c", second=True, embedder=SentenceHashEmbedder())
        path = (assistant.data.path / name) if name != "CURRENT" else Path(settings.index_dir) / "CURRENT"
        _damage(path, kind)
        outcome = _answer(settings)
        out["cases"] += 1
        if outcome == "traceback":
            out["tracebacks"] += 1
        elif outcome != "error" and not outcome[1] and outcome[0] != baseline[0]:
            out["undetected"] += 1
            print(f"undetected: {name} {kind}: {outcome[0]} vs {baseline[0]}", file=sys.stderr)
        try:
            Assistant(settings, embedder=SentenceHashEmbedder(), progress=lambda f, m: None).refresh(rebuild=True)
            if _answer(settings)[0] != baseline[0]:
                raise RuntimeError("a different answer after the rebuild")
        except Exception as error:  # noqa: BLE001  a bench counts every failure
            out["rebuild_failed"] += 1
            print(f"rebuild failed after {name} {kind}: {error!r}", file=sys.stderr)
    return out


def _damage(path: Path, kind: str) -> None:
    if kind == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return
    if path.name == "CURRENT":
        path.write_bytes({"non-utf8": b"\xff\xfe\x00gen", "garbage": b"../../etc", "empty": b"",
                          "missing-generation": b"gen-20000101T000000-000000000-1"}[kind])
        return
    stat = path.stat()
    data = bytearray(path.read_bytes())
    if data:
        at = {"flip-start": 0, "flip-middle": len(data) // 2, "flip-end": len(data) - 1}[kind]
        data[at] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # size and mtime as the writer recorded them


def _answer(settings):
    """(answer and evidence, warned) from a new process's view of the index; 'error' or 'traceback'."""
    warnings: list[str] = []
    try:
        assistant = Assistant.open(settings=settings, embedder=SentenceHashEmbedder(), refresh=False,
                                   progress=lambda f, m: warnings.append(m))
        answer = assistant.ask(QUESTION).to_dict()
        return (answer["answer"], (answer["evidence"] or {}).get("sentence")), bool(warnings)
    except TipqaError:
        return "error"
    except Exception as error:  # noqa: BLE001  what the bench counts
        print(f"traceback: {error!r}", file=sys.stderr)
        return "traceback"


def bad_files(n: int, rng: random.Random, root: Path) -> dict:
    """tipqa add of hostile or broken files, each in a child with a 300 s guard."""
    folder = root / "bad"
    folder.mkdir(parents=True, exist_ok=True)
    words = "Brazil Mexico said the delegation noted proposed teams victims".split()
    made: list[tuple[Path, bool]] = []  # (file, must be refused)

    def make(name: str, data: bytes, refuse: bool) -> None:
        path = folder / name
        path.write_bytes(data)
        made.append((path, refuse))

    for mb in (1, 4):
        make(f"no-punctuation-{mb}mb.txt", " ".join(rng.choice(words) for _ in range(mb * 2**20 // 7)).encode(), False)
    make("one-long-line.md", b"# T\n" + b"x" * 3_000_000, False)
    make("empty.txt", b"", True)
    make("nul.txt", b"\0" * 100_000, True)
    make("deep.html", b"<div>" * 200_000 + b"text" + b"</div>" * 200_000, False)
    make("latin1.txt", "Informe: Perú propuso equipos conjuntos. ".encode("latin-1") * 2000, False)
    make(".hidden.txt", SECOND.encode(), True)
    make("x" * 251 + ".txt", SECOND.encode(), False)  # shortened, not refused
    (folder / "passwd-link.txt").unlink(missing_ok=True)
    (folder / "passwd-link.txt").symlink_to("/etc/passwd")
    made.append((folder / "passwd-link.txt", True))
    fifo = folder / "fifo.txt"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    made.append((fifo, True))
    (folder / "adir.txt").mkdir(exist_ok=True)
    made.append((folder / "adir.txt", True))
    for ext in (".pdf", ".docx"):
        make(f"garbage{ext}", bytes(rng.getrandbits(8) for _ in range(20_000)), True)
        make(f"truncated{ext}", (b"%PDF-1.4\n1 0 obj\n" if ext == ".pdf" else b"PK\x03\x04") + b"\0" * 500, True)
    i = 0
    while len(made) < n:
        ext = rng.choice([".txt", ".md", ".html", ".pdf", ".docx"])
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 50_000)))
        make(f"random-{i}{ext}", data, ext in (".pdf", ".docx"))
        i += 1
    out = {"files": 0, "hangs": 0, "tracebacks": 0, "wrongly_accepted": 0, "max_seconds": 0.0}
    for path, refuse in made:
        settings, _ = fresh(root / "b")
        started = time.perf_counter()
        child = run_child("add", str(path), settings)
        try:
            stdout, stderr = child.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            out["hangs"] += 1
            print(f"hang: {path.name[:60]}", file=sys.stderr)
            continue
        seconds = time.perf_counter() - started
        out["files"] += 1
        out["max_seconds"] = max(out["max_seconds"], round(seconds, 1))
        if b"Traceback" in stderr:
            out["tracebacks"] += 1
            print(f"traceback: {path.name[:60]}: {stderr.decode()[-300:]}", file=sys.stderr)
        reports, _ = state(settings)
        accepted = len(reports) > 1
        if refuse and accepted:
            out["wrongly_accepted"] += 1
            print(f"wrongly accepted: {path.name[:60]}", file=sys.stderr)
        with_ask = Assistant.open(settings=settings, embedder=HashEmbedder(), progress=lambda f, m: None)
        if "root:x:0:0" in json.dumps(with_ask.ask(QUESTION).to_dict()):
            out["wrongly_accepted"] += 1
    return out


def fuzzed_questions(n: int, rng: random.Random, root: Path) -> dict:
    """N random questions through the real encoders: lone surrogates, invalid bytes, controls, long, empty."""
    settings, _ = fresh(root / "q")
    assistant = Assistant.open(settings=load_settings(corpus_dir=settings.corpus_dir, index_dir=root / "q-real"),
                               progress=lambda f, m: None)
    pieces = ["Which country", " proposed ", "joint", "\ud800", "\udfff", "\x00", "\x1b[31m", "¿Qué país?", "中文",
              "\u202e", "\ufeff", "é", "🙂", "\n", "\t", " ", "?", "a" * 500, "<script>", "%s", "{}", "\\"]
    out = {"questions": 0, "answered": 0, "question_errors": 0, "other_exceptions": 0}
    for i in range(n):
        parts = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        question: str | bytes = "".join(parts)
        if i % 5 == 0:
            question = question.encode("utf-8", "surrogatepass") + bytes([rng.getrandbits(8)])
        out["questions"] += 1
        try:
            assistant.ask(question)
            out["answered"] += 1
        except QuestionError:
            out["question_errors"] += 1
        except Exception as error:  # noqa: BLE001  what the bench counts
            out["other_exceptions"] += 1
            print(f"exception on {question!r}: {error!r}", file=sys.stderr)
    return out


def full_disk(root: Path) -> dict:
    """ENOSPC at each write step of an add (the corpus copy, then each index file): the corpus and the index
    must be as before, or the report fully added."""
    from tipqa.ingest import corpus as corpus_folder
    out = {"steps": 0, "unchanged": 0, "complete": 0, "broken": 0, "unclear_messages": 0}
    step = 0
    while True:
        settings, assistant = fresh(root / "d")
        before = state(settings)
        incoming = root / "d" / "incoming" / f"{SECOND_ID}.txt"
        incoming.parent.mkdir(exist_ok=True)
        incoming.write_text(SECOND, encoding="utf-8")
        calls = {"n": 0}
        real_copy, real_write = corpus_folder.shutil.copyfileobj, IndexStore._write_file

        def failing(*args, real=None, **kwargs):
            calls["n"] += 1
            if calls["n"] == step + 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(*args, **kwargs)

        corpus_folder.shutil.copyfileobj = lambda *a, **k: failing(*a, real=real_copy, **k)
        IndexStore._write_file = lambda *a, **k: failing(*a, real=real_write, **k)
        message = None
        try:
            assistant.add([incoming])
        except TipqaError as error:
            message = str(error)
        finally:
            corpus_folder.shutil.copyfileobj, IndexStore._write_file = real_copy, real_write
        if calls["n"] <= step:
            break  # the add made fewer writes than this step: every step was tried
        out["steps"] += 1
        after = state(settings)
        if after == before:
            out["unchanged"] += 1
        elif SECOND_ID in after[0] and f"{SECOND_ID}.txt" in after[1]:
            out["complete"] += 1
        else:
            out["broken"] += 1
            print(f"full disk at step {step}: {before} -> {after}", file=sys.stderr)
        if message is None or "unchanged" not in message and "still live" not in message:
            out["unclear_messages"] += 1
            print(f"full disk at step {step}: message {message!r}", file=sys.stderr)
        step += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--bad", type=int, default=50)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", help="comma-separated: kill_trials,corruption,bad_files,fuzzed_questions,full_disk")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="tipqa-faults-") as tmp:
        root = Path(tmp)
        figures = {}
        for name, run in (("kill_trials", lambda: kill_trials(args.kills, rng, root)),
                          ("corruption", lambda: corruption_cases(root)),
                          ("bad_files", lambda: bad_files(args.bad, rng, root)),
                          ("fuzzed_questions", lambda: fuzzed_questions(args.questions, rng, root)),
                          ("full_disk", lambda: full_disk(root))):
            if args.only and name not in args.only.split(","):
                continue
            started = time.perf_counter()
            figures[name] = run()
            figures[name]["seconds"] = round(time.perf_counter() - started, 1)
            if not args.json:
                print(f"{name}: {json.dumps(figures[name])}", flush=True)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
