"""`python -m scenarios compare ...` and `python -m scenarios bench-models ...`.

`compare` reads traces (files or folders) and prints one row per run, or CSV / JSON, and
can write the self-contained HTML report. `bench-models` sends a fixed prompt set to each
model through the gateway, writes one trace per model and prints the tokens/s table.
`scenarios.cli.build_parser` adds both with `add_compare_parser` / `add_bench_models_parser`.
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from scenarios.errors import EXIT_OK, LabError, ModelServerError, RunFailedError, ScenarioError

if TYPE_CHECKING:
    from traces.compare import FittedTable, RunRow
    from traces.reader import Trace

BUNDLED_PROMPTS = Path(__file__).with_name("bench_prompts.json")
BENCH_SCENARIO = "bench-models"
BENCH_AGENT = "bench"
REQUEST_TIMEOUT_S = 900.0


# --- compare --------------------------------------------------------------------------------

COMPARE_HINT = "--wide shows every column, --csv or --json every field"
RUN_HINT = "'python -m scenarios compare --wide TRACE...' shows every column"
BENCH_HINT = "--wide shows every column"
AGE = re.compile(r"(\d+)\s*([smhdw])")
AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def add_compare_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `compare TRACE... | RUNS_DIR [--csv|--json|--wide] [--html FILE] [--sort COLS] ...`."""
    from traces.compare import INCLUDES

    help_text = "compare runs from their traces: a table, CSV, JSON or an HTML report"
    parser = sub.add_parser("compare", help=help_text, description=help_text)
    parser.set_defaults(handler=cmd_compare)
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
    form.add_argument(
        "--wide", action="store_true", help="print every column, even past the terminal's width"
    )
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
    from traces.compare import rows_csv, rows_json, rows_of, runs_table, sort_rows
    from traces.reader import read_traces

    keys = _sort_keys(args.sort)
    traces = read_traces(args.paths)
    rows = sort_rows(_chosen(rows_of(traces), args), keys)
    if args.csv:
        sys.stdout.write(rows_csv(rows))
    elif args.json:
        sys.stdout.write(rows_json(rows))
    else:
        print_fitted(_stdout_console(), partial(runs_table, rows), COMPARE_HINT, args.wide)
    if args.html:
        _write_html(traces, rows, args.html)
    return EXIT_OK


def print_fitted(
    console: Console, fit: Callable[[int | None], FittedTable], hint: str, wide: bool = False
) -> None:
    """Print a table fitted to the console (every column when wide), and what it left out."""
    from traces.compare import left_out_note

    fitted = fit(None if wide else console.width)
    if wide:
        console.width = max(console.width, fitted.width)
    console.print(fitted.table)
    if fitted.left_out:
        console.print(left_out_note(fitted.left_out, hint))


def _stdout_console() -> Console:
    """A console on stdout: as wide as COLUMNS or the terminal says, else 80 columns."""
    return Console()


def _sort_keys(text: str) -> list[str]:
    from traces.compare import check_sort

    keys = [k.strip() for k in text.split(",") if k.strip()]
    try:
        check_sort(keys)
    except ValueError as exc:
        raise ScenarioError(f"--sort {exc}") from None
    return keys


def _chosen(rows: list[RunRow], args: argparse.Namespace) -> list[RunRow]:
    """The rows of the kinds asked, then those since --since, then the --last N of them."""
    from traces.compare import latest, started_since

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
    from traces.compare import kinds_included

    names = [n.strip() for value in values for n in value.split(",") if n.strip()]
    try:
        return kinds_included(names)
    except ValueError as exc:
        raise ScenarioError(f"--include {exc}") from None


def _of_kinds(rows: list[RunRow], kinds: set[str], paths: Sequence[Path]) -> list[RunRow]:
    """The rows of the kinds compared; a dim line on stderr counts those left out."""
    from traces.compare import INCLUDE_ALL, count_kinds, includes_for, split_kinds

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
    from traces.report import write_report

    by_path = {str(t.path): t for t in traces}
    try:
        write_report([by_path[r.path] for r in rows], path, rows=rows)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot write the report ({exc.strerror})") from None
    Console(stderr=True).print(f"[dim]report: {path}[/]")


def print_compare(paths: Iterable[Path], console: Console | None = None) -> None:
    """Print the compare table of the given traces (what `run --framework all` ends with)."""
    from traces.compare import rows_of, runs_table
    from traces.reader import read_traces

    rows = rows_of(read_traces(paths))
    print_fitted(console or Console(), partial(runs_table, rows), RUN_HINT)


# --- bench-models ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptSet:
    """The prompts `bench-models` sends, and the model options it sends them with."""

    name: str
    prompts: tuple[tuple[str, str], ...]
    options: dict[str, Any]
    path: Path


