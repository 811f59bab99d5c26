"""The CrewAI runner: a scenario as a crew of `Agent`s and `Task`s (crewai 1.x).

Topologies: sequential is `Process.sequential` (tasks in dependency order, `context` from
the task's dependencies); parallel is the same crew with the branch tasks marked
`async_execution` and the fan-in task reading them all; supervisor is `Process.hierarchical`
with the scenario's supervisor agent as `manager_agent` (it delegates with CrewAI's
delegation tools). round_robin and reflection have no faithful CrewAI form and are refused
by `check` before anything runs.

crewai is imported inside the functions that use it, never at module level: the registry
sets CrewAI's telemetry and storage switches first (`agents._crewai_env`).

Trace events come from CrewAI's event bus, whose handlers run on a thread pool: they are
buffered with CrewAI's own timestamps and written in time order at each task end and at the
end of the run. `llm_call` events are the gateway's, as for every framework.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import tools
from agents import _crewai_env
from agents._logs import quiet
from agents.base import AgentModel
from scenarios.spec import AgentSpec, Scenario, TaskSpec, render
from team import support
from team.events import AGENT_STARTED
from team.events import route as route_event
from team.plan import TaskPlan
from team.prompting import schema_hint, system_prompt
from team.rules import last_task_done
from team.schemas import OutputSchema, resolve_schema
from team.support import agent_role
from team.turn import OutputSchemaError, parse_text, schema_retry_warning, validated
from team.writer import TurnWriter
from tools.base import Tool
from tools.bind import OnCall, invoke
from tools.workspace import ToolContext
from traces.recorder import TraceRecorder

FRAMEWORK = "crewai"
DEFAULT_EXPECTED_OUTPUT = "A complete answer to the task."


class CrewAIRunner:
    """Runs a scenario as a CrewAI crew, each agent's model on the gateway's `/api/chat`."""

    framework = FRAMEWORK

    def check(self, scenario: Scenario) -> None:
        """Refuse what CrewAI cannot express (ScenarioError, before any run starts)."""
        support.check(scenario, FRAMEWORK)

    def run(
        self,
        scenario: Scenario,
        inputs: dict[str, str],
        models: dict[str, AgentModel],
        recorder: TraceRecorder,
    ) -> str:
        """Build the crew, kick it off, trace its turns and hand-offs; return its output."""
        _crewai_env.prepare(storage_dir(recorder))
        quiet("crewai")
        plan = CrewPlan.of(scenario, inputs)
        sink = EventSink(recorder, plan)
        with Listening(sink):
            try:
                result = build_crew(plan, models, sink).kickoff()
            finally:
                sink.drain()  # the turns before a failure stay in the trace
        sink.finish()
        return str(getattr(result, "raw", result) or "")


def storage_dir(recorder: TraceRecorder) -> Path:
    """Where CrewAI may write (its SQLite and memory files): beside the run's trace."""
    return recorder.path.parent / ".crewai"


# --- the plan: which tasks run, in which order, with which hand-offs ---------------------


@dataclass
class CrewPlan:
    """The crew a scenario becomes, before any crewai object is made."""

    scenario: Scenario
    inputs: dict[str, str]
    tasks: TaskPlan

    @classmethod
    def of(cls, scenario: Scenario, inputs: dict[str, str]) -> CrewPlan:
        """The plan for the scenario's topology, cut at `team.max_turns` as LangGraph cuts."""
        return cls(scenario, inputs, TaskPlan.of(scenario))

    @property
    def hierarchical(self) -> bool:
        """Whether the crew runs with a manager (the supervisor topology)."""
        return self.scenario.team.topology == "supervisor"

    @property
    def manager(self) -> str:
        """The supervisor agent's name ('' outside the supervisor topology)."""
        return (self.scenario.team.supervisor or "") if self.hierarchical else ""

    def hand_off(self, task_name: str) -> list[dict[str, Any]]:
        """The route (and warning) events written once `task_name` is done."""
        return [] if self.hierarchical else self.tasks.hand_off(task_name)


# --- crewai objects -----------------------------------------------------------------------


