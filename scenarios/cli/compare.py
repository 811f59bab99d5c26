"""`python -m scenarios compare TRACE... | RUNS_DIR`: compare runs from their traces.

`compare` reads traces (files or folders) and prints one row per run, or CSV / JSON, and
can write the self-contained HTML report. `print_fitted` fits a table to the terminal and
says what it left out; `run --framework all` and `bench-models` print theirs with it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.text import Text

from scenarios.cli.commands import subcommand
from scenarios.cli.options import add_wide
from scenarios.errors import EXIT_OK, ScenarioError
from traces.compare import (
    INCLUDE_ALL,
    INCLUDES,
    FittedTable,
    RunRow,
    check_sort,
    count_kinds,
    includes_for,
    kinds_included,
    latest,
    left_out_note,
    rows_csv,
    rows_json,
    rows_of,
    runs_table,
    sort_rows,
    split_kinds,
    started_since,
)
from traces.reader import Trace, read_traces

COMPARE_HINT = "--wide shows every column, --csv or --json every field"
RUN_HINT = "'python -m scenarios compare --wide TRACE...' shows every column"
AGE = re.compile(r"(\d+)\s*([smhdw])")
AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `compare TRACE... | RUNS_DIR [--csv|--json|--wide] [--html FILE] [--sort COLS] ...`."""
    parser = subcommand(sub, "compare", cmd_compare)
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("runs")],
        metavar="TRACE|RUNS_DIR",
        help="trace files or folders (default: runs)",
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="print CSV (every field) instead")
    form.add_argument("--json", action="store_true", help="print JSON (every field) instead")
    add_wide(form)
    parser.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write the self-contained HTML report to FILE",
    )
    parser.add_argument(
        "--sort",
        default="scenario,wall_time_s",
        metavar="COLS",
        help="columns to sort by, comma-separated; -COL sorts descending, e.g. "
        "--sort -wall_time_s (default: scenario,wall_time_s)",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="KINDS",
        help=f"also compare these runs, left out by default: {', '.join(INCLUDES)} "
        "(replays covers forks; repeatable or comma-separated)",
    )
    parser.add_argument(
        "--last", metavar="N", help="only the N most recently started runs (after --include)"
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only runs started since WHEN: an ISO date or datetime, or an age (30m, 2h, 1d)",
    )
    return parser


def cmd_compare(args: argparse.Namespace) -> int:
    """Print the runs compared (table, CSV or JSON); write the HTML report if asked."""
    keys = _sort_keys(args.sort)
    traces = read_traces(args.paths)
    rows = sort_rows(_chosen(rows_of(traces), args), keys)
    if args.csv:
        sys.stdout.write(rows_csv(rows))
    elif args.json:
        sys.stdout.write(rows_json(rows))
    else:
        print_fitted(stdout_console(), partial(runs_table, rows), COMPARE_HINT, args.wide)
    if args.html:
        _write_html(traces, rows, args.html)
    return EXIT_OK


def print_fitted(
    console: Console, fit: Callable[[int | None], FittedTable], hint: str, wide: bool = False
) -> None:
    """Print a table fitted to the console (every column when wide), and what it left out."""
    fitted = fit(None if wide else console.width)
    if wide:
        console.width = max(console.width, fitted.width)
    console.print(fitted.table)
    if fitted.left_out:
        console.print(left_out_note(fitted.left_out, hint))


def stdout_console() -> Console:
    """A console on stdout: as wide as COLUMNS or the terminal says, else 80 columns."""
    return Console()


def _sort_keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    try:
        check_sort(keys)
    except ValueError as exc:
        raise ScenarioError(f"--sort {exc}") from None
    return keys


def _chosen(rows: list[RunRow], args: argparse.Namespace) -> list[RunRow]:
    """The rows of the kinds asked, then those since --since, then the --last N of them."""
    rows = _of_kinds(rows, _includes(args.include), args.paths)
    if args.since is not None:
        when = since_time(args.since)
        rows = started_since(rows, when)
        if not rows:
            raise ScenarioError(
                f"--since {args.since}: no run started since {when:%Y-%m-%d %H:%M %Z}; "
                "go further back"
            )
    if args.last is not None:
        rows = latest(rows, _count(args.last))
    return rows


def _includes(values: Sequence[str]) -> set[str]:
    names = [n.strip() for value in values for n in value.split(",") if n.strip()]
    try:
        return kinds_included(names)
    except ValueError as exc:
        raise ScenarioError(f"--include {exc}") from None


def _of_kinds(rows: list[RunRow], kinds: set[str], paths: Sequence[Path]) -> list[RunRow]:
    """The rows of the kinds compared; a dim line on stderr counts those left out."""
    kept, left_out = split_kinds(rows, kinds)
    if not left_out:
        return kept
    flag = f"--include {','.join(includes_for(left_out))}"
    if not kept:
        where = ", ".join(map(str, paths))
        raise ScenarioError(
            f"{where}: nothing to compare: {count_kinds(left_out)} left out by default; "
            f"add {flag} (or --include {INCLUDE_ALL})"
        )
    Console(stderr=True).print(
        Text(f"left out {count_kinds(left_out)}: add {flag} to compare them", style="dim")
    )
    return kept


def since_time(text: str, now: datetime | None = None) -> datetime:
    """The moment `--since` names: an ISO date or datetime (local time unless zoned), or an age."""
    text = text.strip()
    age = AGE.fullmatch(text)
    if age:
        span = timedelta(**{AGE_UNITS[age[2]]: int(age[1])})
        return (now or datetime.now(UTC)) - span
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ScenarioError(
            f"--since {text!r}: not a date, a datetime or an age; write e.g. 2026-05-01, "
            "2026-05-01T14:30, 30m, 2h or 1d"
        ) from None
    return when if when.tzinfo is not None else when.astimezone()


def _count(text: str) -> int:
    if not text.strip().isdecimal() or int(text) < 1:
        raise ScenarioError(f"--last {text!r}: give a number of runs, at least 1, e.g. --last 5")
    return int(text)


def _write_html(traces: Sequence[Trace], rows: Sequence[RunRow], path: Path) -> None:
    from traces.report import write_report  # plotly, a slow import: only --html needs it

    by_path = {str(t.path): t for t in traces}
    try:
        write_report([by_path[r.path] for r in rows], path, rows=rows)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot write the report ({exc.strerror})") from None
    Console(stderr=True).print(f"[dim]report: {path}[/]")


def print_compare(paths: Iterable[Path], console: Console | None = None) -> None:
    """Print the compare table of the given traces (what `run --framework all` ends with)."""
    rows = rows_of(read_traces(paths))
    print_fitted(console or Console(), partial(runs_table, rows), RUN_HINT)
