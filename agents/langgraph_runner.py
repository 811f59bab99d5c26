"""The reference runner: the scenario compiled by `graphs/` and run on LangGraph."""

from __future__ import annotations

from agents.base import AgentModel
from agents.models import chat_model
from scenarios.spec import Scenario
from traces.recorder import TraceRecorder


class LangGraphRunner:
    """Runs a scenario as a LangGraph StateGraph, one chat model per agent."""

    framework = "langgraph"

    def check(self, scenario: Scenario) -> None:
        """LangGraph is the reference: every topology the spec allows compiles."""

    def run(
        self,
        scenario: Scenario,
        inputs: dict[str, str],
        models: dict[str, AgentModel],
        recorder: TraceRecorder,
    ) -> str:
        """Compile the scenario with each agent's model, stream it, return the final output."""
        # lazy, so that merely choosing a runner does not import LangGraph
        from graphs import compile_scenario
        from graphs.run import stream_run

        clients = {name: chat_model(spec) for name, spec in models.items()}
        graph = compile_scenario(scenario, inputs, clients.__getitem__)
        return stream_run(graph, scenario, inputs, recorder)
