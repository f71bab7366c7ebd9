"""The Speakers page of the web app: a speaker's statements side by side by report, and who spoke how often.

Called by web.py inside its Blocks (`speakers_tab(app)`); the rendering and the API handler are plain functions
over the shared Assistant, testable without a browser. Report text is escaped before display, as in web.py.
"""
from __future__ import annotations

import html

import gradio as gr
import pandas as pd

from ..errors import TipqaError
from ..speakers.statements import Statement, find_speaker, group_by_report, statements_of

# One colour per report: 20 distinct colours, then the same again striped past 20 reports.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#e7ba52", "#637939", "#ad494a", "#7b4173", "#3182bd", "#e6550d", "#31a354",
           "#756bb1", "#636363")
CSS = """
.tipqa-side {display: flex; gap: 1em; overflow-x: auto; align-items: flex-start}
.tipqa-side-report {flex: 1 1 320px; min-width: 280px; border: 1px solid #e5e7eb; border-radius: 6px; padding: .6em}
.tipqa-side-report h4 {margin: 0 0 .2em}
.tipqa-side-section {font-weight: 600; font-size: .9em; margin: .6em 0 .2em}
.tipqa-statement {margin: .25em 0 .5em; line-height: 1.45}
.tipqa-statement-cite {font-size: .8em; opacity: .75}
.tipqa-chart-row {display: grid; grid-template-columns: minmax(8em, 14em) 1fr 3em; gap: .5em; align-items: center;
                  margin: .15em 0; font-size: .9em}
.tipqa-chart-name {overflow: hidden; text-overflow: ellipsis; white-space: nowrap; text-align: right}
.tipqa-chart-bar {display: flex; height: 1.1em}
.tipqa-chart-bar span {display: block; height: 100%}
.tipqa-chart-legend {display: flex; flex-wrap: wrap; gap: .3em 1em; font-size: .85em; margin: .4em 0 .6em}
.tipqa-chart-legend i {display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em}
"""


def _esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def speaker_choices(assistant) -> list[tuple[str, str]]:
    """(label, speaker id) for everyone with statements, most statements first."""
    return [(f"{s['name']} ({s['count']})", s["id"]) for s in assistant.speakers()]


def render_statements(speaker: dict, statements: list[Statement], reports: dict[str, dict]) -> str:
    """A speaker's statements as one column per report (meeting and date), sections in order, each cited."""
    if not statements:
        return f"<p>No statements by {_esc(speaker.get('name'))} in the indexed reports.</p>"
    columns = []
    for report in group_by_report(statements, reports):
        date = f" · {_esc(report['date'])}" if report["date"] else ""
        parts = [f'<div class="tipqa-side-report"><h4>{_esc(report["title"])}</h4>'
                 f'<div class="tipqa-statement-cite">{_esc(report["report_id"])}{date}</div>']
        for section in report["sections"]:
            parts.append(f'<div class="tipqa-side-section">{_esc(section["section"])}</div>')
            for s in section["statements"]:
                how = f" · speaker from {_esc(s.resolved_from)}" if s.resolved_from else ""
                parts.append(f'<div class="tipqa-statement">{_esc(s.sentence)}<div class="tipqa-statement-cite">'
                             f'{_esc(s.verb)} · {_esc(s.chunk_id)}{how}</div></div>')
        columns.append("".join(parts) + "</div>")
    count = len(statements)
    head = f"<p><strong>{_esc(speaker['name'])}</strong>: {count} statement{'s' if count != 1 else ''}</p>"
    return f'{head}<div class="tipqa-side">{"".join(columns)}</div>'


def chart_frame(assistant) -> pd.DataFrame:
    """Statements per speaker per report (every speaker, most statements first), for the chart."""
    titles = {rid: (meta.get("date") or "") + " " + rid for rid, meta in assistant.data.reports.items()}
    rows = [{"speaker": s["name"], "report": titles.get(rid, rid).strip(), "statements": n}
            for s in assistant.speakers() for rid, n in s["reports"].items()]
    return pd.DataFrame(rows, columns=["speaker", "report", "statements"])


