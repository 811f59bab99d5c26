"""Scenario -> AutoGen AgentChat team, and the tracer that turns its stream into trace events.

Imported only by `agents.autogen_runner` (itself imported only by `agents.registry`), so it
may import autogen at the top. Route reasons and limit warnings are those LangGraph writes
(`graphs/`), so traces of the same scenario compare across frameworks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from autogen_agentchat.agents import AssistantAgent, BaseChatAgent
from autogen_agentchat.base import Response, TaskResult, Team
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    SelectSpeakerEvent,
    TextMessage,
)
from autogen_agentchat.teams import (
    DiGraphBuilder,
    GraphFlow,
    RoundRobinGroupChat,
    SelectorGroupChat,
)
from autogen_core import CancellationToken
from autogen_core.models import (
    AssistantMessage,
    ModelFamily,
    ModelInfo,
    SystemMessage,
    UserMessage,
)
from autogen_ext.models.ollama import OllamaChatCompletionClient
from pydantic import BaseModel

import tools
from agents._plan import END, Event, TaskPlan, refuse_output_schemas
from agents.base import AgentModel
from graphs import reflection, round_robin, tooling
from graphs.prompting import (
    member_summary,
    schema_hint,
    system_prompt,
    task_prompt,
    work_summary,
)
from graphs.run import TurnWriter
from graphs.schemas import resolve_schema
from graphs.state import AGENT_STARTED, Build, max_turns_warning, route, warning
from graphs.supervisor import FINISH
from scenarios.errors import ScenarioError
from scenarios.spec import Scenario, TaskSpec
from tools.base import Tool
from tools.bind import OnCall, invoke
from tools.workspace import ToolContext
from traces.recorder import TraceRecorder

USER = "user"  # the source AutoGen gives the task message
MODEL_INFO = ModelInfo(
    vision=False,
    function_calling=True,
    json_output=True,
    structured_output=True,
    family=ModelFamily.UNKNOWN,
)


def model_client(spec: AgentModel) -> Any:
    """The agent's AutoGen model client: Ollama's `/api/chat` on its gateway URL."""
    if spec.provider == "openai":
        from autogen_ext.models.openai import OpenAIChatCompletionClient

        return OpenAIChatCompletionClient(
            model=spec.model,
            base_url=spec.base_url,
            api_key=spec.api_key,
            model_info=MODEL_INFO,
            **spec.openai_params(),
        )
    kwargs: dict[str, Any] = {}
    if spec.keep_alive is not None:
        kwargs["keep_alive"] = spec.keep_alive
    return OllamaChatCompletionClient(
        model=spec.model,
        host=spec.base_url,
        options=dict(spec.options),
        model_info=MODEL_INFO,
        **kwargs,
    )


def assistant(
    plan: TeamPlan, name: str, client: Any, system: str, task: str | None, **kwargs: Any
) -> AssistantAgent:
    """An `AssistantAgent` for scenario agent `name`, with its tools bound (if it has any).

    Each tool call runs through `tools.bind` and becomes a `tool_call` trace event; after its
    calls the agent answers in text (`reflect_on_tool_use`), as in the other frameworks.
    """
    names = plan.scenario.agent(name).tools
    if not names:
        return AssistantAgent(name, client, system_message=system, **kwargs)
    bound = [autogen_tool(tools.get(n), name, on_call=plan.tool_reporter(task)) for n in names]
    return AssistantAgent(
        name,
        client,
        system_message=system,
        tools=bound,
        reflect_on_tool_use=True,
        max_tool_iterations=tooling.MAX_TOOL_ROUNDS,
        **kwargs,
    )


@dataclass
class TeamPlan:
    """A scenario with its inputs, as the AutoGen team builders and tracers need it."""

    scenario: Scenario
    inputs: dict[str, str]
    recorder: TraceRecorder | None = None

    def signal(self, agent: str, task: str | None) -> None:
        """Announce a turn (transient, for the live console)."""
        if self.recorder is not None:
            self.recorder.signal(AGENT_STARTED, agent=agent, task=task)

    def emit_event(self, event: Event) -> None:
        """Write one LangGraph-shaped event (a dict with its `kind`)."""
        if self.recorder is not None:
            fields = dict(event)
            self.recorder.emit(fields.pop("kind"), **fields)

    def tool_reporter(self, task: str | None) -> Callable[[dict[str, Any]], None]:
        """The `on_call` of a bound tool: write its `tool_call` event (with the task)."""

        def report(fields: dict[str, Any]) -> None:
            if self.recorder is not None:
                self.recorder.emit("tool_call", **fields, task=task)

        return report

    @staticmethod
    def check(scenario: Scenario) -> None:
        """Refuse what AutoGen cannot express (ScenarioError, exit 2), before anything runs."""
        order = scenario.team.order or []
        repeated = sorted({name for name in order if order.count(name) > 1})
        if scenario.team.topology == "round_robin" and repeated:
            raise ScenarioError(
                f"team.order lists {repeated[0]!r} more than once; AutoGen's "
                "RoundRobinGroupChat takes each speaker once: list each agent once, "
                "or use --framework langgraph"
            )
        if scenario.team.topology not in ("sequential", "parallel"):
            where = f" in a {scenario.team.topology} team"
            refuse_output_schemas(scenario, "autogen", where)
        if USER in {a.name for a in scenario.agents}:
            raise ScenarioError(
                "an agent is named 'user', which AutoGen reserves for the task message: "
                "rename the agent"
            )

    @property
    def build(self) -> Build:
        """The `graphs` build context (prompt helpers take it; no models are made)."""
        return Build(self.scenario, self.inputs, _no_model)

    def tracer(self, recorder: TraceRecorder) -> Tracer:
        """The tracer for this plan's topology."""
        kind = _TRACERS[self.scenario.team.topology]
        return kind(self, recorder)


