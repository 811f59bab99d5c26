"""`python -m scenarios replay show|rerun TRACE`: read a run back, or re-run it from its trace.

`show` prints the run as a transcript (`--json`: the events; `--call N`: one model call's
wire request and response). `rerun` re-executes the recorded scenario, inputs and framework
against the `replay` upstream: no model runs, nothing is contacted, a new trace is written.
A request the recording does not hold stops the run (exit 1) with one line naming the call
and the agent, after a short diff. `--verify` compares the final output and the agent turns
with the recording (exit 1 when they differ). `--from N` serves the first N model calls from
the recording and sends the rest to a live backend (`--backend`, `--model PROFILE=TAG`).

Exit codes: 0 ok, 1 the run failed, diverged or differs, 2 bad input (unreadable trace).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from agents.harness import RunOptions, run_scenario
from gateway.backend import Backend, select_backend, substitutions
from gateway.upstreams.replay import ForkUpstream, ReplayUpstream
from scenarios.cli.commands import subcommand
from scenarios.cli.options import add_backend, add_model, add_quiet, add_runs_dir, parse_pairs
from scenarios.cli.output import guarded, parse_args, say_note
from scenarios.errors import EXIT_OK, EXIT_RUN_FAILED, LabError, RunFailedError, ScenarioError
from scenarios.loader import LoadedScenario, load_file, load_text
from traces.console import LiveConsole
from traces.reader import Trace, TraceError, read_trace
from traces.replay import turns, verify
from traces.schema import BACKEND_SELECTED
from traces.transcript import Transcript, model_call, render_call


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `replay show` and `replay rerun` to the subcommands of `python -m scenarios`."""
    replay = subcommand(
        sub,
        "replay",
        description="Read a run back from its trace, or re-run it with no model (replay).",
        epilog="Exit codes: 0 ok, 1 run failed, diverged or differs, 2 bad input.",
    )
    commands = replay.add_subparsers(dest="replay_command", required=True)
    _add_show(commands)
    _add_rerun(commands)
    return replay


def _add_show(commands: argparse._SubParsersAction) -> None:
    show = commands.add_parser("show", help="print a run as a transcript")
    show.add_argument("trace", type=Path, help="a trace file (runs/*.jsonl)")
    show.add_argument("--json", action="store_true", help="print the events as JSON")
    show.add_argument("--call", type=int, metavar="N", help="show model call N (from 1) in full")
    show.set_defaults(handler=cmd_show)


def _add_rerun(commands: argparse._SubParsersAction) -> None:
    rerun = commands.add_parser("rerun", help="re-run a trace's scenario from its recording")
    rerun.add_argument("trace", type=Path, help="a trace file (runs/*.jsonl)")
    rerun.add_argument(
        "--verify", action="store_true", help="exit 1 unless final output and turns are the same"
    )
    rerun.add_argument(
        "--from",
        dest="fork_from",
        type=int,
        metavar="N",
        help="serve the first N model calls from the recording, then go live",
    )
    add_backend(rerun, default=None)
    add_model(rerun)
    rerun.add_argument(
        "--scenario", type=Path, help="re-run this (edited) scenario file, not the recorded text"
    )
    add_runs_dir(rerun)
    add_quiet(rerun)
    rerun.set_defaults(handler=cmd_rerun)


def main(argv: Sequence[str] | None = None) -> int:
    """`replay ...` on its own (what `python -m scenarios replay ...` runs); the exit code."""
    parser = argparse.ArgumentParser(prog="python -m scenarios")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parse_args(parser, ["replay", *(argv or [])])
    if isinstance(args, int):
        return args
    return guarded(lambda: int(args.handler(args)))


# -- show ----------------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    """Print a trace as a transcript, its events as JSON, or one model call in full."""
    trace = read_trace(args.trace)
    if args.call is not None:
        try:
            event = model_call(trace, args.call)
        except IndexError as exc:
            raise ScenarioError(str(exc)) from None
        if args.json:
            print(json.dumps(event, indent=2, ensure_ascii=False))
        else:
            render_call(trace, args.call, Console())
        return EXIT_OK
    if args.json:
        print(json.dumps(trace_document(trace), indent=2, ensure_ascii=False))
    else:
        Transcript(trace, Console()).render()
    return EXIT_OK