def _swatch(i: int) -> str:
    colour = PALETTE[i % len(PALETTE)]
    if i < len(PALETTE):
        return f"background:{colour}"
    return f"background:repeating-linear-gradient(45deg,{colour} 0 3px,#fff 3px 5px)"


def render_chart(frame: pd.DataFrame) -> str:
    """A horizontal bar per speaker (most statements first), one segment and one colour per report, a legend of
    the reports: reads the same with 1 report as with 20 (escaped HTML, no plotting library)."""
    if frame.empty:
        return "<p>No statements in the indexed reports yet.</p>"
    reports = sorted(frame.report.unique())
    colour = {report: i for i, report in enumerate(reports)}
    totals = frame.groupby("speaker", sort=False).statements.sum().sort_values(ascending=False, kind="stable")
    widest = int(totals.max())
    legend = "".join(f'<span><i style="{_swatch(colour[r])}"></i>{_esc(r)}</span>' for r in reports)
    rows = []
    for speaker, total in totals.items():
        parts = frame[frame.speaker == speaker]
        segments = "".join(
            f'<span style="width:{100 * n / widest:.2f}%;{_swatch(colour[r])}" title="{_esc(r)}: {n}"></span>'
            for r, n in sorted(zip(parts.report, parts.statements), key=lambda p: colour[p[0]]))
        rows.append(f'<div class="tipqa-chart-row"><span class="tipqa-chart-name" title="{_esc(speaker)}">'
                    f'{_esc(speaker)}</span><div class="tipqa-chart-bar">{segments}</div><span>{int(total)}</span></div>')
    return (f'<p><strong>Statements per speaker</strong>, coloured by report</p>'
            f'<div class="tipqa-chart-legend">{legend}</div>{"".join(rows)}')


def show_speaker(assistant, speaker_id: str | None) -> str:
    if not speaker_id:
        return "<p>Pick a country, organisation or person to read their statements.</p>"
    data = assistant.data
    found = statements_of(speaker_id, data.statements or [])
    speaker = next((s for s in assistant.speakers() if s["id"] == speaker_id), {"id": speaker_id, "name": speaker_id})
    return render_statements(speaker, found, data.reports)


def api_statements(assistant, speaker: str, report: str = "") -> dict:
    """The /statements API: {"speaker", "count", "reports": [{report_id, title, date, statements: [...]}]}."""
    try:
        data = assistant.data
        who = find_speaker(speaker, data.statements or [])
        found = assistant.statements(speaker, report=report or None)
    except TipqaError as error:
        raise gr.Error(str(error), print_exception=False) from None
    grouped = [{"report_id": g["report_id"], "title": g["title"], "date": g["date"],
                "statements": [s.to_record() for sec in g["sections"] for s in sec["statements"]]}
               for g in group_by_report(found, data.reports)]
    return {"speaker": who, "count": len(found), "reports": grouped}


def speakers_tab(app) -> None:
    """The Speakers tab's components and events; call inside `with gr.Tab(...)` of web.build_demo."""
    assistant = app.assistant
    gr.HTML(f"<style>{CSS}</style>")
    with gr.Row(equal_height=False):
        choice = gr.Dropdown(speaker_choices(assistant), label="Speaker (statements)", elem_id="tipqa-speaker",
                             scale=2)
        refresh = gr.Button("Refresh", size="sm", scale=0, min_width=80)
    shown = gr.HTML(show_speaker(assistant, None), elem_id="tipqa-statements")
    chart = gr.HTML(render_chart(chart_frame(assistant)), elem_id="tipqa-chart")
    quiet = dict(api_visibility="private")
    choice.change(lambda sid: show_speaker(assistant, sid), [choice], [shown], **quiet)
    refresh.click(lambda: (gr.update(choices=speaker_choices(assistant)), render_chart(chart_frame(assistant))), None,
                  [choice, chart], **quiet)

    def statements(speaker: str, report: str = "") -> dict:
        """What SPEAKER (any language or alias) said, grouped by report; REPORT limits it to one report id."""
        return api_statements(assistant, speaker, report)

    gr.api(statements, api_name="statements", concurrency_limit=4, concurrency_id="ask")


__all__ = ["speakers_tab", "render_statements", "chart_frame", "render_chart", "api_statements", "show_speaker", "speaker_choices"]