def add_bench_models_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `bench-models --models a,b [--prompts FILE] [--num-predict N] [--backend ...]`."""
    from scenarios.cli import BACKENDS  # here, so that cli may import this module at its top

    help_text = "run a fixed prompt set on each model and print the tokens/s table"
    parser = sub.add_parser("bench-models", help=help_text, description=help_text)
    parser.set_defaults(handler=cmd_bench_models)
    parser.add_argument(
        "--models",
        required=True,
        metavar="A,B,...",
        help="model tags, comma-separated, e.g. llama3.2:1b,qwen2.5:0.5b",
    )
    parser.add_argument(
        "--prompts",
        type=Path,
        default=BUNDLED_PROMPTS,
        metavar="FILE",
        help="a prompt set (YAML or JSON; default: the bundled one)",
    )
    parser.add_argument(
        "--num-predict",
        type=int,
        metavar="N",
        help="most tokens generated per prompt (overrides the prompt set)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="auto: Ollama if it answers and has the model, else embedded",
    )
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where traces go")
    parser.add_argument(
        "--wide", action="store_true", help="print every column, even past the terminal's width"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the table")
    return parser


def cmd_bench_models(args: argparse.Namespace) -> int:
    """Check every model, then bench each on the prompt set; print the tokens/s table.

    A model that fails mid-way still leaves the table of the models benched before it.
    """
    models = _models(args.models)
    prompt_set = load_prompts(args.prompts)
    options = dict(prompt_set.options)
    if args.num_predict is not None:
        if args.num_predict < 1:
            raise ScenarioError(f"--num-predict {args.num_predict}: must be at least 1")
        options["num_predict"] = args.num_predict
    servings = check_models(models, args.backend)
    console = Console(stderr=True, quiet=args.quiet)
    paths: list[Path] = []
    for serving in servings:
        try:
            paths.append(bench_model(serving, prompt_set, options, args.runs_dir, console))
        except LabError:
            if paths:
                console.print(
                    f"[yellow]{serving.model} failed: the table has the {len(paths)} "
                    "model(s) benched before it[/]"
                )
                _print_speeds(paths, console, args.wide)
            raise
    _print_speeds(paths, console, args.wide)
    return EXIT_OK


def _print_speeds(paths: Sequence[Path], console: Console, wide: bool) -> None:
    """The tokens/s table of the traces written (on stdout), then their paths (on stderr)."""
    from traces.compare import model_speeds, speed_table
    from traces.reader import read_traces

    speeds = model_speeds(read_traces(paths))
    print_fitted(_stdout_console(), partial(speed_table, speeds), BENCH_HINT, wide)
    for path in paths:
        console.print(f"[dim]trace: {path}[/]")


@dataclass(frozen=True)
class Serving:
    """How `bench-models` reaches one model: the backend chosen and the tag that serves it."""

    model: str
    choice: str
    backend: Any
    served: str


def check_models(models: Sequence[str], choice: str) -> list[Serving]:
    """Each model's backend, all chosen before any bench; ModelServerError naming each missing."""
    from gateway.backend import select_backend
    from gateway.hosts import ollama_host

    servings: list[Serving] = []
    missing: list[str] = []
    problems: list[str] = []
    for model in models:
        try:
            backend = select_backend(choice, ollama_host(None), [("ollama", model)])
            servings.append(Serving(model, choice, backend, _served(backend, model)))
        except ModelServerError as exc:
            missing.append(model)
            problems.append(str(exc))
    if missing:
        raise ModelServerError(
            f"cannot bench {', '.join(missing)} (nothing was benched): "
            + "; ".join(dict.fromkeys(problems))
        )
    return servings


def _models(text: str) -> list[str]:
    models = [m.strip() for m in text.split(",") if m.strip()]
    if not models:
        raise ScenarioError(f"--models {text!r}: name at least one model tag")
    return list(dict.fromkeys(models))


def load_prompts(path: Path) -> PromptSet:
    """Read a prompt set: `prompts` (strings or {id, prompt}), optional `name`, `options`."""
    from ruamel.yaml import YAML, YAMLError

    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the prompt set ({exc.strerror})") from None
    except YAMLError as exc:
        raise ScenarioError(f"{path}: not YAML or JSON ({_first_line(exc)})") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a prompt set is a mapping with a 'prompts' list")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise ScenarioError(f"{path}: options: must be a mapping, e.g. {{num_predict: 64}}")
    name = str(data.get("name") or path.stem)
    return PromptSet(name, _prompt_items(path, data.get("prompts")), dict(options), path)


