"""What fault and misuse trials found (issue 15): refused files, atomic adds, recoverable removes, truthful
re-runs after a kill, quarantine, linear sentence splitting, sanitised questions, a damaged CURRENT."""
from __future__ import annotations

import errno
import json
import os
import shutil

import pytest

from tipqa.assistant import Assistant, sanitize_question
from tipqa.errors import CopyError
from tipqa.ingest import corpus as corpus_folder
from tipqa.store.files import IndexStore, IndexWriteError
from tipqa.text import MAX_SENTENCE_CHARS, sentence_spans

from .conftest import SEED_ID
from .test_cli import run


def test_symlinks_hidden_and_special_files_are_refused_with_one_line(settings, hash_embedder, tmp_path):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    link = tmp_path / "passwd.txt"
    link.symlink_to("/etc/passwd")
    hidden = tmp_path / ".notes.txt"
    hidden.write_text("The delegation of Peru said hello.\n")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    result = assistant.add([link, hidden, fifo])
    assert set(result.errors) == {"passwd.txt", ".notes.txt", "pipe.txt"}
    assert "symbolic link" in result.errors["passwd.txt"] and "hidden" in result.errors[".notes.txt"]
    assert "not a regular file" in result.errors["pipe.txt"]
    assert all("\n" not in message for message in result.errors.values())
    assert sorted(p.name for p in settings.corpus_dir.iterdir() if not p.name.endswith(".meta.json")) == [
        f"{SEED_ID}.txt"]
    assert "root:x:0:0" not in json.dumps(assistant.ask("Which country proposed joint teams?").to_dict())


def test_a_symlink_dropped_into_the_corpus_is_quarantined_not_indexed(settings, hash_embedder):
    (settings.corpus_dir / "passwd.txt").symlink_to("/etc/passwd")
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    assert list(assistant.data.reports) == [SEED_ID]
    assert "symbolic link" in assistant.quarantined()["passwd.txt"]


def test_a_long_file_name_is_shortened_not_refused(settings, hash_embedder, second_report):
    long_name = second_report.with_name("r" * 251 + ".txt")
    second_report.rename(long_name)
    result = Assistant.open(settings=settings, embedder=hash_embedder).add([long_name])
    assert not result.errors and len(result.added) == 1
    stored = [p.name for p in settings.corpus_dir.iterdir() if p.name.startswith("rrr")]
    assert len(stored) == 1 and len(stored[0].encode()) <= corpus_folder.MAX_NAME_BYTES
    assert any("stored as" in note for note in result.notes)


def test_a_full_disk_during_the_copy_or_the_index_leaves_the_corpus_as_it_was(settings, hash_embedder,
                                                                               second_report, monkeypatch):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    before = sorted(p.name for p in settings.corpus_dir.iterdir())

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(corpus_folder.shutil, "copyfileobj", full)
    with pytest.raises(CopyError, match="unchanged"):
        assistant.add([second_report])
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == before
    monkeypatch.undo()
    monkeypatch.setattr(IndexStore, "_write_file", full)
    with pytest.raises(IndexWriteError, match="still live"):
        assistant.add([second_report])
    monkeypatch.undo()
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == before  # the copy was taken out again
    assert Assistant.open(settings=settings, embedder=hash_embedder).data.reports.keys() == {SEED_ID}


def test_remove_goes_to_the_trash_and_restore_brings_it_back(settings, hash_embedder):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    result = assistant.remove(SEED_ID)
    assert result.removed == [SEED_ID] and "trash" in result.notes[0]
    assert not any(p.is_file() for p in settings.corpus_dir.iterdir())
    assert [item["report_id"] for item in assistant.trash()] == [SEED_ID]
    again = assistant.remove(SEED_ID)  # a second remove says what is true
    assert "already removed" in again.notes[0]
    restored = assistant.restore(SEED_ID)
    assert restored.added == [SEED_ID] and assistant.trash() == []
    assert (settings.corpus_dir / f"{SEED_ID}.txt.meta.json").is_file()  # the sidecar came back too
    restored_answer = assistant.ask("Which country proposed joint investigation teams?")
    assert any(p.report_id == SEED_ID and "Brazil proposed" in p.text for p in restored_answer.passages)


