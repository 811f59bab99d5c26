"""`python -m scenarios run FILE` and `python -m scenarios.<name>`: run a scenario, traced.

The run prints its final output and ends with its summary, read back from its trace;
`--framework all` runs the scenario on each framework in turn, then prints the compare
table of the runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from agents.harness import RunOptions, run_scenario
from agents.registry import FRAMEWORKS
from scenarios.cli.commands import subcommand
from scenarios.cli.compare import print_compare
from scenarios.cli.options import add_file, add_run_options, parse_pairs
from scenarios.cli.output import EXIT_CODES, guarded, parse_args, print_error, say_note
from scenarios.errors import EXIT_OK, EXIT_RUN_FAILED, LabError
from scenarios.loader import LoadedScenario, load_file
from traces.compare import row_of, status_label
from traces.console import LiveConsole, run_summary
from traces.reader import TraceError, read_trace
from traces.schema import STATUS_DEGRADED


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `run FILE [--framework ...] [--input K=V] [--model P=TAG] [--backend ...] ...`."""
    parser = subcommand(sub, "run", cmd_run)
    add_file(parser)
    add_run_options(parser)
    return parser


def run_shipped(
    path: Path,
    description: str,
    inputs: dict[str, str],
    argv: Sequence[str] | None = None,
) -> int:
    """`python -m scenarios.<name>`: one shipped scenario, its inputs as flags, run options."""
    parser = argparse.ArgumentParser(
        prog=f"python -m scenarios.{path.stem}", description=description, epilog=EXIT_CODES
    )
    for name, help_text in inputs.items():
        parser.add_argument(f"--{name}", help=help_text)
    add_run_options(parser)
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    given = {name: value for name in inputs if (value := getattr(args, name)) is not None}
    return guarded(lambda: execute_run(load_file(path), args, inputs=given))


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario file and print its final output and trace path."""
    return execute_run(load_file(args.file), args)


def execute_run(
    loaded: LoadedScenario, args: argparse.Namespace, inputs: dict[str, str] | None = None
) -> int:
    """Run a loaded scenario on one framework, or on each with `--framework all`."""
    frameworks = list(FRAMEWORKS) if args.framework == "all" else [args.framework]
    console = Console(stderr=True, quiet=args.quiet)
    if len(frameworks) == 1:
        return _run_one(loaded, args, frameworks[0], inputs, console).exit_code
    outcomes = [_run_one(loaded, args, fw, inputs, console, keep_going=True) for fw in frameworks]
    return _summarize(outcomes, console)


@dataclass(frozen=True)
class _Outcome:
    framework: str
    exit_code: int
    trace: Path | None = None
    error: str | None = None


def _run_one(
    loaded: LoadedScenario,
    args: argparse.Namespace,
    framework: str,
    inputs: dict[str, str] | None,
    console: Console,
    keep_going: bool = False,
) -> _Outcome:
    """One run; with `keep_going`, a LabError is reported and returned instead of raised."""
    options = RunOptions(
        framework=framework,
        inputs={**parse_pairs(args.input, "--input"), **(inputs or {})},
        backend=args.backend,
        model_overrides=parse_pairs(args.model, "--model"),
        runs_dir=args.runs_dir,
    )
    live = LiveConsole(console, [a.name for a in loaded.scenario.agents])
    if keep_going:
        console.rule(f"[bold]{framework}")
    try:
        result = run_scenario(
            loaded,
            options,
            say=lambda note: console.print(escape(note)),
            announce=say_note,
            listeners=(live,),
        )
    except LabError as exc:
        live.close()
        if exc.trace_path is not None and exc.exit_code == EXIT_RUN_FAILED:
            summarize_run(exc.trace_path, console)  # bad input and no server: one line only
        if not keep_going:
            raise
        print_error(f"{framework}: {exc}")
        return _Outcome(framework, exc.exit_code, exc.trace_path, str(exc))
    finally:
        live.close()
    console.rule(f"final output ({framework})" if keep_going else "final output")
    print(result.final_output)
    summarize_run(result.trace_path, console)
    return _Outcome(framework, EXIT_OK, result.trace_path)


def summarize_run(trace: Path, console: Console) -> None:
    """End a run with its summary, read back from its trace (the numbers `compare` shows).

    A quiet console still gets one line for a degraded run, which is never reported by
    silence (a failed one has its error line).
    """
    try:
        row = row_of(read_trace(trace))
    except TraceError:
        return  # a trace with nothing readable: the error line says what happened
    if not console.quiet:
        console.print(run_summary(row))
    elif row.status == STATUS_DEGRADED:
        say_note(f"status: {status_label(row)} (trace: {row.path})")


def _summarize(outcomes: list[_Outcome], console: Console) -> int:
    """Print the compare table of the runs made; the worst exit code of them."""
    traces = [o.trace for o in outcomes if o.trace is not None]
    if traces:
        print_compare(traces)
    for outcome in outcomes:
        if outcome.error:
            console.print(f"[yellow]{outcome.framework}[/]: {escape(outcome.error)}")
    return max(o.exit_code for o in outcomes)
