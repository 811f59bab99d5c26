"""Orchestration overhead of LangGraph, CrewAI and AutoGen on a zero-latency model.

research_team (3 agents, 3 model calls) runs on each framework, side by side in one process,
through the real harness and gateway to a scripted Ollama (`tests/fake_ollama.py`) that
answers at once from its own process. For each run: the runner's wall time (from the
trace's `backend_selected` to `run_finished`, so gateway start-up is excluded), the model
calls, and the time the gateway spent waiting on the model (`latency_ms`). The floor is a
"bare client": the same three calls made with the `ollama` client straight through a
recording gateway; a framework's time per call above it is its orchestration overhead.

Then process start-up: a fresh `python -m scenarios.research_team --framework X` per
framework, timed from spawn to its first model call and to its exit; and the import time
of each framework alone (what the LangGraph path would pay without lazy imports).

    .venv/bin/python bench/framework_overhead.py [--runs 5] [--starts 2]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRAMEWORKS = ("langgraph", "crewai", "autogen")
SCENARIO = ROOT / "scenarios" / "research_team.yaml"
IMPORTS = {
    "langgraph": "import langgraph.graph, langchain_ollama",
    "crewai": "import crewai",
    "autogen": "import autogen_agentchat.teams, autogen_ext.models.ollama",
}


def serve_fake(port_out: Any, stop: Any) -> None:
    """Child process: a FakeOllama answering 'ok' to everything until `stop` is set."""
    from tests.fake_ollama import FakeOllama

    with FakeOllama(["ok"] * 100_000) as server:
        port_out.put(server.url)
        stop.wait()


class TimedFake:
    """A FakeOllama in this process that notes when its first chat request arrived."""

    def __init__(self) -> None:
        from tests.fake_ollama import FakeOllama

        outer = self
        self.first: float | None = None

        class _Fake(FakeOllama):
            async def _chat(self, request: Any) -> Any:
                if outer.first is None:
                    outer.first = time.perf_counter()
                return await super()._chat(request)

        self.server = _Fake(["ok"] * 1000)


def _ts(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()


def one_run(framework: str, runs_dir: Path) -> dict[str, float]:
    """Run research_team once on `framework`; its runner time, calls and model wait."""
    from agents.harness import RunOptions, run_scenario
    from scenarios.loader import load_file

    options = RunOptions(framework=framework, backend="ollama", runs_dir=runs_dir)
    result = run_scenario(load_file(SCENARIO), options, say=lambda _line: None)
    events = [json.loads(line) for line in result.trace_path.read_text().splitlines()]
    selected = next(e for e in events if e["kind"] == "backend_selected")
    calls = [e for e in events if e["kind"] == "llm_call"]
    runner_s = _ts(events[-1]) - _ts(selected)
    model_s = sum(c["latency_ms"] for c in calls) / 1000
    return {"runner_s": runner_s, "calls": len(calls), "model_s": model_s}


def bare_run(url: str, runs_dir: Path) -> dict[str, float]:
    """The floor: three `ollama` client calls through a recording gateway, no framework."""
    import ollama

    from gateway.server import Gateway
    from gateway.upstreams.ollama import OllamaUpstream
    from traces import recorder as trace_recorder

    options = {"num_ctx": 2048, "temperature": 0.2, "seed": 42, "num_predict": 256}
    messages = [{"role": "system", "content": "You plan."}, {"role": "user", "content": "Plan."}]
    with Gateway(OllamaUpstream(url)) as gateway:
        run = trace_recorder.TraceRecorder(runs_dir / "bare.jsonl", "bare")
        trace_recorder.register(run)
        began = time.perf_counter()
        for agent in ("planner", "writer", "editor"):
            client = ollama.Client(host=gateway.agent_url("bare", agent))
            client.chat(model="smollm2:135m", messages=messages, options=options, stream=False)
        runner_s = time.perf_counter() - began
        trace_recorder.unregister("bare")
        run.close()
    return {"runner_s": runner_s, "calls": 3, "model_s": 0.0}


def overhead(runs: int, url: str) -> dict[str, dict[str, float]]:
    """Median figures per framework over `runs` runs each (after one warm-up run each)."""
    os.environ["OLLAMA_HOST"] = url
    names = ("bare client", *FRAMEWORKS)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs + 1):  # the first round warms up: imports, first connections
            for name in names:  # interleaved, so load changes hit all of them
                row = (
                    bare_run(url, Path(tmp)) if name == "bare client" else one_run(name, Path(tmp))
                )
                results[name].append(row)
    return {name: summarize(rows[1:]) for name, rows in results.items()}


def summarize(rows: list[dict[str, float]]) -> dict[str, float]:
    """Medians: runner time per run and per call, model wait per call, the rest per call."""
    calls = rows[0]["calls"]
    runner = statistics.median(r["runner_s"] for r in rows)
    model = statistics.median(r["model_s"] for r in rows)
    return {
        "calls": calls,
        "runner_ms": runner * 1000,
        "per_call_ms": runner * 1000 / calls,
        "model_per_call_ms": model * 1000 / calls,
    }


def start_up(framework: str, starts: int) -> dict[str, float]:
    """Median seconds from spawning the CLI to its first model call, and to its exit."""
    firsts, exits = [], []
    for _ in range(starts):
        fake = TimedFake()
        with fake.server as server, tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "OLLAMA_HOST": server.url}
            args = [
                sys.executable,
                "-m",
                "scenarios.research_team",
                "--framework",
                framework,
                "--backend",
                "ollama",
                "-q",
                "--runs-dir",
                tmp,
            ]
            began = time.perf_counter()
            subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True)
            exits.append(time.perf_counter() - began)
            firsts.append((fake.first or float("nan")) - began)
    return {"first_call_s": statistics.median(firsts), "exit_s": statistics.median(exits)}


def import_time(framework: str) -> float:
    """Seconds a fresh interpreter takes to import the framework alone (median of 2)."""
    code = (
        f"import time; t = time.perf_counter(); {IMPORTS[framework]}; "
        "print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
        )
        times.append(float(done.stdout.strip()))
    return statistics.median(times)


def main() -> None:
    """Measure and print the three tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per framework")
    parser.add_argument("--starts", type=int, default=2, help="process starts per framework")
    args = parser.parse_args()
    for name in ("CREWAI_DISABLE_TELEMETRY", "CREWAI_TRACING_ENABLED"):
        os.environ.setdefault(name, "true" if "DISABLE" in name else "false")

    port_out, stop = multiprocessing.Queue(), multiprocessing.Event()
    child = multiprocessing.Process(target=serve_fake, args=(port_out, stop), daemon=True)
    child.start()
    try:
        figures = overhead(args.runs, port_out.get(timeout=30))
    finally:
        stop.set()
        child.join(timeout=10)
    print(f"research_team on a zero-latency model, median of {args.runs} runs each")
    floor = figures["bare client"]["per_call_ms"]
    print(
        f"{'framework':<12} {'calls':>5} {'runner ms':>10} {'ms/call':>8} "
        f"{'model wait ms/call':>19} {'above bare client ms/call':>26}"
    )
    for name, f in figures.items():
        model = f"{f['model_per_call_ms']:.1f}" if f["model_per_call_ms"] else "-"
        print(
            f"{name:<12} {f['calls']:>5.0f} {f['runner_ms']:>10.1f} {f['per_call_ms']:>8.1f} "
            f"{model:>19} {f['per_call_ms'] - floor:>26.1f}"
        )
    print(f"\nprocess start-up (python -m scenarios.research_team), median of {args.starts}")
    print(f"{'framework':<10} {'to 1st call s':>14} {'to exit s':>10} {'import alone s':>15}")
    for name in FRAMEWORKS:
        s = start_up(name, args.starts)
        print(
            f"{name:<10} {s['first_call_s']:>14.2f} {s['exit_s']:>10.2f} {import_time(name):>15.2f}"
        )


if __name__ == "__main__":
    main()