def trace_document(trace: Trace) -> dict[str, Any]:
    """A trace as one JSON document: what the reader found, then the events."""
    return {
        "path": str(trace.path),
        "schema": trace.schema,
        "status": trace.status,
        "finished": trace.finished,
        "cut": trace.cut,
        "unknown_kinds": list(trace.unknown_kinds),
        "events": list(trace.events),
    }


# -- rerun ---------------------------------------------------------------------------------


@dataclass
class Rerun:
    """Everything a re-run needs, taken from the trace and the command line."""

    trace: Trace
    loaded: LoadedScenario
    options: RunOptions
    replay: ReplayUpstream
    upstream: ReplayUpstream | list[ForkUpstream]  # a fork has one upstream per model host
    agents: list[str]


def cmd_rerun(args: argparse.Namespace) -> int:
    """Re-run a trace's scenario against its recording (or fork it); verify when asked."""
    plan = plan_rerun(read_trace(args.trace), args)
    console = Console(stderr=True, quiet=args.quiet)
    result = _execute(plan, console)
    print(result.final_output)
    console.print(f"[dim]trace: {result.trace_path}[/]")
    _check_complete(plan, args)
    _summary(plan, console)
    if args.verify:
        return verify_rerun(plan.trace, result.trace_path, console)
    return EXIT_OK


def plan_rerun(trace: Trace, args: argparse.Namespace) -> Rerun:
    """The scenario, options and upstream of a re-run (TraceError when the trace lacks them)."""
    started = trace.run_started
    if started is None:
        raise TraceError(f"{trace.path}: no run_started (a gateway recording): cannot re-run it")
    if args.fork_from is not None and args.fork_from < 0:
        raise ScenarioError(f"--from {args.fork_from}: give a number of calls, 0 or more")
    if args.fork_from is None and (args.backend or args.model):
        raise ScenarioError("--backend and --model choose the live side: use them with --from N")
    loaded = _scenario(trace, started, args.scenario)
    overrides = {**(started.get("model_overrides") or {}), **parse_pairs(args.model, "--model")}
    replay = ReplayUpstream.from_trace(trace)
    recorded_map = recorded_model_map(trace)
    pairs = tag_pairs(loaded, started, overrides, recorded_map)
    upstream, factory = _backend(trace, replay, recorded_map, pairs, args)
    options = RunOptions(
        framework=str(started.get("framework") or "langgraph"),
        inputs=dict(started.get("inputs") or {}),
        backend="replay" if args.fork_from is None else (args.backend or "auto"),
        model_overrides=overrides,
        runs_dir=args.runs_dir,
        backend_factory=factory,
        replay_of=_replay_of(trace, args.fork_from),
    )
    agents = [a.name for a in loaded.scenario.agents]
    return Rerun(trace, loaded, options, replay, upstream, agents)


def _scenario(trace: Trace, started: dict[str, Any], path: Path | None) -> LoadedScenario:
    if path is not None:
        return load_file(path)
    text = started.get("scenario_text")
    if not isinstance(text, str):
        raise TraceError(f"{trace.path}: the trace has no scenario text: give --scenario FILE")
    source = Path(str(started.get("scenario_path") or "scenario.yaml"))
    return LoadedScenario(load_text(text, source=f"{source.name} (recorded)"), source, text)


def recorded_model_map(trace: Trace) -> dict[str, str]:
    """Requested tag -> the tag that served it in the recorded run (all hosts merged)."""
    merged: dict[str, str] = {}
    for event in trace.of_kind(BACKEND_SELECTED):
        for backend in event.get("backends") or []:
            merged.update(backend.get("models") or {})
    return merged


def tag_pairs(
    loaded: Any, started: dict[str, Any], overrides: dict[str, str], recorded_map: dict[str, str]
) -> dict[str, str]:
    """Each profile's tag in the re-run -> the tag that served it in the recording."""
    recorded = started.get("models") or {}
    try:
        scenario = loaded.scenario.with_models(overrides)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    pairs = {}
    for name, profile in scenario.models.items():
        old = (recorded.get(name) or {}).get("model") or profile.model
        pairs[profile.model] = recorded_map.get(old, old)
    return pairs


