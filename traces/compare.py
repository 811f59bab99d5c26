"""Compare runs: one row per trace, as a rich table, CSV or JSON.

Every number is recomputed from the trace's events (not copied from `run_finished`), so a
run that did not finish, or whose last line was cut, is measured like any other and marked.
Model time is the sum of the calls' Ollama `total_duration`; orchestration overhead is wall
time minus model time (negative when calls overlapped, as in a parallel team).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from traces.reader import Trace, event_time, read_traces
from traces.schema import AGENT_MESSAGE, LLM_CALL, METRIC_KEYS, TOOL_CALL, WARNING, totals_of

CONTEXT_TRUNCATED = "context_truncated"
STATUS_STYLES = {"ok": "green", "failed": "red", "interrupted": "yellow", "unfinished": "yellow"}
DEFAULT_SORT = ("scenario", "wall_time_s")


@dataclass(frozen=True)
class RunRow:
    """One run's numbers, all recomputed from its trace."""

    scenario: str
    framework: str
    models: str
    status: str
    cut: bool
    wall_time_s: float
    model_time_s: float
    overhead_s: float
    overhead_share: float | None
    llm_calls: int
    input_tokens: int
    output_tokens: int
    tokens_per_s: float | None
    agent_turns: int
    tool_calls: int
    warnings: int
    context_truncated: int
    errors: int
    output_chars: int
    run_id: str
    started: str
    path: str

    def as_dict(self) -> dict[str, Any]:
        """The row as a plain dict (field order kept)."""
        return asdict(self)


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(RunRow))


def row_of(trace: Trace) -> RunRow:
    """The comparison row of one trace."""
    started = trace.run_started or {}
    totals = totals_of(trace.events)
    wall = wall_time_s(trace)
    model = totals["model_time_s"]
    warnings = trace.of_kind(WARNING)
    return RunRow(
        scenario=str(started.get("scenario") or "(no run_started)"),
        framework=str(started.get("framework") or "-"),
        models=", ".join(models_of(trace)) or "-",
        status=trace.status,
        cut=trace.cut,
        wall_time_s=round(wall, 3),
        model_time_s=round(model, 3),
        overhead_s=round(wall - model, 3),
        overhead_share=round((wall - model) / wall, 4) if wall > 0 else None,
        llm_calls=totals["llm_calls"],
        input_tokens=totals["input_tokens"],
        output_tokens=totals["output_tokens"],
        tokens_per_s=eval_rate(trace.of_kind(LLM_CALL)),
        agent_turns=len(trace.of_kind(AGENT_MESSAGE)),
        tool_calls=len(trace.of_kind(TOOL_CALL)),
        warnings=len(warnings),
        context_truncated=sum(w.get("code") == CONTEXT_TRUNCATED for w in warnings),
        errors=len(trace.of_kind("error")),
        output_chars=len(str((trace.run_finished or {}).get("final_output") or "")),
        run_id=str(trace.run_id or "-"),
        started=str(trace.events[0].get("ts", "")),
        path=str(trace.path),
    )


def models_of(trace: Trace) -> list[str]:
    """The models a run called (from its `llm_call` events), else those its profiles name."""
    called = sorted({str(e["model"]) for e in trace.of_kind(LLM_CALL) if e.get("model")})
    if called:
        return called
    profiles = (trace.run_started or {}).get("models") or {}
    return sorted({str(p.get("model")) for p in profiles.values() if isinstance(p, dict)})


def wall_time_s(trace: Trace) -> float:
    """The run's wall time: as `run_finished` recorded it, else first to last event."""
    totals = (trace.run_finished or {}).get("totals") or {}
    if isinstance(totals.get("wall_time_s"), int | float):
        return float(totals["wall_time_s"])
    times = [t for t in map(event_time, trace.events) if t is not None]
    return (max(times) - min(times)).total_seconds() if times else 0.0


def eval_rate(calls: Iterable[dict[str, Any]]) -> float | None:
    """Generated tokens per second of eval time over calls, None when none was timed."""
    count = duration = 0
    for call in calls:
        metrics = call.get("metrics") or {}
        count += int(metrics.get("eval_count") or 0)
        duration += int(metrics.get("eval_duration") or 0)
    return round(count / duration * 1e9, 2) if duration else None


