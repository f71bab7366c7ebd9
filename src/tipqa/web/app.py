"""The web chat: answers with the evidence highlighted and cited, a reports page, safe defaults.

The only module that imports gradio. It is a thin adapter over one shared `Assistant`: `WebApp` holds the
handlers (plain functions, testable without a browser), `render_*` turn answers into escaped HTML, and
`build_demo` / `launch_options` wire them into a Gradio app bound to 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import contextlib
import html
import ipaddress
import os
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator

import gradio as gr

from ..answering.answer import Answer, Passage
from ..answering.followup import rewrite_followup
from ..assistant import Assistant, sanitize_question
from ..config import Settings, load_settings
from ..errors import ConfigError, EmptyCorpus, TipqaError
from ..indexer import BuildResult
from ..ingest.reports import supported_extensions
from .speakers import speakers_tab

TITLE = "tipqa: ask the reports on trafficking in persons"
EXAMPLES = [
    "Which country proposed joint investigation teams?",
    "Who chaired the meeting?",
    "What did Mexico say about victims?",
    "¿Qué país propuso equipos conjuntos de investigación?",
]
# Formats the issue allows in uploads; only those a loader is installed for are offered.
UPLOAD_FORMATS = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
TABLE_HEADERS = ["Title", "Report id", "Date", "Sections", "Passages", "Added"]
CSS = """
.tipqa-answer {line-height: 1.5}
.tipqa-short {font-size: 1.3em; margin: 0 0 .4em}
.tipqa-asked {font-size: .85em; opacity: .75; margin-bottom: .4em}
.tipqa-evidence {border-left: 3px solid #f59e0b; padding: .2em .8em; margin: .4em 0}
.tipqa-evidence mark {background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px}
.tipqa-cite {font-size: .9em; opacity: .85; margin: .3em 0}
.tipqa-passage {margin: .6em 0; font-size: .92em}
.tipqa-passage-head {font-weight: 600; font-size: .9em}
.tipqa-error {color: #b91c1c}
@media (max-width: 640px) {.tipqa-examples button {flex: 1 1 100%}}
"""


# ---- rendering (pure functions: escaped HTML, one line, no blank lines so Markdown leaves it alone) ------------
# Questions answered at once: one per core (at least 2). An answer is ~20-30 ms of CPU; answered first come,
# first served, the first of 20 simultaneous questions return early, where 32 at once shared the cores and all
# finished together, last (bench/web_latency.py, 20 clients: p50 0.36-0.43 s against 0.53-0.69 s).
ASK_CONCURRENCY = max(2, os.cpu_count() or 1)

def _esc(text: str) -> str:
    return html.escape(text or "", quote=True).replace("\n", "<br>")


def _place(passage_or_evidence) -> str:
    """Report title › section (› p. N): where a passage or the evidence is."""
    page = f" › p. {passage_or_evidence.page}" if passage_or_evidence.page else ""
    return f"{passage_or_evidence.report_title} › {passage_or_evidence.section}{page}"


def highlight(text: str, start: int, end: int, sentence: str = "") -> str:
    """TEXT escaped, with [start:end) wrapped in <mark>. Escaping happens per piece, so offsets stay exact.

    If the offsets do not point at SENTENCE (an older index, a changed answerer), the sentence is searched for
    instead; if it is not in the text at all, the passage is shown unmarked.
    """
    if sentence and text[start:end] != sentence:
        found = text.find(sentence)
        start, end = (found, found + len(sentence)) if found >= 0 else (0, 0)
    if not 0 <= start < end <= len(text):
        return _esc(text)
    return f"{_esc(text[:start])}<mark>{_esc(text[start:end])}</mark>{_esc(text[end:])}"


def render_answer(answer: Answer, asked_as: str | None = None) -> str:
    """One chat reply: short answer, evidence highlighted in its passage, citation, other passages folded."""
    parts = ['<div class="tipqa-answer">']
    if asked_as:
        parts.append(f'<div class="tipqa-asked">Understood as: <em>{_esc(asked_as)}</em></div>')
    if answer.answer:
        parts.append(f'<p class="tipqa-short"><strong>{_esc(answer.answer)}</strong></p>')
    elif answer.evidence is None:
        parts.append('<p class="tipqa-short">The reports do not say.</p>')
    else:
        parts.append('<p class="tipqa-short">No short answer; the closest the reports come is:</p>')
    evidence_chunk = answer.evidence.chunk_id if answer.evidence else None
    if answer.evidence:
        e = answer.evidence
        home = next((p for p in answer.passages if p.chunk_id == e.chunk_id), None)
        body = highlight(home.text, e.start, e.end, e.sentence) if home else f"<mark>{_esc(e.sentence)}</mark>"
        parts.append(f'<blockquote class="tipqa-evidence">{body}</blockquote>')
        parts.append(f'<p class="tipqa-cite">{_esc(_place(e))}</p>')
    others = [p for p in answer.passages if p.chunk_id != evidence_chunk]
    if others:
        label = "Other passages" if answer.evidence else "Closest passages"
        parts.append(f"<details><summary>{label} ({len(others)})</summary>")
        parts.extend(_render_passage(p) for p in others)
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def _render_passage(p: Passage) -> str:
    return (f'<div class="tipqa-passage"><div class="tipqa-passage-head">[{p.rank}] {_esc(_place(p))}'
            f' · score {p.score:.4f}</div><div>{_esc(p.text)}</div></div>')


def render_error(error: TipqaError) -> str:
    return f'<div class="tipqa-answer tipqa-error"><strong>Can\'t answer:</strong> {_esc(str(error))}</div>'


def render_outcome(rows: list[tuple[str, str, str]]) -> str:
    """Per-file upload outcome: (file name, 'ok'|'error', message) -> an escaped HTML list."""
    if not rows:
        return ""
    items = "".join(f'<li class="tipqa-{"ok" if status == "ok" else "error"}"><strong>{_esc(name)}</strong>: '
                    f"{_esc(message)}</li>" for name, status, message in rows)
    return f'<ul class="tipqa-outcome">{items}</ul>'


# ---- progress relay: the Assistant reports build progress; the upload in flight shows it ----------------------
class ProgressRelay:
    """Forwards Assistant progress to stderr and to the progress bar of the build currently running, if any."""

    def __init__(self) -> None:
        self._listener: Callable[[float, str], None] | None = None

    def __call__(self, fraction: float, message: str) -> None:
        print(f"tipqa: {message}", file=sys.stderr, flush=True)
        if self._listener is not None:
            self._listener(fraction, message)

    @contextlib.contextmanager
    def listening(self, listener: Callable[[float, str], None]) -> Iterator[None]:
        self._listener = listener
        try:
            yield
        finally:
            self._listener = None


# ---- handlers ----------------------------------------------------------------------------------------------
class WebApp:
    """The handlers behind the page, as plain methods: one Assistant shared by every session."""

    def __init__(self, assistant: Assistant, relay: ProgressRelay | None = None):
        self.assistant = assistant
        self.settings = assistant.settings
        self.relay = relay or ProgressRelay()
        self._writes = threading.Lock()  # uploads and removals run one at a time; questions never wait on it
        assistant.warm_up()  # a server answers many questions: its faster encoders now, not in a user's wait

    # questions
    def respond(self, message: str, history: list | None, context: list | None, report: str | None = None):
        """One chat turn. Returns (history, context, cleared textbox); context holds the questions as asked."""
        history, context = list(history or []), list(context or [])
        message = sanitize_question(message) if isinstance(message, (str, bytes)) else ""
        question = rewrite_followup(message, context[-1] if context else None)
        try:
            answer = self.assistant.ask(question, report=report or None)
        except EmptyCorpus:
            reply = render_error(TipqaError("No reports are indexed yet. Add one in the Reports tab (or restore a "
                                            "removed one there), then ask again."))
        except TipqaError as error:
            reply = render_error(error)
        else:
            reply = render_answer(answer, question if question != " ".join((message or "").split()) else None)
            context.append(question)
        history += [{"role": "user", "content": _esc(message or "")}, {"role": "assistant", "content": reply}]
        return history, context, ""

    def api_ask(self, question: str, report: str = "", previous: str = "") -> dict:
        """The answer object of DESIGN.md; PREVIOUS (the last question asked) lets API clients send follow-ups."""
        try:
            question = sanitize_question(question)
            previous = sanitize_question(previous) if isinstance(previous, (str, bytes)) else ""
            report = report if isinstance(report, str) else ""
            asked = rewrite_followup(question, previous or None)
            return self.assistant.ask(asked, report=report or None).to_dict()
        except TipqaError as error:
            raise gr.Error(str(error), print_exception=False) from None

    # reports
    def report_rows(self) -> list[list]:
        return [[r.get("title") or r["report_id"], r["report_id"], r.get("date") or "", len(r.get("sections", [])),
                 r.get("chunks", 0), (r.get("added") or "")[:16].replace("T", " ")] for r in self.assistant.reports()]

    def report_choices(self) -> list[tuple[str, str]]:
        return [(f"{r.get('title') or r['report_id']} ({r['report_id']})", r["report_id"])
                for r in self.assistant.reports()]

    def corpus_line(self) -> str:
        reports = self.assistant.reports()
        chunks = sum(r.get("chunks", 0) for r in reports)
        return (f"Answers only from the {len(reports)} indexed report{'s' if len(reports) != 1 else ''} "
                f"({chunks} passages), quoting the sentence and citing report › section.")

    def allowed_types(self) -> list[str]:
        installed = set(supported_extensions())
        return [ext for ext in UPLOAD_FORMATS if ext in installed]

    def screen_upload(self, path: Path) -> str | None:
        """Why an uploaded file is refused before indexing, or None. Gradio's own checks run first; this repeats
        them server-side so the API and the page get the same plain-words answer."""
        if path.suffix.lower() not in self.allowed_types():
            return (f"{path.suffix or 'files without an extension'} is not accepted; upload "
                    f"{', '.join(self.allowed_types())}.")
        limit = self.settings.max_upload_mb
        if path.stat().st_size > limit * 1024 * 1024:
            return f"the file is larger than {limit} MB (TIPQA_MAX_UPLOAD_MB); split it or raise the limit."
        return None

    def add_reports(self, files: list | None, progress: Callable[[float, str], None] | None = None):
        """Index uploaded files. Returns (outcome rows, BuildResult or None)."""
        paths = [Path(getattr(f, "name", f)) for f in files or []]
        rows: list[tuple[str, str, str]] = []
        accepted: list[Path] = []
        for path in paths:
            reason = self.screen_upload(path)
            if reason:
                rows.append((path.name, "error", reason))
            else:
                accepted.append(path)
        result = None
        if accepted:
            with self._writes, self.relay.listening(progress or (lambda f, m: None)):
                result = self.assistant.add(accepted)
            rows += [self._outcome(path.name, result) for path in accepted]
        return rows, result

    def _outcome(self, name: str, result: BuildResult) -> tuple[str, str, str]:
        if name in result.errors:
            message = result.errors[name]
            return name, "error", message[len(name) + 2:] if message.startswith(f"{name}: ") else message
        meta = next((r for r in self.assistant.reports() if r.get("source") == name), None)
        if meta is None:
            return name, "error", "it was not indexed; see the server log."
        verb = ("added" if meta["report_id"] in result.added else
                "updated" if meta["report_id"] in result.updated else "already indexed, unchanged")
        return name, "ok", (f"{verb} as {meta['report_id']!r} ({meta.get('title')}): "
                            f"{len(meta.get('sections', []))} sections, {meta.get('chunks', 0)} passages.")

    def remove_question(self, report_id: str | None) -> str | None:
        """What the confirmation asks before REPORT_ID is removed (None: nothing chosen)."""
        meta = next((r for r in self.assistant.reports() if r["report_id"] == report_id), None)
        if meta is None:
            return None
        return (f"Remove **{_esc(meta.get('title') or report_id)}** ({_esc(report_id)}, {meta.get('chunks', 0)} "
                f"passages)? It moves to the trash; you can restore it below.")

    def remove_report(self, report_id: str | None) -> str:
        if not report_id:
            return "Choose a report to remove first."
        with self._writes:
            result = self.assistant.remove(report_id)
        return (f"Removed {report_id} (moved to the trash; restore it below); {result.chunks} passages remain in "
                f"the index.")

    def trash_choices(self) -> list[tuple[str, str]]:
        seen, choices = set(), []
        for item in self.assistant.trash():
            if item["report_id"] not in seen:
                seen.add(item["report_id"])
                choices.append((f"{item['name']} (removed {item['removed']})", item["report_id"]))
        return choices

    def restore_report(self, report_id: str | None) -> str:
        if not report_id:
            return "Choose a removed report to restore first."
        with self._writes:
            result = self.assistant.restore(report_id)
        return f"Restored {report_id}; {result.chunks} passages in the index."

    def quarantine_html(self) -> str:
        """Corpus files left out of the index, each with its reason."""
        held = self.assistant.quarantined()
        if not held:
            return ""
        items = "".join(f"<li><strong>{_esc(name)}</strong>: {_esc(reason)}</li>" for name, reason in held.items())
        return f'<p><strong>Quarantined</strong> (in the corpus folder, not indexed):</p><ul>{items}</ul>'


# ---- the page ------------------------------------------------------------------------------------------------
def build_demo(app: WebApp | None = None, settings: Settings | None = None) -> gr.Blocks:
    """The Gradio app. Without APP, opens (and if needed builds) the index from SETTINGS first."""
    if app is None:
        relay = ProgressRelay()
        app = WebApp(Assistant.open(settings=settings or load_settings(), progress=relay), relay)
    with gr.Blocks(title="tipqa", analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}")
        corpus = gr.Markdown(app.corpus_line(), elem_id="tipqa-corpus")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                report_box = _chat_tab(app)
            with gr.Tab("Reports", id="reports"):
                _reports_tab(app, corpus, report_box)
            with gr.Tab("Speakers", id="speakers"):
                speakers_tab(app)  # who said what: web_speakers.py
        demo.load(lambda: (gr.update(choices=[("All reports", "")] + app.report_choices()), app.corpus_line()),
                  None, [report_box, corpus], api_visibility="private")
        gr.api(app.api_ask, api_name="ask", concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask")
    return demo


def _chat_tab(app: WebApp):
    context = gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=4, min_width=320):
            chatbot = gr.Chatbot(label="Answers", show_label=False, elem_id="tipqa-chat", height=560,
                                 latex_delimiters=[],
                                 sanitize_html=True, feedback_options=None, buttons=["copy"],
                                 placeholder="Ask a question about the reports; each answer quotes its source.")
            with gr.Row():
                question = gr.Textbox(placeholder="Which country proposed joint investigation teams?", scale=5,
                                      show_label=False, elem_id="tipqa-question", max_lines=4, autofocus=True)
                send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="tipqa-send")
        with gr.Column(scale=1, min_width=240):
            report = gr.Dropdown([("All reports", "")] + app.report_choices(), value="", label="Search in",
                                 elem_id="tipqa-report-filter")
            gr.Markdown("**Try**")
            with gr.Column(elem_classes="tipqa-examples"):
                examples = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
            clear = gr.Button("New conversation", size="sm")
    chat = dict(outputs=[chatbot, context, question], concurrency_limit=ASK_CONCURRENCY, concurrency_id="ask",
                api_visibility="private")
    question.submit(app.respond, [question, chatbot, context, report], **chat)
    send.click(app.respond, [question, chatbot, context, report], **chat)
    for button, text in zip(examples, EXAMPLES):
        button.click(lambda h, c, r, q=text: app.respond(q, h, c, r), [chatbot, context, report], **chat)
    clear.click(lambda: ([], [], ""), None, [chatbot, context, question], api_visibility="private")
    return report


def _reports_tab(app: WebApp, corpus, report_box) -> None:
    table = gr.Dataframe(app.report_rows(), headers=TABLE_HEADERS, datatype="str", interactive=False,
                         label="Indexed reports", elem_id="tipqa-reports", wrap=True,
                         column_widths=["38%", "24%", "10%", "8%", "8%", "12%"])
    with gr.Row(equal_height=False):
        with gr.Column(min_width=300):
            files = gr.File(file_count="multiple", file_types=app.allowed_types(), elem_id="tipqa-upload",
                            label=f"Add reports ({', '.join(app.allowed_types())}; up to "
                                  f"{app.settings.max_upload_mb} MB each)")
            add = gr.Button("Index these reports", variant="primary", elem_id="tipqa-add")
            outcome = gr.HTML(elem_id="tipqa-outcome")
        with gr.Column(min_width=300):
            to_remove = gr.Dropdown(app.report_choices(), value=None, label="Remove a report",
                                    elem_id="tipqa-remove-choice")
            remove = gr.Button("Remove…", variant="stop", elem_id="tipqa-remove")
            with gr.Group(visible=False, elem_id="tipqa-confirm") as confirm:
                question = gr.Markdown(elem_id="tipqa-confirm-text")
                with gr.Row():
                    yes = gr.Button("Yes, move it to the trash", variant="stop", elem_id="tipqa-confirm-yes")
                    no = gr.Button("Cancel", elem_id="tipqa-confirm-no")
            removed = gr.Markdown(elem_id="tipqa-removed")
            to_restore = gr.Dropdown(app.trash_choices(), value=None, label="Restore a removed report",
                                     elem_id="tipqa-restore-choice")
            restore = gr.Button("Restore", elem_id="tipqa-restore")
    held = gr.HTML(app.quarantine_html(), elem_id="tipqa-quarantine")

    def refreshed():
        choices = app.report_choices()
        return (app.report_rows(), gr.update(choices=[("All reports", "")] + choices),
                gr.update(choices=choices, value=None), gr.update(choices=app.trash_choices(), value=None),
                app.quarantine_html(), app.corpus_line())

    def on_add(uploaded, progress=gr.Progress()):
        try:
            rows, _ = app.add_reports(uploaded, lambda f, m: progress(f, desc=m))
        except TipqaError as error:
            rows = [("upload", "error", str(error))]
        return (render_outcome(rows), None, *refreshed())

    def on_ask_remove(report_id):
        text = app.remove_question(report_id)
        if text is None:
            return gr.update(visible=False), "", "Choose a report to remove first."
        return gr.update(visible=True), text, ""

    def on_remove(report_id):
        try:
            message = app.remove_report(report_id)
        except TipqaError as error:
            message = str(error)
        return (gr.update(visible=False), _esc(message), *refreshed())

    def on_restore(report_id):
        try:
            message = app.restore_report(report_id)
        except TipqaError as error:
            message = str(error)
        return (_esc(message), *refreshed())

    writes = dict(concurrency_limit=1, concurrency_id="index", api_visibility="private")
    lists = [table, report_box, to_remove, to_restore, held, corpus]
    add.click(on_add, [files], [outcome, files, *lists], **writes)
    remove.click(on_ask_remove, [to_remove], [confirm, question, removed], api_visibility="private")
    no.click(lambda: (gr.update(visible=False), "Nothing was removed."), None, [confirm, removed],
             api_visibility="private")
    yes.click(on_remove, [to_remove], [confirm, removed, *lists], **writes)
    restore.click(on_restore, [to_restore], [removed, *lists], **writes)


# ---- serving -------------------------------------------------------------------------------------------------
def queued(demo: gr.Blocks) -> gr.Blocks:
    """DEMO with the queue tipqa serves it with."""
    # After every event Gradio recomputes, with pandas, a summary of up to its last 10,000 events for the
    # monitoring page, which tipqa does not serve (enable_monitoring=False): ~2-7 ms of CPU per answer.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2 ** 31))
    return demo.queue(default_concurrency_limit=1)


def parse_auth(raw: str) -> tuple[str, str] | None:
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise ConfigError("Authentication must look like user:password (in --auth or TIPQA_AUTH).")
    return user, password


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch_options(settings: Settings) -> dict:
    """Keyword arguments for demo.launch(): loopback unless told otherwise, then only with a password."""
    auth = parse_auth(settings.auth)
    if not is_loopback(settings.host) and auth is None:
        raise ConfigError(f"Serving on {settings.host} makes tipqa reachable from other machines; "
                          f"set a password with --auth user:password (or TIPQA_AUTH), or keep --host 127.0.0.1.")
    private = [str(Path(p).resolve()) for p in (settings.corpus_dir, settings.index_dir)]
    return dict(server_name=settings.host, server_port=settings.port, auth=auth,
                max_file_size=f"{settings.max_upload_mb}mb", allowed_paths=[], blocked_paths=private,
                ssr_mode=False, mcp_server=False, pwa=False, run_history=False, enable_monitoring=False,
                show_error=False, theme=gr.themes.Soft(), css=CSS, share=False)


def serve(settings: Settings | None = None) -> None:
    """Build (or refresh) the index, then serve the app until interrupted."""
    settings = settings or load_settings()
    options = launch_options(settings)  # refuse an unsafe address before spending time on the index
    demo = build_demo(settings=settings)
    queued(demo).launch(**options)


__all__ = ["WebApp", "build_demo", "launch_options", "queued", "render_answer", "highlight", "serve"]
