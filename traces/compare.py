"""Compare runs: one row per trace, as a rich table, CSV or JSON.

Every number is recomputed from the trace's events (not copied from `run_finished`), so a
run that did not finish, or whose last line was cut, is measured like any other and marked.
Model time is the sum of the calls' Ollama `total_duration`; orchestration overhead is wall
time minus model time (negative when calls overlapped, as in a parallel team).

The table fits the width it is given: columns are chosen by rank (the identifying ones and
the status first), each as wide as its longest word at least, so no header or word is split;
what does not fit is named under the table. CSV and JSON carry every field.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from scenarios.spec import canonical_tag
from traces import health
from traces.reader import Trace, event_time, read_traces
from traces.schema import (
    AGENT_MESSAGE,
    BACKEND_SELECTED,
    CONTEXT_TRUNCATED,
    LLM_CALL,
    METRIC_KEYS,
    RUN_KINDS,
    TOOL_CALL,
    WARNING,
    run_kind,
    totals_of,
)

DEFAULT_SORT = ("scenario", "wall_time_s")
OLDEST = datetime.min.replace(tzinfo=UTC)
DESCENDING = "-"  # a sort key's prefix: `-wall_time_s` sorts slowest first

# What a cell signals, and its colour in the terminal (the HTML report has a CSS class each).
# A status without an entry (interrupted, unfinished) is a warning: yellow.
LEVEL_STYLES = {
    "ok": "green",
    "failed": "red",
    "degraded": "yellow",
    "warn": "yellow",
    "quiet": "dim",
}
# A long cell (the inputs, a status with its reasons) wraps onto three lines at most, unless
# that takes more than this many cells (then onto more lines).
MOST_LEAST_WIDTH = 24

# Run kinds compared by default, and what each `--include` name brings in.
DEFAULT_KINDS: tuple[str, ...] = ("run",)
INCLUDE_ALL = "all"
INCLUDES: dict[str, tuple[str, ...]] = {
    "replays": ("replay", "fork"),
    "bench": ("bench",),
    INCLUDE_ALL: RUN_KINDS,
}
KIND_NOUNS = {
    "run": ("run", "runs"),
    "replay": ("replay", "replays"),
    "fork": ("fork", "forks"),
    "bench": ("bench run", "bench runs"),
}


@dataclass(frozen=True)
class RunRow:
    """One run's numbers, all recomputed from its trace."""

    scenario: str
    framework: str
    models: str
    kind: str
    status: str
    reasons: dict[str, int]
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
    tool_errors: int
    truncated: int
    warnings: int
    context_truncated: int
    errors: int
    output_chars: int
    served_by: str
    inputs: str
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
        kind=run_kind(trace.run_started),
        status=trace.status,
        reasons=health.reasons_of(list(trace.events)),
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
        tool_errors=sum(bool(e.get("error")) for e in trace.of_kind(TOOL_CALL)),
        truncated=sum(e.get("done_reason") == "length" for e in trace.of_kind(LLM_CALL)),
        warnings=len(warnings),
        context_truncated=sum(w.get("code") == CONTEXT_TRUNCATED for w in warnings),
        errors=len(trace.of_kind("error")),
        output_chars=len(str((trace.run_finished or {}).get("final_output") or "")),
        served_by=served_by(trace),
        inputs=inputs_text(started.get("inputs")),
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


def served_by(trace: Trace) -> str:
    """Which backend served the run, with `requested→served` where a model stood in for one."""
    backends = (trace.first(BACKEND_SELECTED) or {}).get("backends") or []
    parts = [_backend_text(b) for b in backends if isinstance(b, dict)]
    return "; ".join(dict.fromkeys(parts)) or "-"


def _backend_text(backend: dict[str, Any]) -> str:
    models = backend.get("models") or {}
    swaps = [
        f"{asked}→{served}"
        for asked, served in models.items()
        if canonical_tag(str(asked)) != canonical_tag(str(served))
    ]
    kind = str(backend.get("kind") or "?")
    return f"{kind} ({', '.join(swaps)})" if swaps else kind


