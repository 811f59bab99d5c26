"""`python -m scenarios bench-models --models A,B`: the tokens/s of each model on a prompt set.

It sends a fixed prompt set to each model through the gateway, writes one trace per model
and prints the tokens/s table. Every model is checked before any is benched, and one that
would be served by a stand-in is refused: the table would name the wrong model.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from ruamel.yaml import YAML, YAMLError

from agents.harness import finishing, open_trace, package_versions
from gateway.backend import Backend, select_backend
from gateway.hosts import ollama_host
from gateway.server import Gateway
from scenarios import SHIPPED_DIR
from scenarios.cli.commands import subcommand
from scenarios.cli.compare import print_fitted, stdout_console
from scenarios.cli.options import add_backend, add_quiet, add_runs_dir, add_wide
from scenarios.errors import EXIT_OK, LabError, ModelServerError, RunFailedError, ScenarioError
from scenarios.spec import canonical_tag
from traces import recorder as registry
from traces.compare import model_speeds, speed_table
from traces.reader import read_traces
from traces.recorder import TraceRecorder
from traces.schema import AGENT_MESSAGE, BACKEND_SELECTED, RUN_STARTED

BUNDLED_PROMPTS = SHIPPED_DIR / "bench_prompts.json"
BENCH_SCENARIO = "bench-models"
BENCH_AGENT = "bench"
BENCH_HINT = "--wide shows every column"
REQUEST_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class PromptSet:
    """The prompts `bench-models` sends, and the model options it sends them with."""

    name: str
    prompts: tuple[tuple[str, str], ...]
    options: dict[str, Any]
    path: Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `bench-models --models a,b [--prompts FILE] [--num-predict N] [--backend ...]`."""
    parser = subcommand(sub, "bench-models", cmd_bench_models)
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
    add_backend(parser)
    add_runs_dir(parser)
    add_wide(parser)
    add_quiet(parser)
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
    speeds = model_speeds(read_traces(paths))
    print_fitted(stdout_console(), partial(speed_table, speeds), BENCH_HINT, wide)
    for path in paths:
        console.print(f"[dim]trace: {path}[/]")


@dataclass(frozen=True)
class Serving:
    """How `bench-models` reaches one model: the backend chosen and the tag that serves it."""

    model: str
    choice: str
    backend: Backend
    served: str


def check_models(models: Sequence[str], choice: str) -> list[Serving]:
    """Each model's backend, all chosen before any bench; ModelServerError naming each missing."""
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


def _served(backend: Backend, model: str) -> str:
    """The tag that serves model; refuse a stand-in, which would bench the wrong model."""
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
    recorder: TraceRecorder, serving: Serving, prompt_set: PromptSet, options: dict[str, Any]
) -> None:
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
    recorder: TraceRecorder,
    serving: Serving,
    prompt_set: PromptSet,
    options: dict[str, Any],
    console: Console,
) -> str:
    """Ask each prompt through a gateway in front of the model's backend; the answers, joined."""
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


def _emit_turn(recorder: TraceRecorder, content: str, turn: int, prompt_id: str) -> None:
    recorder.emit(
        AGENT_MESSAGE,
        agent=BENCH_AGENT,
        role="assistant",
        content=content,
        turn=turn,
        task=prompt_id,
    )
