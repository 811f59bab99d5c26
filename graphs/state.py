"""The graph state shared by every topology, and the helpers every agent turn uses.

Nodes do not touch the trace recorder: each returns, with its state update, the trace
events it caused (`events`), in order; `graphs.run.stream_run` writes them as the updates
stream in. The start of a turn is announced on LangGraph's custom stream.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable
from langgraph.config import get_stream_writer
from langgraph.graph import END

import tools
from graphs.tooling import MESSAGES, run_turn
from scenarios.spec import Scenario
from team.events import AGENT_STARTED, Event
from team.events import END as TEAM_END
from team.schemas import OutputSchema, resolve_schema
from team.turn import Turn

ModelFor = Callable[[str], BaseChatModel]


def merge(left: Mapping[str, str], right: Mapping[str, str]) -> dict[str, str]:
    """Reducer for `outputs`: later task outputs are added to earlier ones."""
    return {**left, **right}


class TeamState(TypedDict, total=False):
    """What flows between the nodes; lists and counters are merged across branches.

    The keys have long names so that no task or agent name (a node id) can clash with one.
    """

    task_outputs: Annotated[dict[str, str], merge]  # task name -> its output
    chat_log: Annotated[list[tuple[str, str]], operator.add]  # (speaker, text), in order
    trace_events: Annotated[list[Event], operator.add]  # trace events, in order
    turns_taken: Annotated[int, operator.add]  # agent turns taken
    route_steps: int  # supervisor: routing decisions taken
    revisions_done: int  # reflection: revisions asked for
    next_node: str  # the node a router picked (or END)
    member_instruction: str  # supervisor: what the picked member is asked to do
    feedback_text: str  # supervisor: why its last answer was refused; reflection: critique
    final_output: str  # the run's final output so far


@dataclass
class Build:
    """What a topology builder needs: the scenario, input values and the models."""

    scenario: Scenario
    inputs: dict[str, str]
    model_for: ModelFor
    _models: dict[str, BaseChatModel] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def model(self, agent: str) -> BaseChatModel:
        """The agent's chat model (asked of `model_for` once per agent)."""
        with self._lock:
            if agent not in self._models:
                self._models[agent] = self.model_for(agent)
            return self._models[agent]


def agent_turn(
    model: BaseChatModel,
    messages: list[BaseMessage],
    agent: str,
    task: str | None,
    scenario: Scenario | None = None,
) -> tuple[str, list[Event]]:
    """Announce the turn and take it; the reply text and the turn's trace events, in order.

    With `scenario`, the agent's tools are offered to the model (each call a `tool_call`
    event) and the task's `output_schema` is asked for and validated (`team.turn`).
    The last event is the `agent_message`.
    """
    get_stream_writer()({"kind": AGENT_STARTED, "agent": agent, "task": task})
    names = scenario.agent(agent).tools if scenario else []
    schema = _task_schema(scenario, task)
    turn = Turn(agent, task, MESSAGES, [tools.get(n) for n in names], schema)
    return run_turn(model, turn, messages), turn.events


def _task_schema(scenario: Scenario | None, task: str | None) -> OutputSchema | None:
    if scenario is None or task is None or task not in {t.name for t in scenario.tasks}:
        return None
    spec = scenario.task(task).output_schema
    return None if spec is None else resolve_schema(spec)


def call_model(model: Runnable, messages: list[BaseMessage], agent: str) -> Any:
    """Announce a non-turn model call (a routing decision) and make it."""
    get_stream_writer()({"kind": AGENT_STARTED, "agent": agent, "task": None})
    return model.invoke(messages)


def node(target: str) -> str:
    """The graph node a rule's target names: LangGraph's END for the team's END."""
    return END if target == TEAM_END else target