def inputs_text(inputs: Any) -> str:
    """A run's inputs as `k=v, k=v` (`-` when it had none)."""
    if not isinstance(inputs, dict) or not inputs:
        return "-"
    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in inputs.items())


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


def status_label(row: RunRow) -> str:
    """The status as shown: `ok`, `degraded (2 tool errors, 1 truncated)`, `unfinished, cut`."""
    label = health.status_label(row.status, row.reasons)
    return f"{label}, cut" if row.cut else label


# --- choosing rows --------------------------------------------------------------------------


def rows_of(traces: Iterable[Trace], sort: Sequence[str] = DEFAULT_SORT) -> list[RunRow]:
    """Rows of traces, sorted by the given columns."""
    return sort_rows([row_of(trace) for trace in traces], sort)


def check_sort(keys: Sequence[str]) -> None:
    """Raise ValueError naming the first sort key that is not a column (`-COL` is one)."""
    for key in keys:
        if key.removeprefix(DESCENDING) not in COLUMNS:
            raise ValueError(
                f"{key!r}: not a column; choose from {', '.join(COLUMNS)} "
                f"(prefix one with {DESCENDING} to sort it descending)"
            )


def sort_rows(rows: Iterable[RunRow], keys: Sequence[str] = DEFAULT_SORT) -> list[RunRow]:
    """Rows sorted by columns, `-COL` descending, None values last; ValueError if unknown."""
    check_sort(keys)
    result = list(rows)
    for key in reversed(keys):  # stable sorts, last key first: the first key decides most
        result = _sorted_by(result, key.removeprefix(DESCENDING), key.startswith(DESCENDING))
    return result


def _sorted_by(rows: list[RunRow], column: str, descending: bool) -> list[RunRow]:
    known = [r for r in rows if getattr(r, column) is not None]
    blank = [r for r in rows if getattr(r, column) is None]
    return sorted(known, key=lambda r: _sort_value(getattr(r, column)), reverse=descending) + blank


def _sort_value(value: Any) -> Any:
    """A cell as sorted: a reasons dict by how many reasons it counts."""
    return sum(value.values()) if isinstance(value, dict) else value


def kinds_included(includes: Iterable[str]) -> set[str]:
    """The run kinds compared: live runs and what each `--include` name adds (ValueError)."""
    kinds = set(DEFAULT_KINDS)
    for name in includes:
        if name not in INCLUDES:
            raise ValueError(f"{name!r}: choose from {', '.join(INCLUDES)}")
        kinds.update(INCLUDES[name])
    return kinds


def split_kinds(rows: Iterable[RunRow], kinds: set[str]) -> tuple[list[RunRow], list[RunRow]]:
    """(rows of the kinds asked, rows left out)."""
    rows = list(rows)
    return [r for r in rows if r.kind in kinds], [r for r in rows if r.kind not in kinds]


def count_kinds(rows: Iterable[RunRow]) -> str:
    """How many rows of each kind: `1 replay, 2 bench runs`."""
    counts = Counter(r.kind for r in rows)
    return ", ".join(f"{n} {KIND_NOUNS.get(k, (k, k))[n != 1]}" for k, n in sorted(counts.items()))


def includes_for(rows: Iterable[RunRow]) -> list[str]:
    """The `--include` names that would bring rows in."""
    kinds = {r.kind for r in rows}
    return [
        name for name, brings in INCLUDES.items() if name != INCLUDE_ALL and kinds & set(brings)
    ]


def started_at(row: RunRow) -> datetime | None:
    """When a run started (its first event's time, UTC when the trace gave no zone)."""
    at = event_time({"ts": row.started})
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def started_since(rows: Iterable[RunRow], when: datetime) -> list[RunRow]:
    """Rows of runs started at or after `when` (a run with no start time is left out)."""
    return [r for r in rows if (at := started_at(r)) is not None and at >= when]


def latest(rows: Iterable[RunRow], count: int) -> list[RunRow]:
    """The `count` most recently started rows (a run with no start time counts as oldest)."""
    return sorted(rows, key=lambda r: started_at(r) or OLDEST, reverse=True)[:count]