def _prompt_items(path: Path, items: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(items, list) or not items:
        raise ScenarioError(f"{path}: prompts: must be a non-empty list")
    result = []
    for i, item in enumerate(items, start=1):
        if isinstance(item, str):
            item = {"id": f"p{i}", "prompt": item}
        text = item.get("prompt") if isinstance(item, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ScenarioError(f"{path}: prompts[{i}]: needs a non-empty 'prompt' text")
        result.append((str(item.get("id") or f"p{i}"), text))
    return tuple(result)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def bench_model(
    serving: Serving,
    prompt_set: PromptSet,
    options: dict[str, Any],
    runs_dir: Path,
    console: Console,
) -> Path:
    """Send every prompt to one model through a gateway; return the trace written.

    The trace is opened first and closed by the harness's `finishing`, so a failed call or
    Ctrl-C still leaves `run_finished` (and the error) on disk.
    """
    from agents.harness import finishing, open_trace
    from traces import recorder as registry

    recorder = open_trace(runs_dir, BENCH_SCENARIO, _safe(serving.model))
    registry.register(recorder)
    try:
        _emit_started(recorder, serving, prompt_set, options)
        with finishing(recorder) as end:
            end.output = _bench_run(recorder, serving, prompt_set, options, console)
    finally:
        registry.unregister(recorder.run_id)
        recorder.close()
    return recorder.path


def _served(backend: Any, model: str) -> str:
    """The tag that serves model; refuse a stand-in, which would bench the wrong model."""
    from gateway.engine import canonical_tag

    served = str(backend.model_map.get(model, model))
    if canonical_tag(served) != canonical_tag(model):
        raise ModelServerError(
            f"model '{model}' is neither on Ollama nor embedded (the embedded engine would "
            f"stand in with {served}): run 'ollama pull {model}' and start Ollama"
        )
    return served


def _safe(model: str) -> str:
    return "".join(c if c.isalnum() or c in "._" else "_" for c in model)


def _emit_started(
    recorder: Any, serving: Serving, prompt_set: PromptSet, options: dict[str, Any]
) -> None:
    from agents.harness import package_versions
    from traces.schema import RUN_STARTED

    recorder.emit(
        RUN_STARTED,
        run_kind="bench",
        scenario=BENCH_SCENARIO,
        framework="bench",
        backend=serving.choice,
        inputs={"prompt_set": prompt_set.name},
        prompts_path=str(prompt_set.path),
        prompts=[{"id": i, "prompt": p} for i, p in prompt_set.prompts],
        models={"bench": {"provider": "ollama", "model": serving.model, "options": options}},
        agents=[BENCH_AGENT],
        versions=package_versions(),
        python=platform.python_version(),
    )


def _bench_run(
    recorder: Any,
    serving: Serving,
    prompt_set: PromptSet,
    options: dict[str, Any],
    console: Console,
) -> str:
    """Ask each prompt through a gateway in front of the model's backend; the answers, joined."""
    from gateway.hosts import ollama_host
    from gateway.server import Gateway
    from traces.schema import BACKEND_SELECTED

    backend = serving.backend
    console.print(f"[bold]{serving.model}[/]: {backend.note}")
    recorder.emit(
        BACKEND_SELECTED,
        backends=[
            {
                "host": ollama_host(None),
                "kind": backend.kind,
                "models": backend.model_map,
                "note": backend.note,
            }
        ],
    )
    answers: list[str] = []
    with Gateway(backend.upstream) as gateway:
        url = f"{gateway.agent_url(recorder.run_id, BENCH_AGENT)}/api/chat"
        for turn, (prompt_id, prompt) in enumerate(prompt_set.prompts, start=1):
            console.print(f"  {prompt_id} …")
            reply = _chat(url, serving.served, prompt, options)
            _emit_turn(recorder, reply, turn, prompt_id)
            answers.append(f"[{prompt_id}] {reply.strip()}")
    return "\n\n".join(answers)


def _chat(url: str, model: str, prompt: str, options: dict[str, Any]) -> str:
    import httpx

    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": False,
        "options": options,
    }
    try:
        response = httpx.post(url, json=body, timeout=REQUEST_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise RunFailedError(f"bench call to {model} failed: {exc}") from None
    if response.status_code != 200:
        raise RunFailedError(
            f"bench call to {model} failed: HTTP {response.status_code}: {response.text[:200]}"
        )
    return str((response.json().get("message") or {}).get("content") or "")


def _emit_turn(recorder: Any, content: str, turn: int, prompt_id: str) -> None:
    from traces.schema import AGENT_MESSAGE

    recorder.emit(
        AGENT_MESSAGE,
        agent=BENCH_AGENT,
        role="assistant",
        content=content,
        turn=turn,
        task=prompt_id,
    )
