"""The HTML report: one self-contained file comparing runs, readable offline.

Charts are Plotly figures; plotly.js is inlined once in the page head, so the file opens
with no network (no CDN, no web fonts, no images fetched). Sections: the compare table, a
timeline per run (agent turns, model calls, tool calls and routing on a time axis), token
and time bars per run and per agent, the tokens/s table per model, the final outputs side by
side, and each run's transcript with a diff view between any two runs.

Every chart is a `<div data-chart="...">`, which the browser test counts.
"""

from __future__ import annotations

import difflib
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from traces.compare import (
    SPEED_HEADERS,
    TABLE_COLUMNS,
    Column,
    RunRow,
    model_speeds,
    row_of,
    speed_cells,
    status_label,
)
from traces.reader import Trace, event_time
from traces.schema import AGENT_MESSAGE, ERROR, LLM_CALL, ROUTE, TOOL_CALL, WARNING

MAX_DIFF_RUNS = 8
PALETTE = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#E45756",
    "#72B7B2",
    "#B279A2",
    "#FF9DA6",
    "#9D755D",
    "#BAB0AC",
    "#EECA3B",
)
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
SPAN_COLOURS = {"turn": "#4C78A8", "model call": "#F58518", "tool call": "#54A24B"}


@dataclass(frozen=True)
class Span:
    """One bar on a run's timeline: a lane, its start and end in seconds from the run's start."""

    lane: str
    kind: str
    start_s: float
    end_s: float
    detail: str


@dataclass(frozen=True)
class Mark:
    """One instant on a run's timeline (a routing decision, a warning, an error)."""

    lane: str
    kind: str
    at_s: float
    detail: str


def write_report(
    traces: Sequence[Trace],
    path: Path | str,
    title: str | None = None,
    rows: Sequence[RunRow] | None = None,
) -> Path:
    """Write the report of traces (their compare rows, if given) to path; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(traces, title, rows), encoding="utf-8")
    return path


def report_html(
    traces: Sequence[Trace], title: str | None = None, rows: Sequence[RunRow] | None = None
) -> str:
    """The whole report page as one HTML string; rows are the traces' compare rows, in order."""
    rows = [row_of(trace) for trace in traces] if rows is None else list(rows)
    title = title or f"Scenario lab: {len(traces)} run{'s' if len(traces) != 1 else ''} compared"
    sections = [
        _section("Runs", _runs_table(rows)),
        _section("Timelines", _timelines(traces, rows)),
        _section("Tokens and time", _bars(traces, rows)),
        _section("Tokens/s per model", _speed_html(traces)),
        _section("Final outputs", _outputs(traces, rows)),
        _section("Transcripts", _transcripts(traces, rows)),
    ]
    return _page(title, "".join(sections))