def test_re_running_an_interrupted_add_or_remove_says_what_is_true_and_exits_0(settings, second_report):
    env = {"TIPQA_CORPUS_DIR": str(settings.corpus_dir), "TIPQA_INDEX_DIR": str(settings.index_dir),
           "TIPQA_ENCODER": "fast"}
    assert run("build", env=env).returncode == 0
    shutil.copy2(second_report, settings.corpus_dir / second_report.name)  # a kill after the copy, before indexing
    added = run("add", str(second_report), env=env)
    assert added.returncode == 0, added.stderr
    assert "already in the corpus" in added.stdout and "1 added" in added.stdout
    (settings.corpus_dir / second_report.name).unlink()  # a kill after the move to the trash, before indexing
    removed = run("remove", "rtp-iii-2012-guatemala", env=env)
    assert removed.returncode == 0, removed.stderr
    assert "already out of the corpus" in removed.stdout and "1 removed" in removed.stdout
    listed = run("reports", env=env)
    assert "rtp-iii" not in listed.stdout


def test_a_file_that_fails_is_quarantined_once_and_listed(settings):
    (settings.corpus_dir / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    env = {"TIPQA_CORPUS_DIR": str(settings.corpus_dir), "TIPQA_INDEX_DIR": str(settings.index_dir)}
    built = run("build", env=env)
    assert built.returncode == 0 and "1 quarantined" in built.stdout and "broken.pdf" in built.stderr
    listed = run("reports", env=env)
    assert listed.returncode == 0 and "QUARANTINED\tbroken.pdf\t" in listed.stdout and SEED_ID in listed.stdout
    reopened = Assistant(settings)
    assert not reopened.indexer.corpus_changed(reopened.data)  # not parsed again at every start
    assert "broken.pdf" in reopened.quarantined()


def test_text_without_sentence_ends_is_cut_into_bounded_sentences():
    text = " ".join(["word"] * 100_000)  # 500 KB, no punctuation
    spans = sentence_spans(text)
    assert max(end - start for start, end in spans) <= MAX_SENTENCE_CHARS
    assert " ".join(text[a:b] for a, b in spans) == text
    dotted = "a. " * 50_000  # many periods, each checked for an abbreviation
    assert sentence_spans(dotted)


@pytest.mark.parametrize("raw", ["Which country\ud800 proposed teams?", b"Which country \xff\xfe proposed teams?",
                                 "Which\x00 country\x1b proposed teams?"])
def test_questions_are_sanitised_before_encoding(raw, settings, hash_embedder):
    clean = sanitize_question(raw)
    clean.encode("utf-8")  # encodable
    answer = Assistant.open(settings=settings, embedder=hash_embedder).ask(raw)
    assert answer.question


def test_a_batch_with_invalid_bytes_and_lone_surrogates_answers_every_line(settings):
    env = {"TIPQA_CORPUS_DIR": str(settings.corpus_dir), "TIPQA_INDEX_DIR": str(settings.index_dir)}
    assert run("build", env=env).returncode == 0
    import subprocess
    import sys
    batch = b"Which country\xff proposed joint investigation teams?\n\xed\xa0\x80\n\nWho chaired the meeting?\n"
    result = subprocess.run([sys.executable, "-m", "tipqa", "ask", "-"], input=batch, capture_output=True,
                            env={**os.environ, **env}, timeout=300)
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(lines) == 3 and lines[0]["answer"] == "Brazil" and "error" in lines[1]


def test_a_damaged_current_falls_back_and_build_rebuild_recovers(settings, hash_embedder):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    (settings.index_dir / "CURRENT").write_bytes(b"\xff\xfe not a generation")
    reopened = Assistant.open(settings=settings, embedder=hash_embedder, refresh=False)
    assert reopened.data.generation == assistant.data.generation and "CURRENT" in reopened.data.warnings[0]
    rebuilt = Assistant(settings, embedder=hash_embedder).refresh(rebuild=True)
    assert IndexStore(settings.index_dir).current_name() == rebuilt.generation


@pytest.mark.parametrize("reports", [1, 20])
def test_speakers_chart_is_one_bar_per_speaker_and_one_colour_per_report(reports):
    import pandas as pd

    from tipqa.web.speakers import render_chart
    speakers = [f"Speaker {i}" for i in range(24)]
    frame = pd.DataFrame([{"speaker": s, "report": f"2009-01-{r + 1:02d} report-{r}", "statements": 1 + (i + r) % 3}
                          for i, s in enumerate(speakers) for r in range(reports)])
    html = render_chart(frame)
    assert html.count('class="tipqa-chart-row"') == 24  # every speaker, none cut off
    legend = html.split('class="tipqa-chart-legend">', 1)[1].split("</div>", 1)[0]
    colours = [part.split(")", 1)[0] if part.startswith("repeating") else part.split('"', 1)[0]
               for part in legend.split("background:")[1:]]
    assert len(colours) == reports == len(set(colours))  # one distinct colour per report
