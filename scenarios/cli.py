"""`python -m scenarios ...`: run, validate, list, graph, schema, doctor.

Every command is `main(argv) -> int`. A user's mistake is one line on stderr and an exit
code (2 bad input, 3 model server, 1 run failed), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from scenarios.compare_cmd import add_bench_models_parser, add_compare_parser
from scenarios.errors import (
    EXIT_BAD_INPUT,
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    LabError,
    ScenarioError,
)
from scenarios.replay_cmd import add_replay_parser
from traces.schema import STATUS_DEGRADED

if TYPE_CHECKING:
    from scenarios.loader import LoadedScenario

SHIPPED_DIR = Path(__file__).resolve().parent
SCHEMA_FILE = SHIPPED_DIR / "scenario.schema.json"
BACKENDS = ("auto", "ollama", "embedded")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; return its exit code."""
    args = parse_args(build_parser(), argv)
    if isinstance(args, int):
        return args
    return guarded(lambda: int(args.handler(args)))


def parse_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code argparse chose (0 for --help, 2 for misuse)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return parser.parse_args(join_dash_values(args))
    except SystemExit as exc:
        return int(exc.code or 0)


DASH_VALUES = ("--sort",)  # options whose value may start with "-" (`--sort -wall_time_s`)


def join_dash_values(argv: Sequence[str]) -> list[str]:
    """`--sort -x` as `--sort=-x`: argparse would take a value starting with '-' for an option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in DASH_VALUES and arg.startswith("-") and arg != "--":
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def guarded(action: Callable[[], int]) -> int:
    """Run a command; a LabError becomes its one-line message and exit code.

    A reader that stops reading (`... | head`) ends the command quietly with 141, as a Unix
    tool killed by SIGPIPE does: no traceback, and none when Python flushes at exit.
    """
    try:
        return action()
    except LabError as exc:
        _error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit cannot fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (a test's capture): nothing to flush
        pass
    finally:
        os.close(devnull)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m scenarios`."""
    parser = argparse.ArgumentParser(
        prog="python -m scenarios",
        description="Run declarative multi-agent scenarios on local models, traced.",
        epilog="Exit codes: 0 ok, 1 run failed, 2 bad input, 3 model server or model missing.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add(sub, "run", "run a scenario", cmd_run, file=True, run_options=True)
    _add(sub, "validate", "check scenario files", cmd_validate, files=True)
    _add(sub, "list", "list the shipped scenarios", cmd_list)
    _add(sub, "graph", "print the compiled graph as Mermaid", cmd_graph, file=True)
    schema = _add(sub, "schema", "write the scenario JSON Schema", cmd_schema)
    schema.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    doctor = _add(sub, "doctor", "check the model servers a scenario needs", cmd_doctor)
    doctor.add_argument("file", nargs="?", type=Path, help="a scenario file (optional)")
    add_compare_parser(sub)
    add_bench_models_parser(sub)
    add_replay_parser(sub)
    return parser


def _add(
    sub: argparse._SubParsersAction,
    name: str,
    help_text: str,
    handler: Callable[[argparse.Namespace], int],
    *,
    file: bool = False,
    files: bool = False,
    run_options: bool = False,
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    if file:
        parser.add_argument("file", type=Path, help="scenario YAML file")
    if files:
        parser.add_argument("files", nargs="+", type=Path, help="scenario YAML files")
    if run_options:
        add_run_options(parser)
    return parser


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options every run command takes (`run`, `python -m scenarios.research_team`)."""
    parser.add_argument(
        "--framework",
        default="langgraph",
        help="langgraph (default), crewai, autogen, or all (each in turn, then a compare table)",
    )
    parser.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a scenario input, e.g. --input topic='local LLMs' (repeatable)",
    )
    parser.add_argument(
        "--model",
        "-m",
        action="append",
        default=[],
        metavar="PROFILE=TAG",
        help="use another model tag for a profile, e.g. --model default=llama3.1:8b",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="auto: Ollama if it answers and has the models, else the embedded model",
    )
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where traces go")
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print only the result (and, on stderr, which backend and model serve the run)",
    )


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    """`["a=1", "b=2"]` → `{"a": "1", "b": "2"}`; a pair without `=` is a ScenarioError."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"{what} {pair!r}: expected KEY=VALUE")
        result[key.strip()] = value
    return result


def run_shipped(
    path: Path,
    description: str,
    inputs: dict[str, str],
    argv: Sequence[str] | None = None,
) -> int:
    """`python -m scenarios.<name>`: one shipped scenario, its inputs as flags, run options."""
    parser = argparse.ArgumentParser(
        prog=f"python -m scenarios.{path.stem}",
        description=description,
        epilog="Exit codes: 0 ok, 1 run failed, 2 bad input, 3 model server or model missing.",
    )
    for name, help_text in inputs.items():
        parser.add_argument(f"--{name}", help=help_text)
    add_run_options(parser)
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    from scenarios.loader import load_file

    given = {name: value for name in inputs if (value := getattr(args, name)) is not None}
    return guarded(lambda: execute_run(load_file(path), args, inputs=given))


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario file and print its final output and trace path."""
    from scenarios.loader import load_file

    return execute_run(load_file(args.file), args)


def execute_run(
    loaded: LoadedScenario, args: argparse.Namespace, inputs: dict[str, str] | None = None
) -> int:
    """Run a loaded scenario on one framework, or on each with `--framework all`."""
    from agents.registry import FRAMEWORKS

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
    from agents.harness import RunOptions, run_scenario
    from traces.console import LiveConsole

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
        _error(f"{framework}: {exc}")
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
    from traces.compare import row_of, status_label
    from traces.console import run_summary
    from traces.reader import TraceError, read_trace

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
    from scenarios.compare_cmd import print_compare

    traces = [o.trace for o in outcomes if o.trace is not None]
    if traces:
        print_compare(traces)
    for outcome in outcomes:
        if outcome.error:
            console.print(f"[yellow]{outcome.framework}[/]: {escape(outcome.error)}")
    return max(o.exit_code for o in outcomes)


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate each file; print every problem as `file:line: field: message`."""
    from scenarios.loader import load_file

    worst = EXIT_OK
    for path in args.files:
        try:
            load_file(path)
            print(f"{path}: ok")
        except ScenarioError as exc:
            _error(str(exc))
            worst = EXIT_BAD_INPUT
    return worst


def cmd_list(_args: argparse.Namespace) -> int:
    """List the shipped scenarios with their topology and description."""
    from scenarios.loader import load_file

    for path in shipped_scenarios():
        scenario = load_file(path).scenario
        description = " ".join(scenario.description.split())
        print(f"{scenario.name:<18} {scenario.team.topology:<12} {description}")
    return EXIT_OK


def shipped_scenarios() -> list[Path]:
    """The scenario files that ship with the lab."""
    return sorted(SHIPPED_DIR.glob("*.yaml"))


def cmd_graph(args: argparse.Namespace) -> int:
    """Print the scenario's compiled LangGraph as Mermaid."""
    from graphs import mermaid
    from scenarios.loader import load_file

    print(mermaid(load_file(args.file).scenario))
    return EXIT_OK


def schema_text() -> str:
    """The JSON Schema of a scenario file, as shipped in `scenario.schema.json`."""
    from scenarios.spec import Scenario

    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Multi-agent scenario"
    return json.dumps(schema, indent=2) + "\n"


def cmd_schema(args: argparse.Namespace) -> int:
    """Write the JSON Schema to a file or stdout."""
    if args.output:
        try:
            args.output.write_text(schema_text(), encoding="utf-8")
        except OSError as exc:
            message = f"{args.output}: cannot write the schema ({exc.strerror})"
            raise ScenarioError(message) from None
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(schema_text())
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check Ollama, the models a scenario needs, and the embedded engine."""
    from gateway.doctor import run_doctor
    from scenarios.loader import load_file

    scenario = load_file(args.file).scenario if args.file else None
    return run_doctor(scenario, Console())


def say_note(line: str) -> None:
    """Print a note on stderr, also under --quiet: a model standing in is never hidden."""
    print(line, file=sys.stderr)


def _error(message: str) -> None:
    for line in message.splitlines() or [message]:
        print(f"error: {line}", file=sys.stderr)
