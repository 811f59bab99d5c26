"""Replay versus live: research_team on the embedded model, then replayed from its trace.

In one process, on one machine: the live run (`python -m scenarios.research_team --backend
embedded`) is timed once, then `replay rerun` of the trace it wrote is timed `--replays`
times (median). The ratio is live wall time over replay wall time (goal: at least 20x).
The model load is part of the live run when the engine is cold; it is printed apart too.

Then the per-event cost of writing a trace: `TraceRecorder.emit` of `--events` events, for
small events (a route) and for model-call-sized ones (the live run's first `llm_call`),
each line flushed as a run writes it (goal: under 0.1 ms per event).

    OLLAMA_HOST=127.0.0.1:9 .venv/bin/python bench/replay.py [--replays 5] [--events 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ENVELOPE = ("schema", "ts", "run_id", "seq", "kind")


def timed(action: Any) -> tuple[float, Any]:
    """Seconds an action took, and its result (its stdout swallowed)."""
    with contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        result = action()
        return time.perf_counter() - started, result


def live_run(runs_dir: Path) -> tuple[float, Path]:
    """Run research_team on the embedded model; its wall time and trace."""
    from scenarios.research_team import main as research_team

    seconds, code = timed(
        lambda: research_team(["--backend", "embedded", "--runs-dir", str(runs_dir), "-q"])
    )
    if code != 0:
        raise SystemExit(f"the live run failed (exit {code})")
    (trace,) = runs_dir.glob("*.jsonl")
    return seconds, trace


def replay_run(trace: Path, runs_dir: Path) -> float:
    """`replay rerun --verify` of a trace; its wall time."""
    from scenarios.cli.replay import main as replay

    args = ["rerun", str(trace), "--verify", "--runs-dir", str(runs_dir), "-q"]
    seconds, code = timed(lambda: replay(args))
    if code != 0:
        raise SystemExit(f"the replay failed (exit {code})")
    return seconds


def emit_cost(kind: str, fields: dict[str, Any], count: int) -> float:
    """Milliseconds per `TraceRecorder.emit` of one event kind, over `count` events."""
    from traces.recorder import TraceRecorder

    with tempfile.TemporaryDirectory() as folder:
        recorder = TraceRecorder(Path(folder) / "bench.jsonl")
        for _ in range(min(200, count)):  # warm-up
            recorder.emit(kind, **fields)
        started = time.perf_counter()
        for _ in range(count):
            recorder.emit(kind, **fields)
        elapsed = time.perf_counter() - started
        recorder.close()
    return elapsed / count * 1000


def mix_cost(events: list[dict[str, Any]], count: int) -> float:
    """Milliseconds per event writing a real run's events again and again, in their order."""
    from traces.recorder import TraceRecorder

    mix = [(e["kind"], {k: v for k, v in e.items() if k not in ENVELOPE}) for e in events]
    rounds = max(1, count // len(mix))
    with tempfile.TemporaryDirectory() as folder:
        recorder = TraceRecorder(Path(folder) / "mix.jsonl")
        started = time.perf_counter()
        for _ in range(rounds):
            for kind, fields in mix:
                recorder.emit(kind, **fields)
        elapsed = time.perf_counter() - started
        recorder.close()
    return elapsed / (rounds * len(mix)) * 1000


def report_replay(live_s: float, events: list[dict[str, Any]], replays: list[float]) -> None:
    """Print the live and replay times and their ratio."""
    calls = [e for e in events if e["kind"] == "llm_call"]
    load_s = sum(c["metrics"]["load_duration"] for c in calls) / 1e9
    replay_s = statistics.median(replays)
    print(
        f"live run (embedded, {len(calls)} model calls): {live_s:.2f} s (model load {load_s:.2f} s)"
    )
    print(
        f"replay rerun --verify, median of {len(replays)}: {replay_s * 1000:.0f} ms "
        f"(min {min(replays) * 1000:.0f}, max {max(replays) * 1000:.0f})"
    )
    print(
        f"ratio live / replay: {live_s / replay_s:.1f}x "
        f"(without the model load: {(live_s - load_s) / replay_s:.1f}x; goal >= 20x)"
    )


def report_emit(events: list[dict[str, Any]], count: int) -> None:
    """Print the per-event cost of `TraceRecorder.emit` for small, large and real events."""
    call = next(e for e in events if e["kind"] == "llm_call")
    call_fields = {k: v for k, v in call.items() if k not in ENVELOPE}
    route = {"from": "planner", "to": "writer", "reason": "task 'plan' done"}
    small = emit_cost("route", route, count)
    large = emit_cost("llm_call", call_fields, count // 4)
    mixed = mix_cost(events, count)
    print(f"TraceRecorder.emit, small event (route): {small:.4f} ms/event (goal < 0.1)")
    print(f"TraceRecorder.emit, llm_call of {len(json.dumps(call))} bytes: {large:.4f} ms/event")
    print(f"TraceRecorder.emit, the live run's {len(events)} events in order: {mixed:.4f} ms/event")


def main() -> int:
    """Time the live run, the replays and the recorder; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replays", type=int, default=5)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        live_s, trace = live_run(root / "live")
        events = [json.loads(line) for line in trace.read_text().splitlines()]
        replays = [replay_run(trace, root / f"replay{i}") for i in range(args.replays)]
    report_replay(live_s, events, replays)
    report_emit(events, args.events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