def rows_of(traces: Iterable[Trace], sort: Sequence[str] = DEFAULT_SORT) -> list[RunRow]:
    """Rows of traces, sorted by the given columns."""
    return sort_rows([row_of(trace) for trace in traces], sort)


def sort_rows(rows: Iterable[RunRow], keys: Sequence[str] = DEFAULT_SORT) -> list[RunRow]:
    """Rows sorted by columns (None values last); ValueError for an unknown column."""
    unknown = [k for k in keys if k not in COLUMNS]
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r}: choose from {', '.join(COLUMNS)}")

    def key(row: RunRow) -> tuple[Any, ...]:
        values = [getattr(row, k) for k in keys]
        return tuple((v is None, v if v is not None else 0) for v in values)

    return sorted(rows, key=key)


def rows_csv(rows: Iterable[RunRow]) -> str:
    """Rows as CSV with a header line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.as_dict())
    return out.getvalue()


def rows_json(rows: Iterable[RunRow]) -> str:
    """Rows as a JSON array of objects."""
    return json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False) + "\n"


def table_of(rows: Sequence[RunRow], title: str = "runs compared") -> Table:
    """A rich table of rows: aligned, status coloured, fastest run of a scenario in bold."""
    table = Table(title=title, header_style="bold", title_justify="left")
    fastest = _fastest(rows)
    cells = [_cells(row, row.path in fastest) for row in rows]
    for i, (name, justify) in enumerate(_HEADERS):
        width = min(max((len(str(c[i])) for c in cells), default=1), 16)
        table.add_column(
            name,
            justify=justify,
            overflow="fold",  # type: ignore[arg-type]
            min_width=width,
        )
    for row_cells in cells:
        table.add_row(*row_cells)
    return table


_HEADERS: tuple[tuple[str, str], ...] = (
    ("scenario", "left"),
    ("framework", "left"),
    ("model(s)", "left"),
    ("status", "left"),
    ("wall\ns", "right"),
    ("model\ns", "right"),
    ("overhead\ns (%)", "right"),
    ("calls", "right"),
    ("in\ntok", "right"),
    ("out\ntok", "right"),
    ("tok/s", "right"),
    ("turns", "right"),
    ("tools", "right"),
    ("warnings", "right"),
    ("output\nchars", "right"),
)


def _fastest(rows: Sequence[RunRow]) -> set[str]:
    """Paths of the fastest finished-ok run per scenario (only where there is a choice)."""
    best: dict[str, RunRow] = {}
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.scenario] = counts.get(row.scenario, 0) + 1
        if row.status == "ok" and not row.cut:
            current = best.get(row.scenario)
            if current is None or row.wall_time_s < current.wall_time_s:
                best[row.scenario] = row
    return {r.path for s, r in best.items() if counts[s] > 1}


def _cells(row: RunRow, fastest: bool) -> list[Text | str]:
    share = f" ({row.overhead_share:.0%})" if row.overhead_share is not None else ""
    return [
        row.scenario,
        row.framework,
        row.models,
        status_text(row),
        Text(f"{row.wall_time_s:.1f}", style="bold green" if fastest else ""),
        f"{row.model_time_s:.1f}",
        f"{row.overhead_s:.1f}{share}",
        str(row.llm_calls),
        str(row.input_tokens),
        str(row.output_tokens),
        f"{row.tokens_per_s:.1f}" if row.tokens_per_s is not None else "-",
        str(row.agent_turns),
        str(row.tool_calls),
        _warnings_text(row),
        str(row.output_chars),
    ]


def status_label(row: RunRow) -> str:
    """The status as shown: `ok`, `failed`, `unfinished`, with `, cut` when the last line was."""
    return f"{row.status}, cut" if row.cut else row.status


def status_text(row: RunRow) -> Text:
    """The status, coloured."""
    return Text(status_label(row), style=STATUS_STYLES.get(row.status, "yellow"))


def _warnings_text(row: RunRow) -> Text:
    if not row.warnings:
        return Text("0", style="dim")
    extra = f" ({row.context_truncated} ctx)" if row.context_truncated else ""
    return Text(f"{row.warnings}{extra}", style="yellow")


def compare_table(paths: Iterable[Path | str], sort: Sequence[str] = DEFAULT_SORT) -> Table:
    """The compare table of the traces named by paths (files or folders); TraceError if none."""
    return table_of(rows_of(read_traces(paths), sort))


@dataclass(frozen=True)
class ModelSpeed:
    """One model's Ollama metrics summed over calls, with the classic rates."""

    model: str
    calls: int
    total_duration_s: float
    load_duration_s: float
    prompt_eval_count: int
    prompt_eval_duration_s: float
    eval_count: int
    eval_duration_s: float

    @property
    def eval_rate(self) -> float | None:
        """Eval speed in tokens/s (generated tokens over eval time)."""
        return self.eval_count / self.eval_duration_s if self.eval_duration_s else None

    @property
    def prompt_eval_rate(self) -> float | None:
        """Prompt processing speed in tokens/s."""
        if not self.prompt_eval_duration_s:
            return None
        return self.prompt_eval_count / self.prompt_eval_duration_s

    def as_dict(self) -> dict[str, Any]:
        """The sums and both rates as a plain dict."""
        return {
            **asdict(self),
            "eval_rate": self.eval_rate,
            "prompt_eval_rate": self.prompt_eval_rate,
        }


