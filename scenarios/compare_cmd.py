"""`python -m scenarios compare ...` and `python -m scenarios bench-models ...`.

`compare` reads traces (files or folders) and prints one row per run, or CSV / JSON, and
can write the self-contained HTML report. `bench-models` sends a fixed prompt set to each
model through the gateway, writes one trace per model and prints the tokens/s table.
`scenarios.cli.build_parser` adds both with `add_compare_parser` / `add_bench_models_parser`.
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from scenarios.errors import EXIT_OK, ModelServerError, RunFailedError, ScenarioError

BUNDLED_PROMPTS = Path(__file__).with_name("bench_prompts.json")
BENCH_SCENARIO = "bench-models"
BENCH_AGENT = "bench"
REQUEST_TIMEOUT_S = 900.0


# --- compare --------------------------------------------------------------------------------


def add_compare_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `compare TRACE... | RUNS_DIR [--csv|--json] [--html FILE] [--sort COLS]`."""
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
    form.add_argument("--csv", action="store_true", help="print CSV instead of the table")
    form.add_argument("--json", action="store_true", help="print JSON instead of the table")
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
        help="columns to sort by, comma-separated (default: scenario,wall_time_s)",
    )
    return parser


def cmd_compare(args: argparse.Namespace) -> int:
    """Print the runs compared (table, CSV or JSON); write the HTML report if asked."""
    from traces.compare import rows_csv, rows_json, rows_of, table_of
    from traces.reader import read_traces

    traces = read_traces(args.paths)
    rows = rows_of(traces, _sort_keys(args.sort))
    if args.csv:
        sys.stdout.write(rows_csv(rows))
    elif args.json:
        sys.stdout.write(rows_json(rows))
    else:
        _stdout_console().print(table_of(rows))
    if args.html:
        _write_html(traces, rows, args.html)
    return EXIT_OK


def _stdout_console() -> Console:
    """A console on stdout; wide when piped, so a table in a file or a test is not cropped."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def _sort_keys(text: str) -> list[str]:
    from traces.compare import COLUMNS

    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in COLUMNS]
    if unknown:
        choices = ", ".join(COLUMNS)
        raise ScenarioError(f"--sort {unknown[0]!r}: not a column; choose from {choices}")
    return keys


def _write_html(traces: Sequence[Any], rows: Sequence[Any], path: Path) -> None:
    from traces.report import write_report

    by_path = {str(t.path): t for t in traces}
    try:
        write_report([by_path[r.path] for r in rows], path)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot write the report ({exc.strerror})") from None
    Console(stderr=True).print(f"[dim]report: {path}[/]")


def print_compare(paths: Iterable[Path], console: Console | None = None) -> None:
    """Print the compare table of the given traces (what `run --framework all` ends with)."""
    from traces.compare import compare_table

    (console or Console()).print(compare_table(paths))


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
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the table")
    return parser


def cmd_bench_models(args: argparse.Namespace) -> int:
    """Bench each model on the prompt set; print the tokens/s table and the traces."""
    from traces.compare import model_speeds, speed_table
    from traces.reader import read_traces

    models = _models(args.models)
    prompt_set = load_prompts(args.prompts)
    options = dict(prompt_set.options)
    if args.num_predict is not None:
        if args.num_predict < 1:
            raise ScenarioError(f"--num-predict {args.num_predict}: must be at least 1")
        options["num_predict"] = args.num_predict
    console = Console(stderr=True, quiet=args.quiet)
    paths = [
        bench_model(m, prompt_set, options, args.backend, args.runs_dir, console) for m in models
    ]
    _stdout_console().print(speed_table(model_speeds(read_traces(paths))))
    for path in paths:
        console.print(f"[dim]trace: {path}[/]")
    return EXIT_OK


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
    model: str,
    prompt_set: PromptSet,
    options: dict[str, Any],
    backend_choice: str,
    runs_dir: Path,
    console: Console,
) -> Path:
    """Send every prompt to one model through a gateway; return the trace written.

    The trace is opened first and closed by the harness's `finishing`, so a missing model,
    a failed call or Ctrl-C still leaves `run_finished` (and the error) on disk.
    """
    from agents.harness import finishing, open_trace
    from traces import recorder as registry

    recorder = open_trace(runs_dir, BENCH_SCENARIO, _safe(model))
    registry.register(recorder)
    try:
        _emit_started(recorder, model, backend_choice, prompt_set, options)
        with finishing(recorder) as end:
            end.output = _bench_run(recorder, model, backend_choice, prompt_set, options, console)
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
    recorder: Any, model: str, backend: str, prompt_set: PromptSet, options: dict[str, Any]
) -> None:
    from agents.harness import package_versions
    from traces.schema import RUN_STARTED

    recorder.emit(
        RUN_STARTED,
        scenario=BENCH_SCENARIO,
        framework="bench",
        backend=backend,
        inputs={"prompt_set": prompt_set.name},
        prompts_path=str(prompt_set.path),
        prompts=[{"id": i, "prompt": p} for i, p in prompt_set.prompts],
        models={"bench": {"provider": "ollama", "model": model, "options": options}},
        agents=[BENCH_AGENT],
        versions=package_versions(),
        python=platform.python_version(),
    )


def _bench_run(
    recorder: Any,
    model: str,
    backend_choice: str,
    prompt_set: PromptSet,
    options: dict[str, Any],
    console: Console,
) -> str:
    """Pick the backend, then ask each prompt through a gateway; the answers, joined."""
    from gateway.backend import select_backend
    from gateway.hosts import ollama_host
    from gateway.server import Gateway
    from traces.schema import BACKEND_SELECTED

    backend = select_backend(backend_choice, ollama_host(None), [("ollama", model)])
    served = _served(backend, model)
    console.print(f"[bold]{model}[/]: {backend.note}")
    recorder.emit(
        BACKEND_SELECTED,
        backends=[{"kind": backend.kind, "models": backend.model_map, "note": backend.note}],
    )
    answers: list[str] = []
    with Gateway(backend.upstream) as gateway:
        url = f"{gateway.agent_url(recorder.run_id, BENCH_AGENT)}/api/chat"
        for turn, (prompt_id, prompt) in enumerate(prompt_set.prompts, start=1):
            console.print(f"  {prompt_id} …")
            reply = _chat(url, served, prompt, options)
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
