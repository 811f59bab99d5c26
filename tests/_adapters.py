"""Shared by the adapter and conformance tests: scenarios, a scripted run, trace shapes.

`run_on(framework, yaml_text, replies, tmp_path)` runs a scenario through the real harness
and the real gateway (`--backend ollama`) in front of `FakeOllama`, which answers the model
calls in order from `replies`; it returns the outcome with the trace's events.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.harness import RunOptions, run_scenario
from scenarios.errors import LabError
from scenarios.loader import load_file
from tests.fake_ollama import FakeOllama, _final_chunk

MODELS = """
models:
  default:
    provider: ollama
    model: smollm2:135m
    options: {num_ctx: 2048, temperature: 0, seed: 7, num_predict: 64, keep_alive: 5m}
"""

SEQUENTIAL = (
    MODELS
    + """
name: seq
agents:
  - {name: planner, role: Planner, goal: Plan the article., backstory: You plan.}
  - {name: writer, role: Writer, goal: Write the article., backstory: You write.}
  - {name: editor, role: Editor, goal: Edit the article., backstory: You edit.}
tasks:
  - {name: plan, agent: planner, description: Outline an article., expected_output: An outline.}
  - {name: write, agent: writer, context: [plan], description: Write it., expected_output: Text.}
  - {name: edit, agent: editor, context: [write], description: Edit it., expected_output: Text.}
team: {topology: sequential}
"""
)

ROUND_ROBIN = (
    MODELS
    + """
name: chat
agents:
  - {name: alice, role: Optimist, goal: Argue for the idea., backstory: You like it.}
  - {name: bob, role: Skeptic, goal: Argue against the idea., backstory: You doubt it.}
tasks:
  - {name: debate, agent: alice, description: Debate local models.}
team: {topology: round_robin, order: [alice, bob], termination: DONE, max_rounds: 3}
"""
)

SUPERVISOR = (
    MODELS
    + """
name: managed
agents:
  - {name: boss, role: Manager, goal: Get the article written., backstory: You manage.}
  - {name: writer, role: Writer, goal: Write drafts., backstory: You write.}
  - {name: editor, role: Editor, goal: Edit drafts., backstory: You edit.}
tasks:
  - {name: article, agent: writer, description: Write and edit a short article.,
     expected_output: The edited article.}
team: {topology: supervisor, supervisor: boss, max_steps: 5}
"""
)

PARALLEL = (
    MODELS
    + """
name: fan
agents:
  - {name: pro, role: Advocate, goal: List pros., backstory: You see upsides.}
  - {name: con, role: Critic, goal: List cons., backstory: You see downsides.}
  - {name: judge, role: Judge, goal: Weigh both., backstory: You decide.}
tasks:
  - {name: pros, agent: pro, description: List the pros of local models.}
  - {name: cons, agent: con, description: List the cons of local models.}
  - {name: verdict, agent: judge, context: [pros, cons], description: Weigh pros and cons.}
team: {topology: parallel}
"""
)

REFLECTION = (
    MODELS
    + """
name: loop
agents:
  - {name: author, role: Author, goal: Write a slogan., backstory: You write.}
  - {name: reviewer, role: Reviewer, goal: Review slogans., backstory: You review.}
tasks:
  - {name: slogan, agent: author, description: Write a slogan for local models.}
team: {topology: reflection, producer: author, critic: reviewer, max_revisions: 2}
"""
)

TOOLS = (
    MODELS
    + """
name: tooled
agents:
  - {name: counter, role: Counter, goal: Count right., backstory: You use the calculator.,
     tools: [calculator]}
tasks:
  - {name: count, agent: counter, description: What is 6 times 7?, expected_output: A number.}
team: {topology: sequential}
"""
)

SCHEMA = (
    MODELS
    + """
name: shaped
agents:
  - {name: counter, role: Counter, goal: Count right., backstory: You count.}
tasks:
  - name: count
    agent: counter
    description: What is 6 times 7?
    output_schema:
      title: Answer
      type: object
      properties: {answer: {type: integer}}
      required: [answer]
