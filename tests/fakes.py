"""Scripted fake chat models for tests: each agent replies from a script, nothing is contacted.

`Team(planner=["plan"], writer=["draft", "final"])` gives one scripted model per agent and a
shared `log` of which agent was called, in call order. A reply may be a string or a
function of the messages the model was sent. Calling a model more often than scripted
fails the test, so an extra turn cannot go unnoticed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import Field

Reply = str | Callable[[list[BaseMessage]], str]
ENVELOPE = ("schema", "ts", "run_id", "seq")


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a script and records every prompt it was sent."""

    agent: str
    replies: list[Any]
    log: Any = None  # a shared list of agent names, appended to on every call
    received: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Return the next scripted reply (a function reply is called with the messages)."""
        index = len(self.received)
        self.received.append(list(messages))
        if self.log is not None:
            self.log.append(self.agent)
        if index >= len(self.replies):
            scripted = len(self.replies)
            raise AssertionError(f"{self.agent} called {index + 1} times, scripted {scripted}")
        reply = self.replies[index]
        text = reply(list(messages)) if callable(reply) else reply
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])

    def prompt(self, call: int = -1) -> str:
        """The text of every message of one call, joined (for asserting what it was told)."""
        return "\n".join(str(m.content) for m in self.received[call])


class StructuredChatModel(ScriptedChatModel):
    """A scripted model with structured output: it records the schema and parses its reply."""

    schemas: list[dict[str, Any]] = Field(default_factory=list)

    def with_structured_output(
        self, schema: Any, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable:
        """Like ChatOllama's json_schema method: a dict with raw, parsed and parsing_error."""
        self.schemas.append(schema)

        def parse(messages: Any) -> dict[str, Any]:
            raw = self.invoke(messages)
            try:
                parsed = json.loads(raw.text)
            except json.JSONDecodeError as exc:
                return {"raw": raw, "parsed": None, "parsing_error": exc}
            return {"raw": raw, "parsed": parsed, "parsing_error": None}

        return RunnableLambda(parse)


class Team:
    """One scripted model per agent, sharing one call log."""

    def __init__(self, structured: Sequence[str] = (), **scripts: list[Reply]) -> None:
        self.log: list[str] = []
        self.models: dict[str, ScriptedChatModel] = {
            name: (StructuredChatModel if name in structured else ScriptedChatModel)(
                agent=name, replies=list(replies), log=self.log
            )
            for name, replies in scripts.items()
        }

    def model_for(self, agent: str) -> BaseChatModel:
        """The agent's scripted model (KeyError for an agent with no script)."""
        return self.models[agent]


def choice(next_: str, reason: str = "", instruction: str = "") -> str:
    """A supervisor's JSON answer."""
    return json.dumps({"next": next_, "reason": reason, "instruction": instruction})


def barrier_reply(barrier: threading.Barrier, text: str) -> Reply:
    """A reply that waits until every party of `barrier` is in a call at the same time."""

    def reply(_messages: list[BaseMessage]) -> str:
        barrier.wait()
        return text

    return reply


def run_events(runs_dir: Path) -> list[dict[str, Any]]:
    """The events, envelope included, of the one trace a run wrote into `runs_dir`."""
    (trace,) = runs_dir.glob("*.jsonl")
    return [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]


def read_events(path: Path) -> list[dict[str, Any]]:
    """The trace's events without their envelope (schema, ts, run_id, seq)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        {k: v for k, v in json.loads(line).items() if k not in ENVELOPE} for line in lines if line
    ]


@dataclass
class Outcome:
    """What a scripted run ended with: its final output, trace events and live signals."""

    final: str
    events: list[dict[str, Any]]
    signals: list[dict[str, Any]] = field(default_factory=list)

    def kinds(self, *kinds: str) -> list[dict[str, Any]]:
        """The events of the given kinds, in order."""
        return [e for e in self.events if e["kind"] in kinds]


def run_scenario(
    text: str,
    team: Team,
    tmp_path: Path,
    inputs: dict[str, str] | None = None,
    model_for: Callable[[str], BaseChatModel] | None = None,
) -> Outcome:
    """Load the YAML, compile it with the team's scripted models, run it with a real recorder."""
    from graphs import compile_scenario
    from graphs.run import stream_run
    from scenarios.loader import load_text
    from traces.recorder import TraceRecorder

    scenario = load_text(text, source="t.yaml")
    graph = compile_scenario(scenario, inputs or {}, model_for or team.model_for)
    recorder = TraceRecorder(tmp_path / "t.jsonl")
    signals: list[dict[str, Any]] = []
    recorder.subscribe(lambda e: signals.append(e) if e["kind"] == "agent_started" else None)
    try:
        final = stream_run(graph, scenario, inputs or {}, recorder)
    finally:
        recorder.close()
    return Outcome(final, read_events(tmp_path / "t.jsonl"), signals)
