"""Index generations: incremental refresh, atomic swap, failure injection, tamper detection, locking."""
import errno
import json
import shutil

import numpy as np
import pytest

from tipqa.assistant import Assistant
from tipqa.errors import IndexCorrupt, IndexLocked
from tipqa.store.files import IndexStore, IndexWriteError

from .conftest import CANONICAL, SEED_ID


def _chunk_ids(assistant):
    return sorted(c.chunk_id for c in assistant.data.chunks)


def test_first_build_then_nothing_to_do(settings, hash_embedder):
    assistant = Assistant(settings, embedder=hash_embedder)
    first = assistant.refresh()
    assert first.added == [SEED_ID] and first.embedded == first.chunks > 10
    hash_embedder.reset()
    again = Assistant(settings, embedder=hash_embedder).refresh()
    assert again.unchanged == [SEED_ID] and again.embedded == 0 and not hash_embedder.texts
    assert again.generation == first.generation  # no new generation when nothing changed


def test_manifest_records_model_counts_and_hashes(settings, hash_embedder):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    manifest = assistant.data.manifest
    assert manifest["model"]["id"] == "hash" and manifest["counts"]["chunks"] == len(assistant.data.chunks)
    assert set(manifest["files"]) == {"vectors.faiss", "chunks.jsonl", "lexical.npz", "lexical_vocab.json",
                                      "lexical_counts.npz", "statements.jsonl", "chunk_table.npz", "blocks.npz"}  # hash embedder: no sentence vectors
    assert len(manifest["reports"][SEED_ID]["source_hash"]) == 64
    assert manifest["tipqa_version"] and manifest["faiss_version"] and manifest["created"]


def test_remove_restores_previous_chunk_set(settings, hash_embedder, second_report):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    before = _chunk_ids(assistant)
    assistant.add([second_report])
    assert len(_chunk_ids(assistant)) > len(before)
    result = assistant.remove("rtp-iii-2012-guatemala")
    assert result.removed == ["rtp-iii-2012-guatemala"] and result.embedded == 0
    assert _chunk_ids(assistant) == before


def test_changed_report_is_reembedded_unchanged_is_not(settings, hash_embedder, second_report):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    assistant.add([second_report])
    hash_embedder.reset()
    target = settings.corpus_dir / second_report.name
    target.write_text(target.read_text(encoding="utf-8") + "\nCLOSING CEREMONY\nThe meeting was closed by the chair.\n",
                      encoding="utf-8")
    result = assistant.refresh()
    assert result.updated == ["rtp-iii-2012-guatemala"] and result.unchanged == [SEED_ID]
    assert hash_embedder.texts and all("closed by the chair" in t or "Guatemala" in t or "RAPPORTEUR" in t
                                       or "CLOSING" in t for t in hash_embedder.texts)
    assert result.embedded == len(hash_embedder.texts) <= 2  # only the new passage(s), not the whole report


def test_injected_write_error_leaves_previous_generation_live(settings, hash_embedder, second_report, monkeypatch):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    live = assistant.data.generation
    calls = {"n": 0}
    real_write = IndexStore._write_file

    def failing_write(self, path, data, *rest):
        calls["n"] += 1
        if calls["n"] == 3:  # in the middle of the payload
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, path, data, *rest)

    monkeypatch.setattr(IndexStore, "_write_file", failing_write)
    with pytest.raises(IndexWriteError, match="previous index is still live"):
        assistant.add([second_report])
    monkeypatch.undo()
    store = IndexStore(settings.index_dir)
    assert store.current_name() == live
    assert store.generations() == [live]  # the partial generation was removed
    assert store.load().generation == live


def test_killed_build_leaves_a_partial_generation_that_is_ignored(settings, hash_embedder):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    live = assistant.data.generation
    partial = settings.index_dir / "gen-99999999T999999-000000000-1"
    partial.mkdir()
    (partial / "vectors.faiss").write_bytes(b"half written")
    assert IndexStore(settings.index_dir).load().generation == live


@pytest.mark.parametrize("target, change", [
    ("manifest.json", lambda p: p.write_text("{not json")),
    ("manifest.json", lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "counts": {"chunks": 3}}))),
    ("vectors.faiss", lambda p: p.write_bytes(p.read_bytes()[:-40] + b"\x00" * 40)),
    ("lexical.npz", lambda p: p.unlink()),
])
def test_tampered_generation_gives_a_clear_error(settings, hash_embedder, target, change):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    change(assistant.data.path / target)
    with pytest.raises(IndexCorrupt, match=r"tipqa build --rebuild"):
        IndexStore(settings.index_dir).load()