def _no_model(agent: str) -> Any:
    raise AssertionError(f"the AutoGen runner makes its own model clients ({agent})")


def build_team(
    plan: TeamPlan, models: dict[str, AgentModel], recorder: TraceRecorder
) -> tuple[Team, str]:
    """The AutoGen team for the plan's topology and the task it is started with."""
    plan.recorder = recorder
    topology = plan.scenario.team.topology
    clients = {name: model_client(spec) for name, spec in models.items()}
    if topology == "round_robin":
        return _round_robin(plan, clients)
    if topology == "reflection":
        return _reflection(plan, clients)
    if topology == "supervisor":
        return _supervisor(plan, clients)
    return _flow(plan, clients, recorder)


# --- round_robin ------------------------------------------------------------------------------


def _round_robin(plan: TeamPlan, clients: dict[str, Any]) -> tuple[Team, str]:
    b = plan.build
    order = round_robin.speaking_order(b)
    task = plan.scenario.tasks[0].name
    agents = [
        assistant(plan, name, clients[name], round_robin.chat_system(b, name, order), task)
        for name in order
    ]
    team = plan.scenario.team
    limit = min(team.max_rounds * len(order), team.max_turns) + 1
    stop: Any = MaxMessageTermination(limit)
    if team.termination:
        stop = TextMentionTermination(team.termination) | stop
    return RoundRobinGroupChat(agents, termination_condition=stop), round_robin.opening(b)


# --- reflection ------------------------------------------------------------------------------


def _reflection(plan: TeamPlan, clients: dict[str, Any]) -> tuple[Team, str]:
    b = plan.build
    producer, critic = plan.scenario.team.producer or "", plan.scenario.team.critic or ""
    task = reflection.own_task(b, producer)
    assert task is not None, "validate() guarantees the producer has a task"
    writer = assistant(
        plan,
        producer,
        clients[producer],
        system_prompt(b.scenario.agent(producer), b.inputs),
        task.name,
    )
    criteria = reflection.own_task(b, critic)
    reviewer = assistant(
        plan, critic, clients[critic], critic_system(b, task), criteria.name if criteria else None
    )
    team = plan.scenario.team
    limit = min(2 * (team.max_revisions + 1), team.max_turns) + 1
    stop = TextMentionTermination(reflection.approval(b), sources=[critic]) | MaxMessageTermination(
        limit
    )
    chat = RoundRobinGroupChat([writer, reviewer], termination_condition=stop)
    return chat, task_prompt(task, b.inputs, {})