# --- page -----------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;color:#b8c0cc;font-size:13px}
main{padding:8px 28px 40px} section{margin-top:26px}
h2{font-size:18px;border-bottom:2px solid #dfe3e8;padding-bottom:4px}
h3{font-size:14px;margin:14px 0 4px}
table.data{border-collapse:collapse;font-size:13px;background:#fff}
table.data th,table.data td{border:1px solid #dfe3e8;padding:4px 8px;text-align:right}
table.data th{background:#eef1f4} table.data td.l,table.data th.l{text-align:left}
.ok{color:#1a7f37;font-weight:600} .failed{color:#cf222e;font-weight:600}
.unfinished,.interrupted,.degraded{color:#9a6700;font-weight:600} .warn{color:#9a6700}
.quiet{color:#8c959f}
.chart{background:#fff;border:1px solid #dfe3e8;margin:8px 0;min-height:120px;
overflow:hidden}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,320px),1fr));
gap:12px} .grid>*,.pair>*{min-width:0}
.pair{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}
.card{background:#fff;border:1px solid #dfe3e8;padding:10px 12px}
.card h3{margin-top:0} .card .meta{color:#57606a;font-size:12px}
pre{white-space:pre-wrap;word-break:break-word;font-size:12.5px;margin:6px 0}
.empty{color:#57606a;font-style:italic}
details{margin:6px 0} summary{cursor:pointer;font-weight:600}
.diff-pick{margin:8px 0;font-size:14px} .diff-pick select{font-size:14px}
table.diff{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;border:1px solid
#dfe3e8;background:#fff;border-collapse:collapse}
table.diff td{vertical-align:top;padding:0 4px}
table.diff td.diff_next{display:none} table.diff th.diff_next{display:none}
table.diff td.diff_header{width:3em;color:#57606a;text-align:right}
.diff_add{background:#d1f5d9} .diff_chg{background:#fff1b8} .diff_sub{background:#ffd7d5}
"""

DIFF_JS = """
function showDiff(){var a=document.getElementById('diff-left').value,
b=document.getElementById('diff-right').value;
document.querySelectorAll('.diff-view').forEach(function(el){el.hidden=true;});
var el=document.getElementById('diff-'+a+'-'+b)||document.getElementById('diff-same');
if(el){el.hidden=false;}}
document.addEventListener('DOMContentLoaded',function(){
var l=document.getElementById('diff-left');if(!l){return;}
l.addEventListener('change',showDiff);
document.getElementById('diff-right').addEventListener('change',showDiff);showDiff();});
window.addEventListener('load',function(){
document.querySelectorAll('.js-plotly-plot').forEach(function(g){Plotly.Plots.resize(g);});});
"""


def _page(title: str, body: str) -> str:
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style>"
        f"<script>{get_plotlyjs()}</script><script>{DIFF_JS}</script></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>generated {generated} · "
        "multi-agent scenario lab</p></header>"
        f"<main>{body}</main></body></html>\n"
    )


def _section(title: str, content: str) -> str:
    anchor = title.lower().replace(" ", "-").replace("/", "")
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{content}</section>'


def _figure(fig: go.Figure, name: str, index: int = 0) -> str:
    """A figure as a chart div (plotly.js is already in the page)."""
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 40, "b": 30},
        template="plotly_white",
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    div = fig.to_html(
        full_html=False, include_plotlyjs=False, config=PLOT_CONFIG, div_id=f"chart-{name}-{index}"
    )
    return f'<div class="chart" data-chart="{name}">{div}</div>'


def run_label(row: RunRow, index: int) -> str:
    """A short label naming a run in charts: number, framework, model, status if not ok."""
    status = "" if row.status == "ok" and not row.cut else f" [{status_label(row)}]"
    return f"#{index + 1} {row.framework} · {row.models}{status}"


# --- runs table -----------------------------------------------------------------------------


def _runs_table(rows: Sequence[RunRow]) -> str:
    """The compare table's columns (as `compare` prints them), between a number and the file."""
    heads = [("#", "l"), *((c.head.header, _align(c)) for c in TABLE_COLUMNS), ("trace", "l")]
    head = "".join(f'<th class="{c}">{html.escape(n)}</th>' for n, c in heads)
    body = "".join(_run_row(i, row) for i, row in enumerate(rows))
    return f'<table class="data" data-table="runs"><tr>{head}</tr>{body}</table>'


def _run_row(index: int, row: RunRow) -> str:
    cells = [
        (str(index + 1), "l"),
        *((c.text(row), _cell_class(c, row)) for c in TABLE_COLUMNS),
        (Path(row.path).name, "l"),
    ]
    return "<tr>" + "".join(f'<td class="{c}">{html.escape(v)}</td>' for v, c in cells) + "</tr>"


def _align(column: Column) -> str:
    return "l" if column.head.left else ""


def _cell_class(column: Column, row: RunRow) -> str:
    """The cell's classes: its alignment and what it signals (the CSS colours it)."""
    level = column.level(row) if column.level else ""
    return " ".join(c for c in (_align(column), level) if c)


# --- timeline -------------------------------------------------------------------------------


def _origin(trace: Trace) -> datetime | None:
    times = [t for t in map(event_time, trace.events) if t is not None]
    return min(times) if times else None


def _seconds(event: dict[str, Any], origin: datetime) -> float | None:
    at = event_time(event)
    return (at - origin).total_seconds() if at is not None else None


def timeline(trace: Trace) -> tuple[list[Span], list[Mark]]:
    """A run's spans (turns, model calls, tool calls) and marks (routes, warnings, errors)."""
    origin = _origin(trace)
    if origin is None:
        return [], []
    spans: list[Span] = []
    marks: list[Mark] = []
    turn_begins: dict[str, float] = {}
    last_end = 0.0
    for event in trace.events:
        at = _seconds(event, origin)
        if at is None:
            continue
        kind = event.get("kind")
        agent = str(event.get("agent") or "?")
        if kind == LLM_CALL:
            span = _call_span(event, agent, at)
            spans.append(span)
            turn_begins.setdefault(agent, span.start_s)
        elif kind == TOOL_CALL:
            spans.append(_tool_span(event, agent, at))
        elif kind == AGENT_MESSAGE:
            start = min(turn_begins.pop(agent, last_end), at)
            spans.append(Span(f"{agent} · turn", "turn", start, at, _turn_detail(event)))
            last_end = at
        elif kind in (ROUTE, WARNING, ERROR):
            marks.append(_mark(event, at))
            last_end = at if kind == ROUTE else last_end
    return spans, marks


def _call_span(event: dict[str, Any], agent: str, end: float) -> Span:
    latency = float(event.get("latency_ms") or 0) / 1000
    metrics = event.get("metrics") or {}
    ns = int(metrics.get("eval_duration") or 0)
    rate = f", {int(metrics.get('eval_count') or 0) / ns * 1e9:.1f} tok/s" if ns else ""
    detail = (
        f"{event.get('model')}: {metrics.get('prompt_eval_count', 0)} in / "
        f"{metrics.get('eval_count', 0)} out tokens, {latency:.2f}s{rate}, "
        f"{event.get('status', 'ok')}"
    )
    return Span(f"{agent} · model", "model call", max(end - latency, 0.0), end, detail)


def _tool_span(event: dict[str, Any], agent: str, end: float) -> Span:
    if event.get("duration_ms") is not None:
        duration = float(event["duration_ms"]) / 1000
    else:
        duration = float(event.get("duration_s") or event.get("duration") or 0)
    detail = f"{event.get('tool')}({_short(json.dumps(event.get('arguments'), default=str))})"
    return Span(f"{agent} · tools", "tool call", max(end - duration, 0.0), end, detail)


def _turn_detail(event: dict[str, Any]) -> str:
    task = f" · {event['task']}" if event.get("task") else ""
    return f"turn {event.get('turn')}{task}: {_short(str(event.get('content') or ''))}"


def _mark(event: dict[str, Any], at: float) -> Mark:
    kind = str(event.get("kind"))
    if kind == ROUTE:
        reason = f": {event['reason']}" if event.get("reason") else ""
        return Mark("routing", "route", at, f"{event.get('from')} → {event.get('to')}{reason}")
    if kind == WARNING:
        return Mark("events", "warning", at, f"{event.get('code')}: {event.get('message')}")
    return Mark("events", "error", at, f"{event.get('type')}: {event.get('message')}")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lanes(trace: Trace, spans: list[Span], marks: list[Mark]) -> list[str]:
    agents = list((trace.run_started or {}).get("agents") or [])
    used = {s.lane for s in spans} | {m.lane for m in marks}
    order = [f"{a} · {part}" for a in agents for part in ("turn", "model", "tools")]
    extra = sorted(used - set(order) - {"routing", "events"})
    return [lane for lane in [*order, *extra, "routing", "events"] if lane in used]


def timeline_figure(trace: Trace, label: str) -> go.Figure:
    """A Gantt-like figure of one run: lanes per agent, seconds from the run's start."""
    spans, marks = timeline(trace)
    fig = go.Figure()
    for kind, colour in SPAN_COLOURS.items():
        chosen = [s for s in spans if s.kind == kind]
        if chosen:
            fig.add_trace(
                go.Bar(
                    name=kind,
                    orientation="h",
                    y=[s.lane for s in chosen],
                    x=[max(s.end_s - s.start_s, 0.02) for s in chosen],
                    base=[s.start_s for s in chosen],
                    marker_color=colour,
                    customdata=[[s.start_s, s.end_s, s.detail] for s in chosen],
                    hovertemplate="%{customdata[0]:.2f}s → %{customdata[1]:.2f}s<br>"
                    "%{customdata[2]}<extra>" + kind + "</extra>",
                )
            )
    for kind, symbol in (("route", "triangle-right"), ("warning", "diamond"), ("error", "x")):
        chosen = [m for m in marks if m.kind == kind]
        if chosen:
            fig.add_trace(
                go.Scatter(
                    name=kind,
                    mode="markers",
                    y=[m.lane for m in chosen],
                    x=[m.at_s for m in chosen],
                    marker={"symbol": symbol, "size": 11},
                    customdata=[m.detail for m in chosen],
                    hovertemplate="%{x:.2f}s %{customdata}<extra>" + kind + "</extra>",
                )
            )
    lanes = _lanes(trace, spans, marks)
    fig.update_layout(
        title=label,
        barmode="overlay",
        height=120 + 34 * max(len(lanes), 1),
        xaxis_title="seconds since the run started",
        legend={"orientation": "h", "y": -0.25},
    )
    fig.update_yaxes(categoryorder="array", categoryarray=lanes, autorange="reversed")
    return fig


def _timelines(traces: Sequence[Trace], rows: Sequence[RunRow]) -> str:
    charts = []
    for i, (trace, row) in enumerate(zip(traces, rows, strict=True)):
        label = f"{run_label(row, i)} · {Path(row.path).name}"
        charts.append(_figure(timeline_figure(trace, label), "timeline", i))
    return "".join(charts)


# --- bars -----------------------------------------------------------------------------------


def agent_totals(trace: Trace) -> dict[str, dict[str, float]]:
    """Per agent (in call order): model calls, input and output tokens, model time in s."""
    result: dict[str, dict[str, float]] = {}
    for call in trace.of_kind(LLM_CALL):
        agent = str(call.get("agent") or "?")
        sums = result.setdefault(
            agent, {"calls": 0, "input_tokens": 0, "output_tokens": 0, "model_time_s": 0.0}
        )
        metrics = call.get("metrics") or {}
        sums["calls"] += 1
        sums["input_tokens"] += int(metrics.get("prompt_eval_count") or 0)
        sums["output_tokens"] += int(metrics.get("eval_count") or 0)
        sums["model_time_s"] += int(metrics.get("total_duration") or 0) / 1e9
    return result


def axis_label(row: RunRow, index: int) -> str:
    """A run's label on a bar chart's axis, one fact a line."""
    status = "" if row.status == "ok" and not row.cut else f"<br>[{status_label(row)}]"
    return f"#{index + 1} {row.framework}<br>{row.models}{status}"


def _bars(traces: Sequence[Trace], rows: Sequence[RunRow]) -> str:
    labels = [axis_label(row, i) for i, row in enumerate(rows)]
    per_run = _figure(_run_tokens(rows, labels), "tokens-per-run") + _figure(
        _run_times(rows, labels), "time-per-run"
    )
    per_agent = _figure(
        _agent_figure(traces, labels, "input_tokens", "output_tokens", "tokens per agent"),
        "tokens-per-agent",
    ) + _figure(
        _agent_figure(traces, labels, "model_time_s", None, "model time per agent [s]"),
        "time-per-agent",
    )
    return f'<div class="pair">{per_run}</div><div class="pair">{per_agent}</div>'


def _run_tokens(rows: Sequence[RunRow], labels: list[str]) -> go.Figure:
    fig = go.Figure(
        [
            go.Bar(
                name="input (prompt) tokens",
                x=labels,
                y=[r.input_tokens for r in rows],
                marker_color=PALETTE[0],
            ),
            go.Bar(
                name="output (completion) tokens",
                x=labels,
                y=[r.output_tokens for r in rows],
                marker_color=PALETTE[1],
            ),
        ]
    )
    fig.update_layout(title="tokens per run", barmode="stack", height=360)
    return fig


def _run_times(rows: Sequence[RunRow], labels: list[str]) -> go.Figure:
    fig = go.Figure(
        [
            go.Bar(
                name="model time",
                x=labels,
                y=[r.model_time_s for r in rows],
                marker_color=PALETTE[0],
            ),
            go.Bar(
                name="orchestration overhead",
                x=labels,
                y=[max(r.overhead_s, 0.0) for r in rows],
                marker_color=PALETTE[3],
                customdata=[r.overhead_share or 0 for r in rows],
                hovertemplate="%{y:.2f}s (%{customdata:.0%} of wall)<extra>overhead</extra>",
            ),
        ]
    )
    fig.update_layout(
        title="wall time per run [s]: model time + overhead", barmode="stack", height=360
    )
    return fig


def _agent_figure(
    traces: Sequence[Trace], labels: list[str], key: str, second: str | None, title: str
) -> go.Figure:
    fig = go.Figure()
    for i, (trace, label) in enumerate(zip(traces, labels, strict=True)):
        label = label.split("<br>")[0]
        sums = agent_totals(trace)
        agents = list(sums)
        fig.add_trace(
            go.Bar(
                name=label if second is None else f"{label} in",
                x=agents,
                y=[sums[a][key] for a in agents],
                marker_color=PALETTE[i % len(PALETTE)],
                offsetgroup=str(i),
            )
        )
        if second is not None:
            fig.add_trace(
                go.Bar(
                    name=f"{label} out",
                    x=agents,
                    y=[sums[a][second] for a in agents],
                    base=[sums[a][key] for a in agents],
                    offsetgroup=str(i),
                    marker={"color": PALETTE[i % len(PALETTE)], "pattern": {"shape": "/"}},
                )
            )
    fig.update_layout(title=title, barmode="group", height=360)
    return fig


# --- tokens/s -------------------------------------------------------------------------------


def _speed_html(traces: Sequence[Trace]) -> str:
    speeds = model_speeds(traces)
    if not speeds:
        return '<p class="empty">no model calls recorded</p>'
    head = "".join(
        f'<th class="{"l" if i == 0 else ""}">{html.escape(h)}</th>'
        for i, h in enumerate(SPEED_HEADERS)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"l" if i == 0 else ""}">{html.escape(c)}</td>'
            for i, c in enumerate(speed_cells(s))
        )
        + "</tr>"
        for s in speeds
    )
    fig = go.Figure(
        [
            go.Bar(
                x=[s.model for s in speeds],
                y=[s.eval_rate or 0 for s in speeds],
                name="eval speed",
                marker_color=PALETTE[2],
                width=min(0.8, 0.25 * len(speeds)),
                text=[f"{s.eval_rate:.1f}" if s.eval_rate else "-" for s in speeds],
                textposition="outside",
            )
        ]
    )
    fig.update_layout(title="eval speed [tokens/s] per model", height=320)
    table = f'<table class="data" data-table="speed"><tr>{head}</tr>{body}</table>'
    return table + _figure(fig, "eval-speed")


# --- outputs and transcripts ----------------------------------------------------------------


def _outputs(traces: Sequence[Trace], rows: Sequence[RunRow]) -> str:
    cards = []
    for i, (trace, row) in enumerate(zip(traces, rows, strict=True)):
        output = str((trace.run_finished or {}).get("final_output") or "")
        text = (
            f"<pre>{html.escape(output)}</pre>"
            if output
            else (f'<p class="empty">no final output ({html.escape(status_label(row))})</p>')
        )
        cards.append(
            f'<div class="card" data-output="{i}"><h3>{html.escape(run_label(row, i))}</h3>'
            f'<div class="meta">{row.output_chars} chars · {Path(row.path).name}</div>{text}</div>'
        )
    return f'<div class="grid">{"".join(cards)}</div>'


def transcript_lines(trace: Trace) -> list[str]:
    """A run as plain text lines: turns, tool calls, routes, warnings, errors, the outcome."""
    lines: list[str] = []
    for event in trace.events:
        lines.extend(_event_lines(event))
    finished = trace.run_finished
    if finished is None:
        lines.append("(the run did not finish" + (": its last line is cut)" if trace.cut else ")"))
    else:
        lines.append(f"== run finished: {finished.get('status')}")
    return lines


def _event_lines(event: dict[str, Any]) -> list[str]:
    kind = event.get("kind")
    if kind == AGENT_MESSAGE:
        task = f" ({event['task']})" if event.get("task") else ""
        head = f"[turn {event.get('turn')}] {event.get('agent')}{task}:"
        return [head, *str(event.get("content") or "").splitlines(), ""]
    if kind == TOOL_CALL:
        args = json.dumps(event.get("arguments"), default=str, ensure_ascii=False)
        result = event.get("error") or event.get("result")
        return [f"  tool {event.get('tool')}({args}) -> {_short(str(result), 200)}"]
    if kind in (ROUTE, WARNING, ERROR):
        return [f"-- {_mark(event, 0.0).detail}"]
    return []


def _transcripts(traces: Sequence[Trace], rows: Sequence[RunRow]) -> str:
    texts = [transcript_lines(t) for t in traces]
    labels = [run_label(r, i) for i, r in enumerate(rows)]
    blocks = "".join(
        f'<details data-transcript="{i}"><summary>{html.escape(labels[i])}</summary>'
        f"<pre>{html.escape(chr(10).join(lines))}</pre></details>"
        for i, lines in enumerate(texts)
    )
    return blocks + "<h3>Diff between two runs</h3>" + _diff_view(texts, labels)


def _diff_view(texts: list[list[str]], labels: list[str]) -> str:
    count = min(len(texts), MAX_DIFF_RUNS)
    if count < 2:
        return '<p class="empty">one run: nothing to compare it with</p>'
    note = (
        ""
        if len(texts) <= MAX_DIFF_RUNS
        else (f'<p class="empty">diffs cover the first {MAX_DIFF_RUNS} runs</p>')
    )
    views = [
        _diff_table(texts[a], texts[b], labels[a], labels[b], (a, b))
        for a in range(count)
        for b in range(count)
        if a != b
    ]
    same = '<p id="diff-same" class="diff-view empty" hidden>the same run on both sides</p>'
    return note + _diff_picker(labels[:count]) + "".join(views) + same


def _diff_picker(labels: list[str]) -> str:
    def select(name: str, chosen: int) -> str:
        options = "".join(
            f'<option value="{i}"{" selected" if i == chosen else ""}>{html.escape(lab)}</option>'
            for i, lab in enumerate(labels)
        )
        return f'<select id="diff-{name}">{options}</select>'

    return f'<div class="diff-pick">{select("left", 0)} vs {select("right", 1)}</div>'


def _diff_table(a: list[str], b: list[str], left: str, right: str, pair: tuple[int, int]) -> str:
    key, hidden = f"diff-{pair[0]}-{pair[1]}", pair != (0, 1)
    table = difflib.HtmlDiff(wrapcolumn=90).make_table(a, b, left, right)
    table = table.replace('id="difflib_chg_', f'id="{key}_chg_').replace(
        'href="#difflib_chg_', f'href="#{key}_chg_'
    )
    flag = " hidden" if hidden else ""
    return f'<div id="{key}" class="diff-view" data-diff="{key}"{flag}>{table}</div>'