# --- tables that fit -----------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """A table column's header, its rank (1 is kept first when width is short), its side."""

    header: str
    rank: int
    left: bool = False  # text, left-aligned; numbers are right-aligned


@dataclass(frozen=True)
class FittedTable:
    """A table, the columns it left out to fit, and its width in cells."""

    table: Table
    left_out: tuple[str, ...]
    width: int


def fit_table(
    title: str, heads: Sequence[Head], rows: Sequence[Sequence[Text]], width: int | None
) -> FittedTable:
    """A table of cells fitted to `width` cells, no header or word split (None: all columns)."""
    bounds = {
        h.header: _bounds(h.header, [row[i].plain for row in rows]) for i, h in enumerate(heads)
    }
    widths = _fit(heads, bounds, width)
    shown = [i for i, head in enumerate(heads) if head.header in widths]
    table = _new_table(title)
    for i in shown:
        justify = "left" if heads[i].left else "right"
        table.add_column(Text(heads[i].header), justify=justify, width=widths[heads[i].header])
    for row in rows:
        table.add_row(*(row[i] for i in shown))
    left_out = tuple(head.header for head in heads if head.header not in widths)
    return FittedTable(table, left_out, sum(widths.values()) + _frame(len(shown)))


def left_out_note(left_out: Sequence[str], hint: str) -> Text:
    """The dim line under a fitted table that names the columns it left out, and the way out."""
    return Text(f"not shown at this width: {', '.join(left_out)} ({hint})", style="dim")


def _new_table(title: str) -> Table:
    """The table style: a rule under the header, two spaces between columns, no edges."""
    return Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
    )


@lru_cache
def _frame(count: int) -> int:
    """The cells the table style adds to `count` columns (separators, padding)."""
    table = _new_table("")
    for _ in range(count):
        table.add_column(width=1)
    console = Console(width=100_000, file=io.StringIO())
    return Measurement.get(console, console.options, table).maximum - count


