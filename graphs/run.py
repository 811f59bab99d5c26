"""Run a compiled team and write its turns, routing and warnings to the trace.

The graph is streamed with LangGraph's `updates` mode (each node's state update carries
the trace events it caused, in order) and `custom` mode (each node announces a turn
before it calls the model). Turn numbers are given here, in the order turns complete.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from scenarios.spec import Scenario
from team.events import AGENT_STARTED
from team.writer import TurnWriter
from traces.recorder import TraceRecorder

STREAM_MODES = ["updates", "custom"]


class _Emitter:
    """Passes a LangGraph stream to the trace: turn announcements, node events, the output."""

    def __init__(self, recorder: TraceRecorder) -> None:
        self.recorder = recorder
        self.writer = TurnWriter(recorder)
        self.final = ""

    def custom(self, chunk: Any) -> None:
        """A node's announcement: an agent's turn (or routing call) begins."""
        if isinstance(chunk, dict) and chunk.get("kind") == AGENT_STARTED:
            fields = {k: v for k, v in chunk.items() if k != "kind"}
            self.recorder.signal(AGENT_STARTED, **fields)

    def updates(self, chunk: Any) -> None:
        """The state updates of nodes that finished: write their events, keep the output."""
        if not isinstance(chunk, dict):
            return
        for update in chunk.values():
            if isinstance(update, dict):
                for event in update.get("trace_events", []):
                    self.writer.write(event)
                self.final = update.get("final_output", self.final)


def stream_run(
    graph: CompiledStateGraph,
    scenario: Scenario,
    inputs: dict[str, str],
    recorder: TraceRecorder,
) -> str:
    """Run the team to its end, tracing as it goes; return the final output.

    `scenario` and `inputs` are those the graph was compiled with (the prompts already
    carry the inputs). Exceptions from the models propagate.
    """
    emitter = _Emitter(recorder)
    start = {"turns_taken": 0, "final_output": ""}
    try:
        for mode, chunk in graph.stream(start, stream_mode=STREAM_MODES):
            getattr(emitter, mode)(chunk)
    except Exception as exc:  # a failing node's own events still belong in the trace
        for event in getattr(exc, "trace_events", ()):
            emitter.writer.write(event)
        raise
    return emitter.final
