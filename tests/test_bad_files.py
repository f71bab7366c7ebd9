"""Bad files: one clear line each, exit code 1 when alone, the other files still indexed, the index unchanged."""
import io
import os
import random
import subprocess
import zipfile

import pytest
from click.testing import CliRunner

from tipqa.assistant import Assistant
from tipqa.cli import cli
from tipqa.config import load_settings
from tipqa.errors import ReportError
from tipqa.ingest.isolation import _read_result, parse_many_isolated, parse_report_isolated, parse_with_stats
from tipqa.store.files import IndexStore

from .conftest import SEED, SEED_ID
from .docgen import sample_pdf


def _bomb_docx() -> bytes:
    """A .docx whose document.xml unpacks to 64 MB of zeros from a few dozen kB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            for _ in range(64):
                member.write(b"\0" * 2**20)
    return out.getvalue()


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample_pdf())))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_bad_files(folder) -> dict[str, str]:
    """Write each bad file; return file name -> a phrase its error message must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "empty.txt": (b"", "empty"),
        "random.pdf": (os.urandom(4096), "not a PDF"),
        "truncated.pdf": (sample_pdf()[:700], "damaged or incomplete"),
        "encrypted.pdf": (_encrypted_pdf(), "password-protected"),
        "bomb.docx": (_bomb_docx(), "zip bomb"),
        "notes.xyz": (b"hello", "unsupported file type"),
        "copy-of-seed.txt": (SEED.read_bytes(), "exact copy of"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    with (folder / "huge.txt").open("wb") as handle:
        handle.truncate(200 * 2**20)  # 200 MB, sparse: refused from its size, never read
    expected = {name: phrase for name, (_, phrase) in files.items()}
    expected["huge.txt"] = "TIPQA_MAX_REPORT_MB"
    return expected


@pytest.mark.parametrize("name", ["empty.txt", "random.pdf", "truncated.pdf", "encrypted.pdf", "bomb.docx",
                                  "notes.xyz", "huge.txt"])
def test_each_bad_file_gets_one_clear_line(tmp_path, name):
    expected = make_bad_files(tmp_path / "bad")
    with pytest.raises(ReportError) as caught:
        parse_report_isolated(tmp_path / "bad" / name, load_settings())
    message = str(caught.value)
    assert expected[name] in message and message.startswith(name) and "\n" not in message
    assert "Traceback" not in message


def wrapped_text(lines: int = 100_000) -> str:
    """A text file as a PDF converter writes it, every line cut mid-sentence and continued in lower case: one
    paragraph of LINES lines (varied words, so no line is dropped as a running header)."""
    words = "trafficking victims border report states protocol meeting delegation proposed regional".split()
    pick = random.Random(0).choice
    return "\n".join(" ".join(pick(words) for _ in range(9)) for _ in range(lines)) + "."


def test_a_hundred_thousand_wrapped_lines_join_as_one_paragraph(tmp_path):
    """Each wrapped line joins the paragraph above: every line read once, the paragraph built once (a join that
    re-read the whole paragraph at each line took 510 s for 20,000 lines; bench/parse_files.py times it)."""
    path = tmp_path / "wrapped.txt"
    path.write_text(wrapped_text())
    report, stats = parse_with_stats(path, load_settings())
    paragraphs = [p for s in report.sections for p in s.paragraphs]
    assert len(paragraphs) == 1 and paragraphs[0].count(" ") == 100_000 * 9 - 1 and paragraphs[0].endswith(".")


def test_ten_thousand_deep_html_is_read_without_recursion(tmp_path):
    path = tmp_path / "deep.html"
    path.write_text("<html><body>" + "<div>" * 10_000 + "<h1>Deep</h1><p>Brazil proposed joint teams.</p>"
                    + "</div>" * 10_000 + "</body></html>")
    report, stats = parse_with_stats(path, load_settings())
    assert report.sections[0].paragraphs == ["Brazil proposed joint teams."]
    assert stats.peak_rss_mb > 0


def test_a_hanging_or_ballooning_parser_is_stopped(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_text("OPENING CEREMONY\n" + "The meeting opened with a long speech by the chair.\n" * 400_000)
    with pytest.raises(ReportError, match="needed more than 64 MB|exit code"):
        parse_report_isolated(path, load_settings(parse_memory_mb=64))
    with pytest.raises(ReportError, match="longer than 1 s and was stopped.*TIPQA_PARSE_TIMEOUT"):
        parse_report_isolated(path, load_settings(parse_timeout=1, max_report_mb=200))


def _outcome(path, settings):
    try:
        return parse_report_isolated(path, settings)
    except ReportError as error:
        return error


def test_one_child_for_many_files_gives_what_a_child_each_gives(tmp_path):
    expected = make_bad_files(tmp_path / "bad")
    good = tmp_path / "annual.pdf"
    good.write_bytes(sample_pdf())
    paths = [SEED, *(tmp_path / "bad" / name for name in sorted(expected)), good]
    settings = load_settings()
    outcomes = list(parse_many_isolated(paths, settings))
    assert [path for path, _ in outcomes] == paths
    for path, outcome in outcomes:
        alone = _outcome(path, settings)
        if isinstance(alone, ReportError):
            assert isinstance(outcome, ReportError) and str(outcome) == str(alone), path.name
        else:
            assert outcome.to_dict() == alone.to_dict(), path.name
    failed = {path.name for path, outcome in outcomes if isinstance(outcome, ReportError)}
    assert failed == set(expected) - {"copy-of-seed.txt"}  # a copy parses; adding it is refused later


def test_a_file_that_hangs_or_balloons_in_a_shared_child_fails_alone(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("OPENING CEREMONY\n" + "The meeting opened with a long speech by the chair.\n" * 400_000)
    after = tmp_path / "after.txt"
    after.write_text("OPENING\nBrazil proposed joint investigation teams.\n")
    paths = [SEED, big, after]
    slow = list(parse_many_isolated(paths, load_settings(parse_timeout=1, max_report_mb=200)))
    assert [type(outcome).__name__ for _, outcome in slow] == ["Report", "ReportError", "Report"]
    assert "longer than 1 s and was stopped" in str(slow[1][1])  # the files after it went to a new child
    small = list(parse_many_isolated(paths, load_settings(parse_memory_mb=128, max_report_mb=200)))
    assert [type(outcome).__name__ for _, outcome in small] == ["Report", "ReportError", "Report"]
    assert "needed more than 128 MB" in str(small[1][1])
    assert "Brazil proposed joint investigation teams." in small[2][1].sections[-1].paragraphs


def test_a_child_that_cannot_even_start_fails_each_file_plainly(tmp_path):
    paths = [SEED, tmp_path / "after.txt"]
    paths[1].write_text("OPENING\nBrazil proposed joint investigation teams.\n")
    outcomes = list(parse_many_isolated(paths, load_settings(parse_memory_mb=16)))
    assert [path for path, _ in outcomes] == paths
    for path, outcome in outcomes:
        assert isinstance(outcome, ReportError) and str(outcome).startswith(path.name), outcome
        assert "TIPQA_PARSE_MEMORY_MB" in str(outcome) and "\n" not in str(outcome)


def test_a_crashed_parser_becomes_a_plain_message(tmp_path):
    crashed = subprocess.CompletedProcess([], -11, b"", b"")
    with pytest.raises(ReportError, match=r"^x\.pdf: the parser crashed \(SIGSEGV\)"):
        _read_result(crashed, tmp_path / "x.pdf", load_settings())


def test_add_bad_files_with_a_good_one_via_the_cli(tmp_path, settings, real_embedder):
    Assistant.open(settings=settings, embedder=real_embedder)
    store = IndexStore(settings.index_dir)
    before = store.load()
    expected = make_bad_files(tmp_path / "bad")
    good = tmp_path / "bad" / "annual.pdf"
    good.write_bytes(sample_pdf())
    args = ["add", *(str(tmp_path / "bad" / name) for name in expected), str(good)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output  # one file was good
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == len(expected)
    for name, phrase in expected.items():
        assert any(line.startswith(f"error: {name}:") and phrase in line for line in errors), (name, errors)
    after = store.load()
    assert sorted(after.reports) == ["annual", SEED_ID]
    assert sorted(os.listdir(settings.corpus_dir)) == sorted(["annual.pdf", SEED.name, SEED.name + ".meta.json"])
    seed_chunks = [c.chunk_id for c in before.chunks]
    assert [c.chunk_id for c in after.chunks if c.report_id == SEED_ID] == seed_chunks


def test_a_single_bad_file_exits_1_and_leaves_the_index_alone(tmp_path, settings, real_embedder):
    Assistant.open(settings=settings, embedder=real_embedder)
    live = IndexStore(settings.index_dir).current_name()
    bad = tmp_path / "random.pdf"
    bad.write_bytes(os.urandom(2048))
    result = CliRunner().invoke(cli, ["add", str(bad)])
    assert result.exit_code == 1
    assert "random.pdf: this is not a PDF" in result.stderr and "Traceback" not in result.output
    assert IndexStore(settings.index_dir).current_name() == live


def test_build_parses_several_files_at_once_and_reports_each_bad_one(settings, second_report):
    """`tipqa build` over a corpus with good and bad files: the child parses run a few at a time, each bad file
    is one clear error, the good ones are indexed, and the JSON says where the build's time went."""
    import json
    (settings.corpus_dir / second_report.name).write_bytes(second_report.read_bytes())
    (settings.corpus_dir / "damaged.pdf").write_bytes(sample_pdf()[:700])
    (settings.corpus_dir / "empty.txt").write_bytes(b"")
    result = CliRunner().invoke(cli, ["build", "--json", "--corpus", str(settings.corpus_dir),
                                      "--index", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert sorted(record["added"]) == sorted([SEED_ID, "rtp-iii-2012-guatemala"])
    assert sorted(record["errors"]) == ["damaged.pdf", "empty.txt"]
    assert "damaged or incomplete" in record["errors"]["damaged.pdf"] and "empty" in record["errors"]["empty.txt"]
    assert set(record["stages"]) == {"load", "parse", "embed", "write"}
    assert all(v >= 0 for v in record["stages"].values())
    assert sum(record["stages"].values()) == pytest.approx(record["seconds"], abs=0.01)
    assert sorted(IndexStore(settings.index_dir).load().reports) == sorted(record["added"])