def build_crew(plan: CrewPlan, models: dict[str, AgentModel], sink: EventSink) -> Any:
    """The `Crew` for `plan`: agents with the gateway models, tasks, process, callbacks."""
    from crewai import Crew, Process  # lazy: after the telemetry switches

    agents = {a.name: make_agent(a, plan, models[a.name], sink) for a in plan.scenario.agents}
    sink.names = {id(agent): name for name, agent in agents.items()}
    tasks: dict[str, Any] = {}
    for spec in plan.tasks.tasks:
        tasks[spec.name] = make_task(spec, plan, agents, tasks, sink)
    sink.task_names = {id(task): name for name, task in tasks.items()}
    kwargs: dict[str, Any] = {"process": Process.sequential}
    members = [a for name, a in agents.items() if name != plan.manager]
    if plan.hierarchical:
        kwargs = {"process": Process.hierarchical, "manager_agent": agents[plan.manager]}
    with warnings.catch_warnings():  # "callbacks cannot be serialized": no checkpoints here
        warnings.simplefilter("ignore", UserWarning)
        return Crew(
            name=plan.scenario.name,
            agents=members,
            tasks=list(tasks.values()),
            task_callback=sink.task_done,
            verbose=False,
            memory=False,
            cache=False,
            tracing=False,
            **kwargs,
        )


def make_agent(spec: AgentSpec, plan: CrewPlan, model: AgentModel, sink: EventSink) -> Any:
    """A CrewAI `Agent`: role, goal, backstory (a system prompt becomes the backstory), tools.

    Tools are bound through `tools.bind` (each call a `tool_call` event); CrewAI calls them
    with its text protocol (Action / Action Input), as the model does not get native tools.
    """
    from crewai import Agent  # lazy: after the telemetry switches

    role, goal, backstory = agent_texts(spec, plan.inputs)
    is_manager = spec.name == plan.manager
    bound = [
        crewai_tool(tools.get(n), spec.name, on_call=sink.tool_reporter(spec.name))
        for n in spec.tools
    ]
    return Agent(
        role=role,
        goal=goal,
        backstory=backstory,
        llm=crewai_llm(model),
        tools=bound,
        allow_delegation=is_manager,
        verbose=False,
        memory=False,
        max_iter=plan.scenario.team.max_steps if is_manager else 25,
    )


def agent_texts(spec: AgentSpec, inputs: dict[str, str]) -> tuple[str, str, str]:
    """Role, goal and backstory with the inputs filled in.

    An agent given a `system_prompt` or a `prompt` template gets that text (as the other
    frameworks send it) as its backstory.
    """
    role = render(agent_role(spec), inputs)
    goal = render(spec.goal, inputs) or f"Do the tasks given to {spec.name} well."
    if spec.system_prompt is not None or spec.prompt is not None:
        return role, goal, system_prompt(spec, inputs)
    return role, goal, render(spec.backstory, inputs) or f"You are {role}."


def make_task(
    spec: TaskSpec, plan: CrewPlan, agents: dict[str, Any], made: dict[str, Any], sink: EventSink
) -> Any:
    """A CrewAI `Task`; in a hierarchical crew it has no agent (the manager delegates).

    A task with an `output_schema` asks for it in its expected output, is checked by a
    guardrail (one retry, as LangGraph), and its agent's model sends the schema as Ollama's
    `format` when the agent has no tools (JSON-only answers would break CrewAI's tool text).
    """
    from crewai import Task  # lazy: after the telemetry switches

    expected = render(spec.expected_output, plan.inputs) or DEFAULT_EXPECTED_OUTPUT
    context = [made[name] for name in plan.tasks.context_of(spec) if name in made]
    schema = None if spec.output_schema is None else resolve_schema(spec.output_schema)
    extra: dict[str, Any] = {}
    if schema is not None:
        expected = f"{expected}\n\n{schema_hint(schema.json_schema)}"
        extra = {"guardrail": sink.schema_guard(spec, schema), "guardrail_max_retries": 1}
    task = Task(
        name=spec.name,
        description=render(spec.description, plan.inputs),
        expected_output=expected,
        agent=None if plan.hierarchical else agents[spec.agent],
        context=context,
        async_execution=asynchronous(plan, spec),
        **extra,
    )
    executor = agents[plan.manager if plan.hierarchical else spec.agent]
    if schema is not None and not executor.tools and hasattr(executor.llm, "format_for"):
        executor.llm.format_for(task, schema.json_schema)
    return task