def test_tampered_live_generation_falls_back_to_previous(settings, hash_embedder, second_report):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    first = assistant.data.generation
    assistant.add([second_report])
    (assistant.data.path / "vectors.faiss").write_bytes(b"garbage")
    data = IndexStore(settings.index_dir).load()
    assert data.generation == first and "damaged vectors.faiss" in data.warnings[0]
    # A build repairs it: the corpus is re-read and the index is whole again.
    result = Assistant(settings, embedder=hash_embedder).refresh()
    assert result.generation != first and "rtp-iii-2012-guatemala" in IndexStore(settings.index_dir).load().reports


def test_index_built_with_another_model_is_refused(settings, hash_embedder):
    Assistant.open(settings=settings, embedder=hash_embedder)
    with pytest.raises(IndexCorrupt, match="built with the model 'hash'.*tipqa build --rebuild"):
        Assistant.open(settings=settings, refresh=False).data


def test_one_writer_at_a_time(settings):
    store = IndexStore(settings.index_dir)
    with store.lock():
        with pytest.raises(IndexLocked, match="Wait for it to finish"):
            with IndexStore(settings.index_dir).lock(wait_seconds=0.3):
                pass


def test_corpus_deleted_report_is_dropped(settings, hash_embedder, second_report):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    assistant.add([second_report])
    (settings.corpus_dir / second_report.name).unlink()
    assert Assistant.open(settings=settings, embedder=hash_embedder).reports()[0]["report_id"] == SEED_ID
    shutil.rmtree(settings.index_dir)
    assert len(Assistant.open(settings=settings, embedder=hash_embedder).reports()) == 1


def test_a_reader_does_not_wait_for_a_running_build(settings, hash_embedder, second_report):
    live = Assistant.open(settings=settings, embedder=hash_embedder).data.generation
    (settings.corpus_dir / second_report.name).write_bytes(second_report.read_bytes())
    messages = []
    with IndexStore(settings.index_dir).lock():  # another process is building
        reader = Assistant.open(settings=settings, embedder=hash_embedder,
                                progress=lambda fraction, message: messages.append(message))
    assert reader.data.generation == live
    assert "another build is running" in messages[0]
    assert "rtp-iii-2012-guatemala" in Assistant.open(settings=settings, embedder=hash_embedder).data.reports


def test_a_new_tokenizer_rebuilds_bm25_without_reembedding(settings, hash_embedder):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    manifest_path = assistant.data.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["lexical"]["tokenizer"]
    manifest["lexical"]["tokenizer"] = "older-tokenizer"
    write_manifest(manifest_path, manifest)  # as an index from an earlier tipqa would say
    hash_embedder.reset()
    reopened = Assistant.open(settings=settings, embedder=hash_embedder)
    assert reopened.data.generation != assistant.data.generation and not hash_embedder.texts
    assert reopened.data.manifest["lexical"]["tokenizer"] != "older-tokenizer"


def test_new_chunking_rechunks_every_report_and_reuses_equal_passages(settings, hash_embedder):
    first = Assistant.open(settings=settings, embedder=hash_embedder)
    before = {c.content_hash for c in first.data.chunks}
    hash_embedder.reset()
    wider = Assistant.open(settings=settings.with_overrides(chunk_chars=1400), embedder=hash_embedder)
    after = wider.data.chunks
    assert wider.data.manifest["chunking"]["max_chars"] == 1400 and len(after) < len(before)
    new = [c for c in after if c.content_hash not in before]
    assert len(hash_embedder.texts) == len(new) < len(after)  # passages that did not change keep their vectors


def test_add_never_overwrites_a_different_report_of_the_same_name(settings, hash_embedder, second_report, tmp_path):
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    assistant.add([second_report])
    original = (settings.corpus_dir / second_report.name).read_bytes()
    impostor = tmp_path / "elsewhere" / second_report.name
    impostor.parent.mkdir()
    impostor.write_text("OPENING CEREMONY\nA different meeting altogether was opened by the chair.\n", encoding="utf-8")
    result = assistant.add([impostor])
    assert "already holds a different report under this name" in result.errors[impostor.name]
    assert (settings.corpus_dir / second_report.name).read_bytes() == original
    assert not result.changed