def critic_system(b: Build, producer_task: TaskSpec) -> str:
    """The critic's system prompt: who it is, the task it reviews drafts for, how to answer."""
    critic = b.scenario.team.critic or ""
    criteria = reflection.own_task(b, critic)
    parts = [
        system_prompt(b.scenario.agent(critic), b.inputs, default="critic"),
        f"You review drafts for this task:\n{task_prompt(producer_task, b.inputs, {})}",
    ]
    if criteria is not None:
        parts.append(f"Review criteria:\n{task_prompt(criteria, b.inputs, {})}")
    parts.append(
        f"If the latest draft is good enough, reply with {reflection.approval(b)} only. "
        "Otherwise list at most three concrete changes."
    )
    return "\n\n".join(parts)


# --- supervisor ------------------------------------------------------------------------------


class FinishAgent(BaseChatAgent):
    """The supervisor as a participant: selecting it means FINISH; it answers without a model."""

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """It only says FINISH."""
        return (TextMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Say FINISH, which ends the chat."""
        return Response(chat_message=TextMessage(content=FINISH, source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Nothing to forget."""


def _supervisor(plan: TeamPlan, clients: dict[str, Any]) -> tuple[Team, str]:
    b = plan.build
    boss = plan.scenario.team.supervisor or ""
    members = [a.name for a in plan.scenario.agents if a.name != boss]
    agents: list[Any] = [
        assistant(
            plan,
            name,
            clients[name],
            system_prompt(b.scenario.agent(name), b.inputs),
            None,
            description=member_description(b, name),
        )
        for name in members
    ]
    agents.append(FinishAgent(boss, description="choose this when the work is complete"))
    team = plan.scenario.team
    stop = TextMentionTermination(FINISH, sources=[boss]) | MaxMessageTermination(
        min(team.max_steps, team.max_turns) + 1
    )
    chat = SelectorGroupChat(
        agents,
        model_client=clients[boss],
        termination_condition=stop,
        selector_prompt=selector_prompt(b, boss),
        allow_repeated_speaker=True,
        emit_team_events=True,
    )
    return chat, f"The team's work:\n{work_summary(b.scenario, b.inputs)}"


def member_description(b: Build, name: str) -> str:
    """What the selector reads about a member: its role and goal (AutoGen adds the name)."""
    line = member_summary(b.scenario, [name], b.inputs)
    return line.removeprefix(f"- {name}: ") if ": " in line else name


def selector_prompt(b: Build, boss: str) -> str:
    """The supervisor's routing prompt (AutoGen fills {roles}, {participants}, {history})."""
    system = system_prompt(b.scenario.agent(boss), b.inputs, default="supervisor")
    work = work_summary(b.scenario, b.inputs)
    return (
        f"{_braces(system)}\n\nThe team's work:\n{_braces(work)}\n\n"
        "Team members:\n{roles}\n\nWork so far:\n{history}\n\n"
        "Decide who acts next, one of {participants}; choose "
        f"{boss} when the work is complete. Reply with the name only."
    )


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


# --- sequential and parallel: a graph flow, one node per task -------------------------------


class TaskAgent(BaseChatAgent):
    """A graph-flow node that runs one scenario task with its agent's `AssistantAgent`.

    It reads the outputs of the tasks in its context from the messages the flow gives it
    and sends its agent the task prompt the other frameworks send (`task_prompt`). A task
    with an `output_schema` is answered as LangGraph answers it (`graphs.tooling`): the
    schema is asked for as Ollama's `format`, the answer validated, retried once.
    """

    def __init__(
        self, task: TaskSpec, context: list[str], inner: AssistantAgent, plan: TeamPlan, client: Any
    ) -> None:
        super().__init__(task.name, description=f"runs task {task.name!r} as {task.agent}")
        self.task, self.context, self.inner = task, context, inner
        self.plan, self.client = plan, client
        self.outputs: dict[str, str] = {}
        self.schema = None if task.output_schema is None else resolve_schema(task.output_schema)

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        """A text message: the task's output."""
        return (TextMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """Run the task on the outputs it depends on; answer with its output."""
        for message in messages:
            if message.source in self.context:
                self.outputs[message.source] = message.to_text()
        seen = {name: self.outputs[name] for name in self.context if name in self.outputs}
        prompt = task_prompt(self.task, self.plan.inputs, seen)
        self.plan.signal(self.task.agent, self.task.name)
        has_tools = bool(self.plan.scenario.agent(self.task.agent).tools)
        text = ""
        if self.schema is None or has_tools:
            await self.inner.on_reset(cancellation_token)
            reply = await self.inner.on_messages(
                [TextMessage(content=prompt, source=USER)], cancellation_token
            )
            text = reply.chat_message.to_text()
        if self.schema is None:
            return Response(chat_message=TextMessage(content=text, source=self.name))
        answer = await self.structured(prompt, text if has_tools else None)
        content = json.dumps(answer, ensure_ascii=False)
        metadata = {"output_schema": self.schema.name, "structured_output": content}
        return Response(
            chat_message=TextMessage(content=content, source=self.name, metadata=metadata)
        )

    async def structured(self, prompt: str, prior: str | None) -> dict[str, Any]:
        """The task's answer as the schema's object: asked for, validated, retried once."""
        assert self.schema is not None
        agent = self.task.agent
        asked: list[Any] = [
            SystemMessage(content=self.inner_system()),
            UserMessage(content=prompt, source=USER),
        ]
        if prior is not None:
            asked.append(AssistantMessage(content=prior, source=agent))
        asked.append(UserMessage(content=schema_hint(self.schema.json_schema), source=USER))
        answer, raw, error = await self._ask(asked)
        if error is None:
            return answer
        where = f"task {self.task.name!r} ({agent})"
        retry = tooling.schema_retry_warning(where, self.schema, error)
        self.plan.emit_event(retry)
        asked += [
            AssistantMessage(content=raw, source=agent),
            UserMessage(content=tooling.retry_prompt(error), source=USER),
        ]
        answer, raw, second = await self._ask(asked)
        if second is None:
            return answer
        raise tooling.OutputSchemaError(where, self.schema, second)

    def inner_system(self) -> str:
        """The agent's system prompt (the one its AssistantAgent has)."""
        return system_prompt(self.plan.scenario.agent(self.task.agent), self.plan.inputs)

    async def _ask(self, messages: list[Any]) -> tuple[Any, str, str | None]:
        """One structured call: (valid answer, raw text, None) or (None, raw text, why not)."""
        assert self.schema is not None
        result = await self.client.create(
            messages, extra_create_args={"format": self.schema.json_schema}
        )
        raw = result.content if isinstance(result.content, str) else ""
        parsed = tooling.first_json_object(raw)
        if parsed is None:
            return None, raw, "no JSON object in the answer"
        try:
            return self.schema.validate(parsed), raw, None
        except ValueError as exc:
            return None, raw, str(exc)

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """The response only (the inner agent's events stay inside the node)."""
        yield await self.on_messages(messages, cancellation_token)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the outputs seen."""
        self.outputs.clear()
        await self.inner.on_reset(cancellation_token)


def _flow(plan: TeamPlan, clients: dict[str, Any], recorder: TraceRecorder) -> tuple[Team, str]:
    b = plan.build
    tasks = TaskPlan.of(plan.scenario)
    builder = DiGraphBuilder()
    nodes: dict[str, TaskAgent] = {}
    for spec in tasks.tasks:
        system = system_prompt(b.scenario.agent(spec.agent), b.inputs)
        inner = assistant(plan, spec.agent, clients[spec.agent], system, spec.name)
        nodes[spec.name] = TaskAgent(spec, tasks.context_of(spec), inner, plan, clients[spec.agent])
        builder.add_node(nodes[spec.name])
    for source, target in flow_edges(tasks):
        builder.add_edge(nodes[source], nodes[target])
    flow = GraphFlow(participants=builder.get_participants(), graph=builder.build())
    return flow, f"Run the tasks of scenario {plan.scenario.name!r}."


def flow_edges(tasks: TaskPlan) -> list[tuple[str, str]]:
    """A chain in dependency order (sequential), or every branch into the fan-in (parallel)."""
    names = [t.name for t in tasks.tasks]
    final = tasks.fan_in()
    if tasks.parallel:
        return [(name, final.name) for name in names[:-1]] if final else []
    return list(itertools.pairwise(names))


# --- tracers: run_stream items -> trace events -----------------------------------------------


@dataclass
class Tracer:
    """Turns a team's `run_stream` items into trace events, numbering turns 1, 2, ..."""

    plan: TeamPlan
    recorder: TraceRecorder
    final: str = ""
    spoken: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Topology tracers set up their own state here."""

    @cached_property
    def writer(self) -> TurnWriter:
        """Writes the run's events, numbering agent turns as LangGraph's runner does."""
        return TurnWriter(self.recorder)

    def begin(self) -> None:
        """Before the run: announce the first speaker."""

    def item(self, item: Any) -> None:
        """One stream item: a chat message, a team event, or the final TaskResult."""
        if isinstance(item, TaskResult):
            self.finished(item)
        elif isinstance(item, SelectSpeakerEvent):
            self.selected(item.content)
        elif isinstance(item, BaseChatMessage) and item.source != USER:
            self.extra = structured_fields(item.metadata)
            self.message(item.source, item.to_text().strip())

    def message(self, source: str, text: str) -> None:
        """A participant's message."""

    def selected(self, speakers: list[str]) -> None:
        """The team picked the next speaker(s)."""

    def finished(self, result: TaskResult) -> None:
        """The team stopped."""

    def emit_turn(self, agent: str, text: str, task: str | None) -> None:
        """Write an `agent_message` with the next turn number (and a structured answer)."""
        message = {"kind": "agent_message", "agent": agent, "content": text, "task": task}
        self.writer.write({**message, **self.extra})

    def emit_all(self, events: list[Event], announce: bool = True, task: str | None = None) -> None:
        """Write LangGraph-shaped events (`route`, `warning`); announce who is routed to."""
        for event in events:
            self.writer.write(event)
            if announce and event["kind"] == "route" and event["to"] != END:
                self.signal(event["to"], event.get("task", task))

    def signal(self, agent: str, task: str | None) -> None:
        """Announce a turn (transient, for the live console)."""
        self.recorder.signal(AGENT_STARTED, agent=agent, task=task)


class FlowTracer(Tracer):
    """Sequential and parallel: one message per task node, then the task's hand-off."""

    def __post_init__(self) -> None:
        """The plan the flow was built from."""
        self.tasks = TaskPlan.of(self.plan.scenario)

    def message(self, source: str, text: str) -> None:
        """A task's output: its turn and its hand-off."""
        task = next(t for t in self.tasks.tasks if t.name == source)
        self.emit_turn(task.agent, text, task.name)
        self.emit_all(self.tasks.hand_off(task.name), announce=False)  # the node announces
        self.final = text

    def finished(self, result: TaskResult) -> None:
        """A parallel run cut by `team.max_turns` says so."""
        self.emit_all(self.tasks.stop_events())


class RoundRobinTracer(Tracer):
    """Round robin: each message, then the next speaker or the end, as LangGraph decides."""

    def begin(self) -> None:
        """The first speaker in team.order opens the chat."""
        self.signal(round_robin.speaking_order(self.plan.build)[0], self._task)

    @property
    def _task(self) -> str:
        return self.plan.scenario.tasks[0].name

    def message(self, source: str, text: str) -> None:
        """One chat message: its turn, then where the chat goes (the same rules as LangGraph)."""
        b = self.plan.build
        self.emit_turn(source, text, self._task)
        order = round_robin.speaking_order(b)
        state = {"turns_taken": len(self.spoken)}
        _target, events = round_robin.next_speaker(
            b, state, source, order, text, len(self.spoken) + 1
        )
        self.final = round_robin.final_text(b, text, self.spoken)
        self.spoken.append((source, text))
        self.emit_all(events, task=self._task)


class ReflectionTracer(Tracer):
    """Reflection: drafts and reviews, with LangGraph's verdicts and limits."""

    revisions: int = 0

    def begin(self) -> None:
        """The producer drafts first."""
        b = self.plan.build
        producer = self.plan.scenario.team.producer or ""
        task = reflection.own_task(b, producer)
        self.signal(producer, task.name if task else None)

    def message(self, source: str, text: str) -> None:
        """A draft (the output so far) or a review (approve, or ask for a revision)."""
        b = self.plan.build
        team = self.plan.scenario.team
        producer, critic = team.producer or "", team.critic or ""
        state = {"turns_taken": len(self.spoken), "revisions_done": self.revisions}
        self.spoken.append((source, text))
        own = reflection.own_task(b, source)
        self.emit_turn(source, text, own.name if own else None)
        if source == producer:
            self.final = text
            self.emit_all(self._after_draft(state, producer, critic))
            return
        _target, events, update = reflection.verdict(b, state, producer, critic, text)
        self.revisions = update.get("revisions_done", self.revisions)
        self.emit_all(events)

    def _after_draft(self, state: dict[str, Any], producer: str, critic: str) -> list[Event]:
        if state["turns_taken"] + 1 >= self.plan.scenario.team.max_turns:
            stop = max_turns_warning(self.plan.scenario, f"review by {critic!r}")
            return [stop, route(producer, END, "team.max_turns reached")]
        what = f"revision {self.revisions}" if self.revisions else "draft"
        return [route(producer, critic, f"{what} ready for review")]


class SupervisorTracer(Tracer):
    """Supervisor: the selector's choices are routes; the members' messages are turns."""

    def _boss(self) -> str:
        return self.plan.scenario.team.supervisor or ""

    def selected(self, speakers: list[str]) -> None:
        """The supervisor's model chose the next member, or itself (FINISH)."""
        boss = self._boss()
        for name in speakers:
            if name == boss:
                self.emit_all([route(boss, END, "supervisor chose FINISH")])
            else:
                self.emit_all([route(boss, name, "selected by the supervisor's model")])

    def message(self, source: str, text: str) -> None:
        """A member's work (the supervisor's own FINISH is not a turn)."""
        if source != self._boss():
            self.emit_turn(source, text, None)
            self.final = text

    def finished(self, result: TaskResult) -> None:
        """Stopped by the message cap: LangGraph's max_steps (or max_turns) warning and END."""
        if not (result.stop_reason and "Maximum number of messages" in result.stop_reason):
            return
        team, boss = self.plan.scenario.team, self._boss()
        if team.max_turns < team.max_steps:
            stop = max_turns_warning(self.plan.scenario, f"supervisor {boss!r} could route again")
            self.emit_all([stop, route(boss, END, "team.max_turns reached")])
            return
        message = (
            f"supervisor {boss!r} made team.max_steps ({team.max_steps}) routing decisions "
            "without FINISH; raise team.max_steps or sharpen the tasks"
        )
        self.emit_all(
            [
                warning("max_steps_reached", message, max_steps=team.max_steps),
                route(boss, END, "team.max_steps reached"),
            ]
        )


def structured_fields(metadata: dict[str, str]) -> dict[str, Any]:
    """A task node's structured answer, as LangGraph's `agent_message` carries it."""
    if "output_schema" not in metadata:
        return {}
    return {
        "output_schema": metadata["output_schema"],
        "structured_output": json.loads(metadata["structured_output"]),
    }


_TRACERS: dict[str, type[Tracer]] = {
    "sequential": FlowTracer,
    "parallel": FlowTracer,
    "round_robin": RoundRobinTracer,
    "reflection": ReflectionTracer,
    "supervisor": SupervisorTracer,
}


def autogen_tool(
    tool: Tool, agent: str = "", context: ToolContext | None = None, on_call: OnCall | None = None
) -> Any:
    """An `autogen_core.tools.BaseTool` that runs `tool` through `invoke` off the event loop."""
    from autogen_core.tools import BaseTool as AutoGenTool

    class Bound(AutoGenTool[BaseModel, str]):
        def __init__(self) -> None:
            super().__init__(tool.args, str, tool.name, tool.description)

        async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> str:
            return await self._call(args.model_dump())

        async def run_json(
            self,
            args: Mapping[str, Any],
            cancellation_token: CancellationToken,
            call_id: str | None = None,
        ) -> Any:
            return await self._call(dict(args))  # bad arguments reach the model as text

        async def _call(self, raw: dict[str, Any]) -> str:
            result = await asyncio.to_thread(invoke, tool, raw, agent, context, on_call)
            return result.for_model

    return Bound()