def _bounds(header: str, texts: Sequence[str]) -> tuple[int, int]:
    """A column's least width (its header, longest word, a third of its longest cell) and full."""
    words = [cell_len(word) for text in texts for word in text.split()]
    whole = max([cell_len(header), *(cell_len(text) for text in texts)])
    return max([cell_len(header), min(whole // 3, MOST_LEAST_WIDTH), *words]), whole


def _fit(
    heads: Sequence[Head], bounds: dict[str, tuple[int, int]], width: int | None
) -> dict[str, int]:
    """Widths of the columns shown: by rank, those that fit at their least, then widened.

    Every column when width is None, each at its full width.
    """
    if width is None:
        return {header: most for header, (_, most) in bounds.items()}
    ranked = [head.header for head in sorted(heads, key=lambda h: h.rank)]
    widths: dict[str, int] = {}
    for header in ranked:
        trial = {**widths, header: bounds[header][0]}
        if not widths or sum(trial.values()) + _frame(len(trial)) <= width:
            widths = trial
    spare = width - sum(widths.values()) - _frame(len(widths))
    for header in ranked:
        if header in widths and spare > 0:
            grow = min(spare, bounds[header][1] - widths[header])
            widths[header] += grow
            spare -= grow
    return widths


# --- the runs table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the runs table, in the terminal and in the HTML report alike."""

    head: Head
    text: Callable[[RunRow], str]
    level: Callable[[RunRow], str] | None = None  # what a cell signals: a LEVEL_STYLES key


def _field(name: str) -> Callable[[RunRow], str]:
    return lambda row: str(getattr(row, name))


def _counted(name: str) -> Callable[[RunRow], str]:
    """A count's level: a warning when above zero, else quiet."""
    return lambda row: "warn" if getattr(row, name) else "quiet"


def _overhead(row: RunRow) -> str:
    share = f" ({row.overhead_share:.0%})" if row.overhead_share is not None else ""
    return f"{row.overhead_s:.1f}{share}"


def _speed(row: RunRow) -> str:
    return f"{row.tokens_per_s:.1f}" if row.tokens_per_s is not None else "-"


def _status_level(row: RunRow) -> str:
    return row.status


TABLE_COLUMNS: tuple[Column, ...] = (
    Column(Head("scenario", 1, left=True), _field("scenario")),
    Column(Head("framework", 2, left=True), _field("framework")),
    Column(Head("model(s)", 3, left=True), _field("models")),
    Column(Head("kind", 7, left=True), _field("kind")),
    Column(Head("status", 4, left=True), status_label, level=_status_level),
    Column(Head("wall s", 5), lambda row: f"{row.wall_time_s:.1f}"),
    Column(Head("model s", 10), lambda row: f"{row.model_time_s:.1f}"),
    Column(Head("overhead s", 18), _overhead),
    Column(Head("calls", 12), _field("llm_calls")),
    Column(Head("in tok", 13), _field("input_tokens")),
    Column(Head("out tok", 14), _field("output_tokens")),
    Column(Head("tok/s", 11), _speed),
    Column(Head("turns", 19), _field("agent_turns")),
    Column(Head("tools", 20), _field("tool_calls")),
    Column(Head("tool errors", 15), _field("tool_errors"), level=_counted("tool_errors")),
    Column(Head("truncated", 16), _field("truncated"), level=_counted("truncated")),
    Column(Head("warnings", 17), _field("warnings"), level=_counted("warnings")),
    Column(Head("output chars", 21), _field("output_chars")),
    Column(Head("served by", 9, left=True), _field("served_by")),
    Column(Head("inputs", 8, left=True), _field("inputs")),
    Column(Head("run id", 6, left=True), _field("run_id")),
)


def runs_table(
    rows: Sequence[RunRow], width: int | None = None, title: str = "runs compared"
) -> FittedTable:
    """The runs table fitted to `width` cells (None: every column at its full width).

    No run is marked the fastest: one run of each is one sample, not a comparison.
    """
    cells = [[_cell(c, row) for c in TABLE_COLUMNS] for row in rows]
    return fit_table(title, [c.head for c in TABLE_COLUMNS], cells, width)


def level_style(level: str) -> str:
    """The terminal style of what a cell signals (an unlisted status is a warning)."""
    return LEVEL_STYLES.get(level, "yellow") if level else ""


def _cell(column: Column, row: RunRow) -> Text:
    return Text(column.text(row), style=level_style(column.level(row) if column.level else ""))


def compare_table(paths: Iterable[Path | str], sort: Sequence[str] = DEFAULT_SORT) -> Table:
    """The compare table, every column, of the traces named by paths; TraceError if none."""
    return runs_table(rows_of(read_traces(paths), sort)).table


# --- CSV and JSON ---------------------------------------------------------------------------


def rows_csv(rows: Iterable[RunRow]) -> str:
    """Rows as CSV with a header line (a reasons dict as compact JSON)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.as_dict().items()})
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else value


def rows_json(rows: Iterable[RunRow]) -> str:
    """Rows as a JSON array of objects."""
    return json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False) + "\n"


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


SPEED_HEADS: tuple[Head, ...] = (
    Head("model", 1, left=True),
    Head("calls", 3),
    Head("eval speed [tokens/s]", 2),
    Head("total duration", 5),
    Head("prompt duration", 8),
    Head("eval duration", 7),
    Head("eval count", 4),
    Head("prompt eval count", 9),
    Head("prompt speed [tokens/s]", 6),
    Head("load duration", 10),
)
SPEED_HEADERS: tuple[str, ...] = tuple(head.header for head in SPEED_HEADS)


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


def speed_table(
    speeds: Sequence[ModelSpeed], width: int | None = None, title: str = "tokens/s per model"
) -> FittedTable:
    """The tokens/s table fitted to `width` cells (None: every column at its full width)."""
    cells = [[Text(c) for c in speed_cells(s)] for s in speeds]
    return fit_table(title, SPEED_HEADS, cells, width)