def model_speeds(traces: Iterable[Trace]) -> list[ModelSpeed]:
    """Per model (sorted by tag), the Ollama metrics of all its calls in traces, summed."""
    sums: dict[str, dict[str, int]] = {}
    for trace in traces:
        for call in trace.of_kind(LLM_CALL):
            model_sums = sums.setdefault(
                str(call.get("model") or "?"), dict.fromkeys(("calls", *METRIC_KEYS), 0)
            )
            model_sums["calls"] += 1
            metrics = call.get("metrics") or {}
            for key in METRIC_KEYS:
                model_sums[key] += int(metrics.get(key) or 0)
    return [_speed(model, s) for model, s in sorted(sums.items())]


def _speed(model: str, s: dict[str, int]) -> ModelSpeed:
    return ModelSpeed(
        model=model,
        calls=s["calls"],
        total_duration_s=s["total_duration"] / 1e9,
        load_duration_s=s["load_duration"] / 1e9,
        prompt_eval_count=s["prompt_eval_count"],
        prompt_eval_duration_s=s["prompt_eval_duration"] / 1e9,
        eval_count=s["eval_count"],
        eval_duration_s=s["eval_duration"] / 1e9,
    )


SPEED_HEADERS = (
    "model",
    "calls",
    "eval speed [tokens/s]",
    "total duration",
    "prompt duration",
    "eval duration",
    "eval count",
    "prompt eval count",
    "prompt speed [tokens/s]",
    "load duration",
)


def speed_cells(speed: ModelSpeed) -> list[str]:
    """One model's row in the classic columns, formatted (`-` where not measured)."""
    return [
        speed.model,
        str(speed.calls),
        _rate(speed.eval_rate),
        f"{speed.total_duration_s:.2f}s",
        f"{speed.prompt_eval_duration_s:.2f}s",
        f"{speed.eval_duration_s:.2f}s",
        str(speed.eval_count),
        str(speed.prompt_eval_count),
        _rate(speed.prompt_eval_rate),
        f"{speed.load_duration_s:.2f}s",
    ]


def _rate(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def speed_table(speeds: Sequence[ModelSpeed], title: str = "tokens/s per model") -> Table:
    """The tokens/s table as a rich table."""
    table = Table(title=title, header_style="bold", title_justify="left")
    cells = [speed_cells(s) for s in speeds]
    for i, name in enumerate(SPEED_HEADERS):
        width = max((len(c[i]) for c in cells), default=1)
        table.add_column(
            Text(name), justify="left" if i == 0 else "right", overflow="fold", min_width=width
        )
    for row_cells in cells:
        table.add_row(*row_cells)
    return table