def test_build_stores_sentence_vectors_and_answers_from_them(settings):
    """The ONNX build stores every sentence's vector; answers read them (and rescore the best few on their own)
    and come out as when every sentence is encoded at question time."""
    assistant = Assistant.open(settings=settings)
    data = assistant.data
    assert {"sentences.npy", "sentence_start.npy"} <= set(data.manifest["files"])
    assert len(data.sentences.start) == len(data.chunks)
    assert data.sentences.vectors.shape[0] == sum(len(c.sentences) for c in data.chunks)
    encoded = {False: 0, True: 0}  # texts encoded as passages / as questions are
    original = assistant.sentence_vectors

    def counting(texts, as_questions=False):
        encoded[bool(as_questions)] += len(texts)
        return original(texts, as_questions)
    assistant.sentence_vectors = counting
    stored = assistant.ask(CANONICAL)
    from tipqa.answering.extract import RESCORE
    # no sentence was encoded as a passage: their stored vectors were read; only the few read a second time (and
    # the short contexts of the span model's candidates) were encoded on their own, as questions are
    assert stored.answer == "Brazil" and encoded[False] == 0 and encoded[True] > 0
    data.sentences = None  # as an index built without them: every sentence encoded
    encoded.update({False: 0, True: 0})
    everything = assistant.ask(CANONICAL)
    assert encoded[False] > RESCORE
    assert (everything.answer, everything.evidence.sentence) == (stored.answer, stored.evidence.sentence)


def test_incremental_term_counts_score_as_a_full_rebuild(settings, hash_embedder, second_report):
    """Adding a report reuses the term counts of the passages already indexed; BM25 scores are those of a build
    from scratch."""
    from tipqa.store.lexical import BM25
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    (settings.corpus_dir / second_report.name).write_bytes(second_report.read_bytes())
    hash_embedder.reset()
    result = assistant.refresh()
    assert result.added and result.embedded < len(assistant.data.chunks)
    incremental = assistant.data.lexical
    scratch = BM25.build([c.embedding_text() for c in assistant.data.chunks])
    for query in ("joint investigation teams Brazil", "trafficking victims protection", "Palermo protocol"):
        np.testing.assert_allclose(incremental.scores(query), scratch.scores(query), rtol=1e-5, atol=1e-6)


def test_ivf_reuses_the_previous_centroids_until_the_corpus_doubles():
    import faiss

    from tipqa.store.ann import build_vector_index
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(40, 32)).astype(np.float32)
    vectors = centres[rng.integers(0, 40, 6000)] + 0.1 * rng.normal(size=(6000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    first = build_vector_index(vectors[:5000], threshold=1000)
    again = build_vector_index(vectors, threshold=1000, previous=first)
    old, new = faiss.try_extract_index_ivf(first), faiss.try_extract_index_ivf(again)
    assert new.nlist == old.nlist and again.ntotal == 6000
    np.testing.assert_array_equal(new.quantizer.reconstruct_n(0, new.nlist), old.quantizer.reconstruct_n(0, old.nlist))
    _, approx = again.search(vectors[:50], 10)
    exact = np.argsort(-(vectors[:50] @ vectors.T), axis=1)[:, :10]
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact)]) >= 0.95
    # Reused rows keep their inverted list (no second assignment): the same index as assigning them afresh.
    origin = np.concatenate([np.arange(5000), np.full(1000, -1)])
    kept = build_vector_index(vectors, threshold=1000, previous=first, origin=origin)
    np.testing.assert_array_equal(kept.search(vectors[:50], 10)[1], again.search(vectors[:50], 10)[1])
    bigger = build_vector_index(np.concatenate([vectors, vectors, vectors]), threshold=1000, previous=again)
    assert faiss.try_extract_index_ivf(bigger).nlist > new.nlist  # retrained at the new size