def _backend(
    trace: Any, replay: Any, recorded_map: dict[str, str], pairs: dict[str, str], args: Any
) -> tuple[Any, Any]:
    """The upstream of the re-run and the backend factory the harness calls per host."""
    if args.fork_from is None:
        note = f"backend: replay of {trace.path.name} ({len(replay.matcher.calls)} model calls)"

        def replayed(_choice: str, _host: str, wanted: list[tuple[str, str]]) -> Backend:
            model_map = {tag: recorded_map.get(tag, tag) for _, tag in wanted}
            stand_ins = substitutions(model_map)
            said = ", ".join(f"{v} in place of {k}" for k, v in sorted(stand_ins.items()))
            extra = f"; recorded with {said}" if said else ""
            return Backend("replay", replay, model_map, note + extra)

        return replay, replayed
    forks: list[ForkUpstream] = []

    def forked(choice: str, host: str, wanted: list[tuple[str, str]]) -> Backend:
        live = select_backend(choice, host, wanted)
        for tag, served in pairs.items():  # the live tag still matches the recorded calls
            replay.matcher.aliases[live.model_map.get(tag, tag)] = served
        fork = ForkUpstream(replay, live.upstream, args.fork_from)
        forks.append(fork)
        note = f"{live.note}; the first {args.fork_from} model calls replayed from the trace"
        return Backend(f"replay+{live.kind}", fork, live.model_map, note)

    return forks, forked


def _replay_of(trace: Any, fork_from: int | None) -> dict[str, Any]:
    started = trace.run_started or {}
    return {
        "trace": str(trace.path),
        "run_id": trace.run_id,
        "scenario_sha256": started.get("scenario_sha256"),
        "from": fork_from,
    }


def _execute(plan: Rerun, console: Console) -> Any:
    """Run the scenario; a divergence becomes its one-line message after the diff."""
    live = LiveConsole(console, plan.agents)
    _note_scenario_change(plan, console)
    try:
        return run_scenario(
            plan.loaded, plan.options, say=console.print, announce=say_note, listeners=(live,)
        )
    except LabError as exc:
        diverged = _diverged(plan)
        if diverged is None:
            raise
        diverged.trace_path = exc.trace_path
        raise diverged from None
    finally:
        live.close()


def _diverged(plan: Rerun) -> RunFailedError | None:
    """The run's divergence as its one-line error, its diff printed first; None if none."""
    divergence = plan.replay.divergence
    if divergence is None:
        return None
    print(divergence.diff, file=sys.stderr)
    return RunFailedError(divergence.message)


def _note_scenario_change(plan: Rerun, console: Console) -> None:
    """Say so when the scenario file changed since the recording and the old text is replayed."""
    started = plan.trace.run_started or {}
    path = Path(str(started.get("scenario_path") or ""))
    if plan.loaded.text != started.get("scenario_text") or not path.is_file():
        return
    try:
        changed = path.read_text(encoding="utf-8") != plan.loaded.text
    except (OSError, UnicodeDecodeError):
        return
    if changed:
        console.print(
            f"[yellow]note[/] {path} changed since the recording; replaying the recorded text "
            f"(--scenario {path} replays the edited file)"
        )


def _check_complete(plan: Rerun, args: argparse.Namespace) -> None:
    """A divergence the client swallowed, or recorded calls never asked for, fail the run."""
    if (diverged := _diverged(plan)) is not None:
        raise diverged
    if args.fork_from is not None:
        return
    left = plan.replay.matcher.unserved()
    if left:
        first = left[0]
        raise RunFailedError(
            f"replay diverged: the run ended without asking {len(left)} recorded model call(s) "
            f"(first: call {first.number}, agent {first.agent or '?'})"
        )


def _summary(plan: Rerun, console: Console) -> None:
    if isinstance(plan.upstream, list):
        live = sum(f.live_calls for f in plan.upstream)
        console.print(
            f"[dim]replayed {plan.replay.served} recorded model calls, {live} went live[/]"
        )
    else:
        console.print(f"[dim]replayed {plan.replay.served} recorded model calls; no model ran[/]")


def verify_rerun(recorded: Trace, new_path: Path, console: Console) -> int:
    """Compare the re-run with the recording: 0 when final output and turns are the same."""
    replayed = read_trace(new_path)
    problems = verify(recorded, replayed)
    if problems:
        for problem in problems:
            print(f"error: verify: {problem}", file=sys.stderr)
        return EXIT_RUN_FAILED
    console.print(
        f"verify: same final output and the same {len(turns(replayed.events))} agent turns"
    )
    return EXIT_OK