def asynchronous(plan: CrewPlan, spec: TaskSpec) -> bool:
    """Parallel branches run asynchronously; the last one too, unless the run stops there.

    CrewAI lets a crew end with at most one asynchronous task, so when `team.max_turns`
    leaves no fan-in task the last branch runs synchronously.
    """
    branches = plan.tasks.branches
    last = plan.tasks.tasks[-1].name
    return spec.name in branches and not (spec.name == last and plan.tasks.fan_in() is None)


def crewai_llm(model: AgentModel) -> Any:
    """The agent's CrewAI model: native `/api/chat` for ollama, CrewAI's `LLM` for openai."""
    if model.provider == "openai":
        from crewai import LLM  # lazy: after the telemetry switches

        return LLM(
            model=f"openai/{model.model}",
            base_url=model.base_url,
            api_key=model.api_key,
            **model.openai_params(),
        )
    from agents.crewai_llm import OllamaNativeLLM  # imports crewai: only when a crew is built

    return OllamaNativeLLM.from_agent_model(model)


# --- events ---------------------------------------------------------------------------------


@dataclass(order=True)
class _Pending:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    fields: dict[str, Any] = field(compare=False)


class EventSink:
    """Buffers CrewAI's events and writes them to the trace in time order."""

    def __init__(self, recorder: TraceRecorder, plan: CrewPlan) -> None:
        self.recorder = recorder
        self.plan = plan
        self.names: dict[int, str] = {}
        self.task_names: dict[int, str] = {}
        self.writer = TurnWriter(recorder)
        self._pending: list[_Pending] = []
        self._lock = threading.RLock()
        self._seq = 0
        self.current_task: dict[str, str | None] = {}
        self.schema_tasks: set[str] = set()

    def tool_reporter(self, agent: str) -> Callable[[dict[str, Any]], None]:
        """The `on_call` of an agent's bound tool: buffer its `tool_call` event, stamped now."""

        def report(fields: dict[str, Any]) -> None:
            task = self.current_task.get(agent)
            self.add(datetime.now(UTC), "tool_call", **fields, task=task)

        return report

    def name_of(self, agent: Any) -> str:
        """The scenario's name for a CrewAI agent (by identity, else by role)."""
        if id(agent) in self.names:
            return self.names[id(agent)]
        return self.name_of_role(str(getattr(agent, "role", "unknown")))

    def name_of_role(self, role: str) -> str:
        """The scenario's name for the agent with CrewAI role `role` (the role if none)."""
        for spec in self.plan.scenario.agents:
            if render(agent_role(spec), self.plan.inputs).casefold() == role.casefold():
                return spec.name
        return role

    def task_of(self, task: Any) -> str | None:
        """The scenario task a CrewAI task stands for (None for a delegated piece of work)."""
        return self.task_names.get(id(task)) if task is not None else None

    def add(self, at: datetime, kind: str, **fields: Any) -> None:
        """Buffer one event stamped `at`."""
        with self._lock:
            self._seq += 1
            self._pending.append(_Pending(_aware(at), self._seq, kind, fields))

    def add_event(self, at: datetime, event: dict[str, Any]) -> None:
        """Buffer one LangGraph-shaped event (a dict with its `kind`) stamped `at`."""
        fields = {k: v for k, v in event.items() if k != "kind"}
        self.add(at, event["kind"], **fields)

    def started(self, agent: Any, task: Any, at: datetime) -> None:
        """An agent began work: signal it live; in a hierarchical crew, a delegation."""
        name, task_name = self.name_of(agent), self.task_of(task)
        self.current_task[name] = task_name
        self.recorder.signal(AGENT_STARTED, agent=name, task=task_name)
        if self.plan.hierarchical and name != self.plan.manager:
            instruction = str(getattr(task, "description", ""))
            reason = "the manager delegated work"
            self.add_event(
                at, route_event(self.plan.manager, name, reason, instruction=instruction)
            )

    def completed(self, agent: Any, task: Any, output: str, at: datetime) -> None:
        """An agent finished a task (or a delegated piece of work): its message and hand-off.

        A task with an output schema is written by its guardrail instead, once valid.
        """
        name, task_name = self.name_of(agent), self.task_of(task)
        if task_name in self.schema_tasks:
            return
        self.turn_done(at, name, task_name, output.strip())

    def turn_done(
        self, at: datetime, name: str, task_name: str | None, text: str, **extra: Any
    ) -> None:
        """Buffer a turn's `agent_message` and the hand-off after its task."""
        self.add(at, "agent_message", agent=name, content=text, task=task_name, **extra)
        for event in self.plan.hand_off(task_name) if task_name else []:
            self.add_event(at, event)

    def schema_guard(self, spec: TaskSpec, schema: OutputSchema) -> Callable[[Any], Any]:
        """The guardrail of a task with an output schema: valid JSON object, or retry once."""
        self.schema_tasks.add(spec.name)
        retried: list[str] = []

        # No return annotation: CrewAI checks it, and a string annotation fails that check.
        def guard(output: Any):
            name = self.name_of_role(str(output.agent))
            answer, problem = validated(schema, parse_text(str(output.raw)))
            if problem is None:
                text = json.dumps(answer, ensure_ascii=False)
                extra = {"output_schema": schema.name, "structured_output": answer}
                self.turn_done(datetime.now(UTC), name, spec.name, text, **extra)
                return True, text
            error, where = problem[1], f"task {spec.name!r} ({name})"
            if retried:  # fail as LangGraph fails, not with CrewAI's generic guardrail error
                raise OutputSchemaError(where, schema, error)
            retried.append(error)
            self.add_event(datetime.now(UTC), schema_retry_warning(where, schema, error))
            return False, error

        return guard

    def task_done(self, _output: Any) -> None:
        """CrewAI's task callback: write what happened so far."""
        self.drain()

    def drain(self) -> None:
        """Wait for CrewAI's event handlers, then write the buffered events in time order."""
        from crewai.events import crewai_event_bus  # lazy: after the telemetry switches

        crewai_event_bus.flush()
        with self._lock:
            pending, self._pending = sorted(self._pending), []
            for item in pending:
                self._write(item.kind, dict(item.fields))

    def _write(self, kind: str, fields: dict[str, Any]) -> None:
        self.writer.write({**fields, "kind": kind})

    def finish(self) -> None:
        """Write the run's closing events: the manager's end, or a parallel run's stop."""
        if self.plan.hierarchical:
            last = self.plan.tasks.tasks[-1]
            self._write("route", last_task_done(last, self.plan.manager))
        for event in self.plan.tasks.stop_events():
            self._write(event["kind"], dict(event))


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class Listening:
    """Subscribe a sink to CrewAI's event bus for the duration of one kickoff."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self._handlers: dict[type, Callable[[Any, Any], None]] = {}

    def __enter__(self) -> EventSink:
        from crewai.events import crewai_event_bus  # lazy: after the telemetry switches

        self._handlers = handlers(self.sink)
        for event_type, handler in self._handlers.items():
            crewai_event_bus.on(event_type)(handler)
        return self.sink

    def __exit__(self, *exc: object) -> None:
        from crewai.events import crewai_event_bus  # lazy: after the telemetry switches

        for event_type, handler in self._handlers.items():
            crewai_event_bus.off(event_type, handler)


def handlers(sink: EventSink) -> dict[type, Callable[[Any, Any], None]]:
    """The event-bus handlers that feed `sink`."""
    from crewai.events.types.agent_events import (  # lazy: after the telemetry switches
        AgentExecutionCompletedEvent,
        AgentExecutionStartedEvent,
    )

    def on_started(_source: Any, event: Any) -> None:
        sink.started(event.agent, event.task, event.timestamp)

    def on_completed(_source: Any, event: Any) -> None:
        sink.completed(event.agent, event.task, str(event.output), event.timestamp)

    return {AgentExecutionStartedEvent: on_started, AgentExecutionCompletedEvent: on_completed}


# --- tools ----------------------------------------------------------------------------------


def crewai_tool(
    tool: Tool, agent: str = "", context: ToolContext | None = None, on_call: OnCall | None = None
) -> Any:
    """A `crewai.tools.BaseTool` that runs `tool` through `invoke` (`tools.bind.invoke`)."""
    from crewai.tools import BaseTool as CrewAITool  # lazy: after the telemetry switches

    class Bound(CrewAITool):
        name: str = tool.name
        description: str = tool.description
        args_schema: type[BaseModel] = tool.args

        def _run(self, *args: Any, **kwargs: Any) -> str:
            raw = args[0] if args and not kwargs else kwargs
            return invoke(tool, raw, agent, context, on_call).for_model

    Bound.__name__ = Bound.__qualname__ = f"{_camel(tool.name)}Tool"
    return Bound()


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