def test_damage_that_kept_size_and_mtime_is_caught_before_it_is_used(settings, hash_embedder):
    """No trust in size and mtime: a file read whole is hashed at every load; a record of chunks.jsonl is checked
    against its block's CRC-32 when it is read."""
    import os
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    for name in ("lexical.npz", "chunk_table.npz", "vectors.faiss"):
        path = assistant.data.path / name
        stat, original = path.stat(), path.read_bytes()
        data = bytearray(original)
        data[len(data) // 2] ^= 0x20
        path.write_bytes(bytes(data))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as if the damage left no trace in the metadata
        with pytest.raises(IndexCorrupt, match=f"damaged {name}"):
            IndexStore(settings.index_dir).load_generation(assistant.data.generation)
        path.write_bytes(original)
    path = assistant.data.path / "chunks.jsonl"
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b"Brazil", b"Canada"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    loaded = IndexStore(settings.index_dir).load_generation(assistant.data.generation)
    with pytest.raises(IndexCorrupt, match="checksum"):
        [chunk.text for chunk in loaded.chunks]


def test_incremental_chunk_records_are_those_of_a_fresh_write(settings, hash_embedder, second_report):
    """Adding a report copies the kept chunk records as bytes: the file is what serialising every chunk gives."""
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    assert assistant.data.chunk_offsets is not None
    (settings.corpus_dir / second_report.name).write_bytes(second_report.read_bytes())
    assistant.refresh()  # the loaded generation is reused, byte offsets included
    data = assistant.data
    written = (data.path / "chunks.jsonl").read_bytes()
    fresh = "".join(json.dumps(c.to_record(), ensure_ascii=False) + "\n" for c in data.chunks).encode("utf-8")
    assert written == fresh
    reloaded = IndexStore(settings.index_dir).load()
    assert [c.to_record() for c in reloaded.chunks] == [c.to_record() for c in data.chunks]
    np.testing.assert_array_equal(reloaded.chunk_offsets, data.chunk_offsets)


def test_a_generation_loads_without_parsing_its_chunk_records(settings, hash_embedder, second_report, monkeypatch):
    """The chunk table carries what a load needs (report, content hash, sentence count, line offset): records are
    read when a field of theirs is first used, and are then those a full parse gives."""
    import pickle

    from tipqa.ingest.chunking import Chunk
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    assistant.add([second_report])
    lines = (assistant.data.path / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    parsed = []
    real_from_record = Chunk.from_record.__func__
    monkeypatch.setattr(Chunk, "from_record", classmethod(lambda cls, r: parsed.append(r) or real_from_record(cls, r)))
    data = IndexStore(settings.index_dir).load()
    counts = [len(c.sentences) for c in data.chunks]
    by_report = {c.report_id for c in data.chunks}
    ids = [c.chunk_id for c in data.chunks]
    assert not parsed and by_report == {SEED_ID, "rtp-iii-2012-guatemala"}
    fresh = [Chunk.from_record(json.loads(line)) for line in lines]
    assert ids == [c.chunk_id for c in fresh]
    parsed.clear()
    assert data.chunks[3].text == fresh[3].text and len(parsed) == 1  # one record read, once
    assert data.chunks[3].section_path == fresh[3].section_path and len(parsed) == 1
    assert counts == [len(c.sentences) for c in fresh]
    assert [c.content_hash for c in data.chunks] == [c.content_hash for c in fresh]
    assert list(data.chunks[5].sentences) == fresh[5].sentences and data.chunks[7].sentences == fresh[7].sentences
    assert data.chunks == fresh and [c.to_record() for c in data.chunks] == [c.to_record() for c in fresh]
    copy = pickle.loads(pickle.dumps(data.chunks[9]))
    assert type(copy) is Chunk and copy == fresh[9]


def test_a_loaded_generation_reads_its_records_after_it_is_pruned(settings, hash_embedder, second_report):
    """A server holding a generation keeps answering from it while other processes build twice (which prunes
    it): its chunk records come from the file it opened at load."""
    Assistant.open(settings=settings, embedder=hash_embedder)
    held = IndexStore(settings.index_dir).load()
    other = Assistant(settings, embedder=hash_embedder)
    other.add([second_report])
    other.remove("rtp-iii-2012-guatemala")
    other.add([second_report])
    assert not held.path.exists()
    assert "Brazil" in " ".join(c.text for c in held.chunks)


def test_a_generation_without_a_chunk_table_loads_and_the_next_add_writes_one(settings, hash_embedder,
                                                                                second_report):
    """Generations written before the chunk table parse every record at load; an add then writes the table."""
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    folder = assistant.data.path
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"]["chunk_table.npz"]
    (folder / "chunk_table.npz").unlink()
    write_manifest(folder / "manifest.json", manifest)  # as an earlier tipqa wrote it
    old = IndexStore(settings.index_dir).load()
    assert old.generation == assistant.data.generation and old.chunk_offsets is not None
    assert [c.to_record() for c in old.chunks] == [c.to_record() for c in assistant.data.chunks]
    result = Assistant(settings, embedder=hash_embedder).add([second_report])
    data = IndexStore(settings.index_dir).load()
    assert result.generation == data.generation and "chunk_table.npz" in data.manifest["files"]
    assert [c.to_record() for c in data.chunks[:len(old.chunks)]] == [c.to_record() for c in old.chunks]


def test_written_arrays_and_indexes_are_those_a_reload_gives(settings):
    """sentences.npy is what np.save writes; the vector and BM25 indexes a write returns (not read back) search
    as the reloaded ones do."""
    import io
    assistant = Assistant.open(settings=settings)
    data = assistant.data
    for name, array in (("sentences.npy", data.sentences.vectors), ("sentence_start.npy", data.sentences.start)):
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        assert (data.path / name).read_bytes() == buffer.getvalue()
    reloaded = IndexStore(settings.index_dir).load()
    query = data.all_vectors()[:5]
    np.testing.assert_array_equal(data.vectors.search(query, 10)[1], reloaded.vectors.search(query, 10)[1])
    np.testing.assert_array_equal(data.lexical.scores(CANONICAL), reloaded.lexical.scores(CANONICAL))


def test_a_full_disk_while_the_vectors_stream_out_keeps_the_previous_generation(settings, hash_embedder,
                                                                                 second_report, monkeypatch):
    """vectors.faiss is written by faiss through a callback: the file is what faiss.write_index gives, and an
    OSError raised inside the callback comes out as the friendly write error."""
    import pathlib

    import faiss
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    live = assistant.data.generation
    faiss.write_index(assistant.data.vectors, str(settings.index_dir / "direct.faiss"))
    assert (assistant.data.path / "vectors.faiss").read_bytes() == (settings.index_dir / "direct.faiss").read_bytes()
    (settings.index_dir / "direct.faiss").unlink()
    real_open, writes = pathlib.Path.open, []

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            writes.append(len(data))
            if len(writes) == 3:  # a few header fields in
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(data)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    def opening(path, *args, **kwargs):
        handle = real_open(path, *args, **kwargs)
        return FullDisk(handle) if path.name == "vectors.faiss" and "w" in args[0] else handle

    monkeypatch.setattr(pathlib.Path, "open", opening)
    with pytest.raises(IndexWriteError, match="No space left on device.*previous index is still live"):
        assistant.add([second_report])
    monkeypatch.undo()
    assert len(writes) == 3 and IndexStore(settings.index_dir).current_name() == live
    assert IndexStore(settings.index_dir).generations() == [live]


def test_incremental_statement_records_are_those_of_a_fresh_write(settings, hash_embedder, second_report):
    """Adding a report copies the kept statements' lines as bytes: the file is what serialising every one gives."""
    Assistant.open(settings=settings, embedder=hash_embedder)
    assistant = Assistant(settings, embedder=hash_embedder)
    assistant.add([second_report])  # from a loaded generation, as the CLI does
    data = assistant.data
    assert {s.report_id for s in data.statements} == {SEED_ID, "rtp-iii-2012-guatemala"}
    written = (data.path / "statements.jsonl").read_bytes()
    fresh = "".join(json.dumps(s.to_record(), ensure_ascii=False) + "\n" for s in data.statements).encode("utf-8")
    assert written == fresh
    reloaded = IndexStore(settings.index_dir).load()
    assert [s.to_record() for s in reloaded.statements] == [s.to_record() for s in data.statements]


def test_a_dropped_generation_closes_its_chunk_file(settings, hash_embedder, monkeypatch):
    """Each load holds chunks.jsonl open for its records; dropping the generation closes it, without the
    ResourceWarning of a file object left to the garbage collector."""
    import gc
    import os
    import sys
    import warnings
    Assistant.open(settings=settings, embedder=hash_embedder)
    store = IndexStore(settings.index_dir)
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    gc.collect()  # what earlier tests left to the collector is closed before counting, not during
    before = len(os.listdir("/proc/self/fd"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)  # raised in a finalizer: reported to unraisablehook
        for _ in range(3):
            data = store.load()
            assert len(os.listdir("/proc/self/fd")) == before + 1 and data.chunks[0].text
            del data
            gc.collect()
    assert len(os.listdir("/proc/self/fd")) == before and not unraisable


def test_a_chunk_table_without_ids_reads_them_with_the_records(settings, hash_embedder):
    """The first chunk tables (written for a few hours) had no chunk ids: they load, ids read from the records."""
    import hashlib
    assistant = Assistant.open(settings=settings, embedder=hash_embedder)
    folder = assistant.data.path
    with np.load(folder / "chunk_table.npz", allow_pickle=False) as table:
        arrays = {name: table[name] for name in table.files if name != "chunk_ids"}
    np.savez(folder / "chunk_table.npz", **arrays)
    manifest = json.loads((folder / "manifest.json").read_text())
    data = (folder / "chunk_table.npz").read_bytes()
    manifest["files"]["chunk_table.npz"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                            "mtime_ns": (folder / "chunk_table.npz").stat().st_mtime_ns}
    write_manifest(folder / "manifest.json", manifest)
    loaded = IndexStore(settings.index_dir).load()
    assert "chunk_id" not in vars(loaded.chunks[0])
    assert [c.chunk_id for c in loaded.chunks] == [c.chunk_id for c in assistant.data.chunks]


def test_removing_a_report_between_two_others_writes_the_records_of_a_fresh_write(settings, hash_embedder,
                                                                                   second_report):
    """Kept lines are copied in runs of consecutive rows: a removed report in the middle splits them."""
    from tipqa.ingest.reports import report_id_for

    from .conftest import EXTRA
    middle = next(p for p in sorted(EXTRA.glob("*.txt")) if "rtp3" not in p.name)
    target = settings.corpus_dir / f"p-{middle.name}"  # sorts between the two
    target.write_bytes(middle.read_bytes())
    (settings.corpus_dir / second_report.name).write_bytes(second_report.read_bytes())
    Assistant.open(settings=settings, embedder=hash_embedder)
    assistant = Assistant(settings, embedder=hash_embedder)
    assert len(assistant.data.reports) == 3
    assistant.remove(report_id_for(target))
    data = assistant.data
    assert [r for r in data.reports] == [SEED_ID, "rtp-iii-2012-guatemala"]
    fresh = "".join(json.dumps(c.to_record(), ensure_ascii=False) + "\n" for c in data.chunks).encode("utf-8")
    assert (data.path / "chunks.jsonl").read_bytes() == fresh
    reloaded = IndexStore(settings.index_dir).load()
    assert [c.to_record() for c in reloaded.chunks] == [c.to_record() for c in data.chunks]


def write_manifest(path, manifest: dict) -> None:
    """Rewrite a manifest as a test's older or altered tipqa would, sealed with its checksum as tipqa writes it."""
    from tipqa.store.checks import seal_manifest
    manifest = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    path.write_bytes(seal_manifest(json.dumps(manifest, ensure_ascii=False).encode()))


def test_stored_sentence_vectors_are_read_where_each_sentence_is(settings):
    """A passage is embedded after its context (its report's title, its section path); each sentence's stored
    vector is pooled over that sentence's own characters in the embedded text, as the build encoder gives it."""
    assistant = Assistant.open(settings=settings)
    data = assistant.data
    for chunk in data.chunks:
        shift = len(chunk.context_text) + 1
        assert chunk.report_title in chunk.context_text
        assert all(chunk.embedding_text()[a + shift:b + shift] == chunk.text[a:b] for a, b in chunk.sentences)
    row = max(range(len(data.chunks)), key=lambda i: len(data.chunks[i].sentences))
    chunk = data.chunks[row]
    _, parts = assistant.index_embedder.embed_passages(
        [chunk.embedding_text()], [[(a + len(chunk.context_text) + 1, b + len(chunk.context_text) + 1)
                                    for a, b in chunk.sentences]])
    stored = data.sentences.rows(row, len(chunk.sentences)).astype(np.float32)
    assert np.allclose(stored, parts[0].astype(np.float32), atol=2e-3)


def test_a_passage_is_read_with_its_reports_title_once_and_without_a_placeholder_section():
    from tipqa.ingest.chunking import Chunk

    def chunk(title, path):
        return Chunk("r/s/0", "r", title, path[-1], path, "Brazil proposed joint teams.", [(0, 28)], "h")

    assert chunk("Second Meeting Report", ["OPENING CEREMONY"]).context_text == "Second Meeting Report › OPENING CEREMONY"
    assert chunk("Protocol", ["Protocol", "Article 5"]).context_text == "Protocol › Article 5"
    assert chunk("Oas press release 2006", ["Text"]).context_text == "Oas press release 2006"