team: {topology: sequential}
"""
)

SCENARIOS = {
    "sequential": SEQUENTIAL,
    "round_robin": ROUND_ROBIN,
    "supervisor": SUPERVISOR,
    "parallel": PARALLEL,
    "reflection": REFLECTION,
}


def tool_call(name: str, **arguments: Any) -> dict[str, Any]:
    """A scripted reply that is a native (Ollama `tool_calls`) call of tool `name`."""
    return {"tool_calls": [{"function": {"name": name, "arguments": arguments}}]}


def cut(text: str) -> dict[str, Any]:
    """A scripted reply cut at num_predict: its `done_reason` is "length"."""
    return {"content": text, "done_reason": "length"}


class ToolFakeOllama(FakeOllama):
    """FakeOllama whose script may also hold dict replies: `tool_call(...)` or `cut(...)`."""

    async def _chat(self, request: Any) -> Any:
        """A dict reply is answered as that assistant message (with its `done_reason`)."""
        if not (self.replies and isinstance(self.replies[0], dict)):
            return await super()._chat(request)
        from starlette.responses import JSONResponse, Response

        body = await request.json()
        self.requests.append(body)
        reply = dict(self.replies.pop(0))
        done_reason = reply.pop("done_reason", "stop")
        message = {"role": "assistant", "content": "", **reply}
        final = _final_chunk(body["model"], str(message["content"]))
        answer = {**final, "message": message, "done_reason": done_reason}
        if body.get("stream", True) is False:
            return JSONResponse(answer)
        return Response(json.dumps(answer) + "\n", media_type="application/x-ndjson")


@dataclass
class Outcome:
    """A run's result: exit code, final output, error, its trace and the model requests."""

    code: int
    final: str
    error: str
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def kinds(self, *kinds: str) -> list[dict[str, Any]]:
        """The trace events of the given kinds, in order."""
        return [e for e in self.events if e["kind"] in kinds]

    def turns(self) -> list[str]:
        """The agents of the `agent_message` events, in order."""
        return [e["agent"] for e in self.kinds("agent_message")]

    def routes(self) -> list[tuple[str, str]]:
        """`(from, to)` of the `route` events, in order."""
        return [(e["from"], e["to"]) for e in self.kinds("route")]


@contextmanager
def ollama_host(url: str) -> Iterator[None]:
    """Point OLLAMA_HOST at `url` for the block."""
    before = os.environ.get("OLLAMA_HOST")
    os.environ["OLLAMA_HOST"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("OLLAMA_HOST", None)
        else:
            os.environ["OLLAMA_HOST"] = before


def run_on(
    framework: str, text: str, replies: list[Any], tmp_path: Path, fail_after: int | None = None
) -> Outcome:
    """Run scenario `text` on `framework` against FakeOllama through the gateway.

    A reply may be `tool_call(...)`, a native tool call. With `fail_after`, FakeOllama
    answers that many calls, then fails every later one.
    """
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    runs = tmp_path / "runs"
    options = RunOptions(framework=framework, backend="ollama", runs_dir=runs)
    fake = ToolFakeOllama(replies, fail_after=fail_after)
    with fake as server, ollama_host(server.url):
        try:
            result = run_scenario(load_file(path), options, say=lambda _line: None)
            code, final, error = 0, result.final_output, ""
        except LabError as exc:
            code, final, error = exc.exit_code, "", str(exc)
        requests = list(server.requests)
    return Outcome(code, final, error, trace_events(runs), requests)


def trace_events(runs: Path) -> list[dict[str, Any]]:
    """The events of the one trace under `runs` (none if no trace was written)."""
    traces = sorted(runs.glob("*.jsonl")) if runs.exists() else []
    if not traces:
        return []
    (trace,) = traces
    return [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines() if line]


def replay_on(framework: str, text: str, recorded: Path, tmp_path: Path) -> tuple[Outcome, Any]:
    """Re-run scenario `text` on `framework` with every model call answered from `recorded`.

    The harness is handed the gateway's replay upstream (`RunOptions.backend_factory`);
    returns the outcome and the upstream (its `served` and `divergence`).
    """
    from gateway.backend import Backend
    from gateway.upstreams.replay import ReplayUpstream
    from traces.reader import read_trace

    upstream = ReplayUpstream.from_trace(read_trace(recorded))
    backend = Backend("replay", upstream, {t: t for t in upstream.tags}, "backend: replay")
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    runs = tmp_path / "replayed"
    options = RunOptions(
        framework=framework,
        backend="replay",
        runs_dir=runs,
        backend_factory=lambda _choice, _host, _wanted: backend,
    )
    try:
        result = run_scenario(load_file(path), options, say=lambda _line: None)
        outcome = Outcome(0, result.final_output, "", trace_events(runs))
    except LabError as exc:
        outcome = Outcome(exc.exit_code, "", str(exc), trace_events(runs))
    return outcome, upstream
