"""The tipqa command: a thin adapter over Assistant. Results on stdout, progress and errors on stderr."""
from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import time
from pathlib import Path

import click

# One BLAS thread unless the user says otherwise (set before numpy loads): a command encodes a few short
# texts, and on a busy 2-core machine OpenBLAS's spinning workers made that 4x slower (see bench/README.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .config import load_settings
from .errors import TipqaError


def _options(func):
    """--corpus / --index / --model / --database, shared by every command (flags > TIPQA_* env > defaults)."""
    func = click.option("--database", "database_url", metavar="URL",
                        help="postgresql://... : the index in PostgreSQL [default: $TIPQA_DATABASE_URL; "
                             "none: the index folder]")(func)
    func = click.option("--model", help="Embedding model id or folder [default: $TIPQA_MODEL or intfloat/multilingual-e5-small]")(func)
    func = click.option("--index", "index_dir", type=click.Path(path_type=Path),
                        help="Index folder [default: $TIPQA_INDEX_DIR or index/]")(func)
    func = click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path),
                        help="Corpus folder [default: $TIPQA_CORPUS_DIR or corpus/]")(func)
    return func


def _friendly(func):
    """Turn TipqaError into a one-line message and exit code 1; never a traceback."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TipqaError as error:
            raise click.ClickException(str(error)) from None
        except KeyboardInterrupt:
            raise click.ClickException("Interrupted; the index is unchanged unless a build had finished.") from None
    return wrapper


def _assistant(corpus_dir, index_dir, model, database_url, refresh: bool = True, **overrides):
    from .assistant import Assistant
    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir, model=model, database_url=database_url, **overrides)
    return Assistant.open(settings=settings, refresh=refresh)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tipqa")
def cli():
    """Ask questions of reports on trafficking in persons; get the answer, the sentence and the source."""


@cli.command()
@click.argument("question")
@click.option("-k", "--top-k", type=click.IntRange(1, 50), help="Passages to show [default: 5]")
@click.option("--report", help="Only this report id (see 'tipqa reports')")
@click.option("json_", "--json", is_flag=True, help="Print the answer object as JSON")
@_options
@_friendly
def ask(question, top_k, report, json_, corpus_dir, index_dir, model, database_url):
    """Answer QUESTION from the indexed reports. With QUESTION '-', read one question per stdin line.

    \b
        tipqa ask "Which country proposed joint investigation teams?"
        tipqa ask --json "Who chaired the drafting group?"
        cat questions.txt | tipqa ask -
    """
    from .assistant import sanitize_question
    assistant = _assistant(corpus_dir, index_dir, model, database_url)
    if question == "-":
        for raw in sys.stdin.buffer:  # bytes: a line that is not UTF-8 must not stop the batch
            line = sanitize_question(raw).strip()
            if not line:
                continue
            try:
                record = assistant.ask(line, k=top_k, report=report).to_dict()
            except TipqaError as error:
                record = {"question": line, "error": str(error)}
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    with contextlib.suppress(UnicodeEncodeError):  # an argument's undecodable bytes arrive as surrogates
        question = os.fsencode(question)
    question = sanitize_question(question)
    answer = assistant.ask(question, k=top_k, report=report)
    click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if json_ else answer.to_text())


@cli.command()
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of only what changed")
@click.option("json_", "--json", is_flag=True, help="Print what the build did as JSON")
@_options
@_friendly
def build(rebuild, json_, corpus_dir, index_dir, model, database_url):
    """Refresh the index from the corpus folder (incremental: only new or changed reports are embedded)."""
    from .assistant import Assistant
    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir, model=model, database_url=database_url)
    result = Assistant(settings).refresh(rebuild=rebuild)
    _print_result(result, json_)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("json_", "--json", is_flag=True, help="Print the outcome per file as JSON")
@_options
@_friendly
def add(files, json_, corpus_dir, index_dir, model, database_url):
    """Copy FILES into the corpus and index them."""
    from .assistant import Assistant
    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir, model=model, database_url=database_url)
    result = Assistant(settings).add(files)
    _print_result(result, json_)
    if result.errors and len(result.errors) == len(files):
        sys.exit(1)


@cli.command()
@click.argument("report_id")
@_options
@_friendly
def remove(report_id, corpus_dir, index_dir, model, database_url):
    """Move REPORT_ID to the corpus trash and drop it from the index ('tipqa restore' brings it back)."""
    from .assistant import Assistant
    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir, model=model, database_url=database_url)
    _print_result(Assistant(settings).remove(report_id), False)


@cli.command()
@click.argument("report_id")
@_options
@_friendly
def restore(report_id, corpus_dir, index_dir, model, database_url):
    """Bring REPORT_ID back from the trash and index it again (see 'tipqa trash')."""
    from .assistant import Assistant
    settings = load_settings(corpus_dir=corpus_dir, index_dir=index_dir, model=model, database_url=database_url)
    _print_result(Assistant(settings).restore(report_id), False)


@cli.command()
@click.option("--empty", is_flag=True, help="Delete every removed report for good")
@_options
@_friendly
def trash(empty, corpus_dir, index_dir, model, database_url):
    """List removed reports ('tipqa restore ID' brings one back); --empty deletes them for good."""
    from .assistant import Assistant
    assistant = Assistant(load_settings(corpus_dir=corpus_dir, index_dir=index_dir, model=model, database_url=database_url))
    if empty:
        click.echo(f"Deleted {assistant.empty_trash()} removed report(s) for good.")
        return
    items = assistant.trash()
    if not items:
        click.echo("The trash is empty.", err=True)
    for item in items:
        click.echo(f"{item['report_id']}\t{item['removed']}\t{item['name']}")


@cli.command()
@click.option("json_", "--json", is_flag=True, help="Print reports (with their sections) as JSON")
@_options
@_friendly
def reports(json_, corpus_dir, index_dir, model, database_url):
    """List the indexed reports."""
    assistant = _assistant(corpus_dir, index_dir, model, database_url)
    items, held = assistant.reports(), assistant.quarantined()
    if json_:
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
        for name, reason in held.items():
            click.echo(f"quarantined: {reason}", err=True)
        return
    if not items:
        click.echo("No reports indexed yet. Add one with 'tipqa add FILE'.", err=True)
    for item in items:
        click.echo(f"{item['report_id']}\t{item.get('date') or '-'}\t{item['chunks']} passages\t"
                   f"{len(item['sections'])} sections\t{item['title']}")
    for name, reason in held.items():
        click.echo(f"QUARANTINED\t{name}\t{reason}")


@cli.command()
@click.option("--speaker", help="A country, organisation or person in any language: Mexico, México, ONUDD, Ramdin")
@click.option("--report", help="Only this report id (see 'tipqa reports')")
@click.option("json_", "--json", is_flag=True, help="Print the statements (or the speakers) as JSON")
@_options
@_friendly
def statements(speaker, report, json_, corpus_dir, index_dir, model, database_url):
    """List what --speaker said, by report and section, in order; without --speaker, who made statements.

    \b
        tipqa statements --speaker Mexico
        tipqa statements --speaker "Estados Unidos" --json
        tipqa statements
    """
    from .speakers.statements import summary_text
    assistant = _assistant(corpus_dir, index_dir, model, database_url)
    if not speaker:
        found = assistant.speakers(report)
        if json_:
            click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        for entry in [] if json_ else found:
            click.echo(f"{entry['id']}\t{entry['kind']}\t{entry['count']}\t{entry['name']}")
        return
    who, found = assistant.speaker(speaker), assistant.statements(speaker, report=report)
    if json_:
        click.echo(json.dumps({"speaker": who, "count": len(found), "statements": [s.to_record() for s in found]},
                              indent=2, ensure_ascii=False))
    else:
        click.echo(summary_text(who, found, assistant.data.reports))


@cli.command()
@click.option("--host", help="Address to bind [default: $TIPQA_HOST or 127.0.0.1]; any other needs --auth")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [default: $TIPQA_PORT or 7860]")
@click.option("--auth", help="user:password required to open the app [default: $TIPQA_AUTH]")
@_options
@_friendly
def serve(host, port, auth, corpus_dir, index_dir, model, database_url):
    """Start the web chat (builds the index first if needed)."""
    try:
        from .web.app import serve as serve_web
    except ImportError as error:
        if error.name != "gradio":
            raise
        raise click.ClickException("The web app needs gradio. Run: pip install -e '.[web]'") from None
    serve_web(load_settings(corpus_dir=corpus_dir, index_dir=index_dir, model=model, database_url=database_url,
                            host=host, port=port, auth=auth))


@cli.group()
def db():
    """The PostgreSQL store (TIPQA_DATABASE_URL / --database)."""


@db.command(name="init")
@click.option("--database", "database_url", metavar="URL", help="postgresql://... [default: $TIPQA_DATABASE_URL]")
@_friendly
def db_init(database_url):
    """Create tipqa's tables in the database, or migrate them (the first write also creates them).

    \b
        tipqa db init --database postgresql://tipqa@db.example.org/tipqa
    """
    _migrate(database_url)


@db.command(name="migrate")
@click.option("--database", "database_url", metavar="URL", help="postgresql://... [default: $TIPQA_DATABASE_URL]")
@_friendly
def db_migrate(database_url):
    """Bring the database's schema to this tipqa's version: one transaction, under the writers' lock (waits
    for a build in progress); readers keep answering meanwhile. Safe to run again.

    \b
        tipqa db migrate --database postgresql://tipqa@db.example.org/tipqa
    """
    _migrate(database_url)


def _migrate(database_url) -> None:
    from .encoders import Encoders
    from .store import open_store
    settings = load_settings(database_url=database_url)
    if not settings.database_url:
        raise click.UsageError("Name the database: --database postgresql://... or TIPQA_DATABASE_URL.")
    started = time.monotonic()
    before, after = open_store(settings).init(Encoders(settings).query.dim,
                                              say=lambda message: click.echo(message, err=True))
    took = f" ({time.monotonic() - started:.1f} s)"
    click.echo(f"tipqa schema version {after} ready" + ("" if before == after else
                                                         f", migrated from {before}{took}" if before else took))


def _print_result(result, json_: bool) -> None:
    if json_:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(result.summary())
    for name, message in result.errors.items():
        click.echo(f"error: {message}", err=True)


@cli.command(name="eval")
@click.argument("qa_file", type=click.Path(path_type=Path))
@click.option("-k", "--top-k", type=click.IntRange(1, 50), default=5, show_default=True, help="Passages per question")
@click.option("json_", "--json", is_flag=True, help="Print every figure and per-question result as JSON")
@_options
@_friendly
def eval_(qa_file, top_k, json_, corpus_dir, index_dir, model, database_url):
    """Score the assistant on QA_FILE (JSON lines: question, answer or null, aliases?, evidence?).

    \b
        tipqa eval eval/seed_qa.jsonl
        tipqa eval eval/seed_qa.jsonl --json > results.json
    """
    from .evaluate import evaluate, format_report, load_items
    items = load_items(qa_file)  # a bad file fails before the model loads
    result = evaluate(_assistant(corpus_dir, index_dir, model, database_url), items, k=top_k)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False) if json_ else format_report(result))


def main() -> None:  # pragma: no cover
    cli(prog_name="tipqa")
