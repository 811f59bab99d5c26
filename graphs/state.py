"""The graph state shared by every topology, and the helpers every agent turn uses.

Nodes do not touch the trace recorder: each returns, with its state update, the trace
events it caused (`events`), in order; `graphs.run.stream_run` writes them as the updates
stream in. The start of a turn is announced on LangGraph's custom stream.
"""

from __future__ import annotations

import json
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

from graphs import tooling
from graphs.schemas import OutputSchema, resolve_schema
from scenarios.spec import Scenario

Event = dict[str, Any]
ModelFor = Callable[[str], BaseChatModel]
AGENT_STARTED = "agent_started"


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
    event) and the task's `output_schema` is asked for and validated (`graphs.tooling`).
    The last event is the `agent_message`.
    """
    get_stream_writer()({"kind": AGENT_STARTED, "agent": agent, "task": task})
    names = scenario.agent(agent).tools if scenario else []
    schema = _task_schema(scenario, task)
    text, history, events = _converse(model, messages, agent, task, names, schema is None)
    if schema is None:
        return text, [*events, _message(agent, task, text)]
    where = f"task {task!r} ({agent})"
    with tooling.carrying(events):
        answer, warnings = tooling.structured_answer(model, history, schema, where)
    text = json.dumps(answer, ensure_ascii=False)
    extra = {"output_schema": schema.name, "structured_output": answer}
    return text, [*events, *warnings, _message(agent, task, text, **extra)]


def _converse(
    model: BaseChatModel,
    messages: list[BaseMessage],
    agent: str,
    task: str | None,
    tool_names: list[str],
    answer: bool,
) -> tuple[str, list[BaseMessage], list[Event]]:
    """The tool loop if the agent has tools, else one plain call when `answer` is wanted."""
    if tool_names:
        chosen = tooling.agent_tools(tool_names)
        return tooling.tool_loop(model, chosen, messages, agent, task)
    if answer:
        return model.invoke(messages).text.strip(), messages, []
    return "", messages, []


def _task_schema(scenario: Scenario | None, task: str | None) -> OutputSchema | None:
    if scenario is None or task is None or task not in {t.name for t in scenario.tasks}:
        return None
    spec = scenario.task(task).output_schema
    return None if spec is None else resolve_schema(spec)


def _message(agent: str, task: str | None, text: str, **extra: Any) -> Event:
    return {"kind": "agent_message", "agent": agent, "task": task, "content": text, **extra}


def call_model(model: Runnable, messages: list[BaseMessage], agent: str) -> Any:
    """Announce a non-turn model call (a routing decision) and make it."""
    get_stream_writer()({"kind": AGENT_STARTED, "agent": agent, "task": None})
    return model.invoke(messages)


def route(source: str, target: str, reason: str, **extra: Any) -> Event:
    """A `route` trace event; `target` END is written as "END"."""
    to = "END" if target == END else target
    return {"kind": "route", "from": source, "to": to, "reason": reason, **extra}


def warning(code: str, message: str, **numbers: Any) -> Event:
    """A `warning` trace event."""
    return {"kind": "warning", "code": code, "message": message, **numbers}


def out_of_turns(state: TeamState, scenario: Scenario, taken: int = 0) -> bool:
    """Whether `team.max_turns` is used up (counting `taken` turns not yet in the state)."""
    return state.get("turns_taken", 0) + taken >= scenario.team.max_turns


def max_turns_warning(scenario: Scenario, stopped_before: str) -> Event:
    """The warning written when the turn cap stops a run."""
    cap = scenario.team.max_turns
    return warning(
        "max_turns_reached",
        f"stopped before {stopped_before}: team.max_turns ({cap}) turns taken; "
        "raise team.max_turns to let the team finish",
        max_turns=cap,
    )
