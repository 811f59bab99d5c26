"""The runner interface every framework implements, and what a runner is handed.

A runner gets the scenario, the input values, one `AgentModel` per agent (already pointed at
the run's gateway, with the run and agent in the URL so the gateway can attribute each call)
and the trace recorder. It emits its framework-level events (`agent_message`, `route`,
`tool_call`) and returns the final output; the harness writes `run_started`/`run_finished`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from scenarios.spec import Scenario
from traces.recorder import TraceRecorder


@dataclass(frozen=True)
class AgentModel:
    """The model one agent talks to, as its framework's client must be configured."""

    agent: str
    provider: str  # "ollama" (native /api/chat) or "openai" (/v1)
    model: str  # the tag the server really serves
    base_url: str  # the gateway URL with this run's and agent's prefix; /v1 for openai
    options: dict[str, Any] = field(default_factory=dict)  # Ollama options, num_ctx included
    keep_alive: str | int | None = None
    api_key: str = "not-needed"

    def openai_params(self) -> dict[str, Any]:
        """The options an OpenAI-compatible client can send, under their OpenAI names.

        Every framework's OpenAI client is given these, so a scenario samples the same way
        whichever framework runs it (num_ctx has no OpenAI name: the server decides).
        """
        names = {"temperature": "temperature", "seed": "seed", "num_predict": "max_tokens"}
        names |= {"top_p": "top_p", "stop": "stop"}
        return {out: self.options[key] for key, out in names.items() if key in self.options}


@dataclass(frozen=True)
class RunResult:
    """What a run ended with."""

    run_id: str
    status: str  # traces.schema.STATUS_*
    final_output: str
    trace_path: Path
    framework: str
    error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)  # why degraded: warning code -> count
    totals: dict[str, Any] = field(default_factory=dict)  # run_finished's totals


class Runner(Protocol):
    """A framework adapter: runs a scenario on its framework and returns the final output."""

    framework: str

    def check(self, scenario: Scenario) -> None:
        """Refuse (ScenarioError) what this framework cannot express, before anything runs."""
        ...

    def run(
        self,
        scenario: Scenario,
        inputs: dict[str, str],
        models: dict[str, AgentModel],
        recorder: TraceRecorder,
    ) -> str:
        """Run the team to its end; emit framework events to `recorder`; return the output."""
        ...
