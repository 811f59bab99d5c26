"""Scenario -> AutoGen AgentChat team: the team core (`team/`) in AutoGen's own terms.

Imported only by `agents.autogen_runner` (itself imported only by `agents.registry`), so it
may import autogen at the top. Caps, prompts and the structured answer's protocol come from
the core, so a scenario runs under the same rules as on the other frameworks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from autogen_agentchat.agents import AssistantAgent, BaseChatAgent
from autogen_agentchat.base import Response, Team
from autogen_agentchat.conditions import MaxMessageTermination, TextMentionTermination
from autogen_agentchat.messages import BaseAgentEvent, BaseChatMessage, TextMessage
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
from autogen_core.tools import BaseTool as AutoGenTool
from autogen_ext.models.ollama import OllamaChatCompletionClient
from pydantic import BaseModel

import tools
from agents.base import AgentModel
from scenarios.spec import Scenario, TaskSpec
from team import rules, support
from team.events import AGENT_STARTED, Event
from team.plan import TaskPlan
from team.prompting import (
    chat_opening,
    chat_system,
    member_summary,
    system_prompt,
    task_prompt,
    work_summary,
)
from team.rules import FINISH
from team.schemas import resolve_schema
from team.turn import (
    MAX_TOOL_ROUNDS,
    AskStructured,
    Parsed,
    ToolCall,
    Turn,
    drive_async,
    parse_text,
    structured,
)
from tools.base import Tool
from tools.bind import OnCall, invoke
from tools.workspace import ToolContext
from traces.recorder import TraceRecorder

USER = support.AUTOGEN_TASK_SOURCE  # the source AutoGen gives the task message
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
        from autogen_ext.models.openai import OpenAIChatCompletionClient  # openai: only if used

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
        max_tool_iterations=MAX_TOOL_ROUNDS,
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
        support.check(scenario, "autogen")


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
    return _flow(plan, clients)


# --- round_robin ------------------------------------------------------------------------------


def _round_robin(plan: TeamPlan, clients: dict[str, Any]) -> tuple[Team, str]:
    scenario, inputs = plan.scenario, plan.inputs
    task = scenario.tasks[0].name
    agents = [
        assistant(plan, name, clients[name], chat_system(scenario, inputs, name), task)
        for name in rules.speaking_order(scenario)
    ]
    stop: Any = MaxMessageTermination(rules.chat_turn_cap(scenario) + 1)  # + the task message
    if scenario.team.termination:
        stop = TextMentionTermination(scenario.team.termination) | stop
    chat = RoundRobinGroupChat(agents, termination_condition=stop)
    return chat, chat_opening(scenario, inputs)


# --- reflection ------------------------------------------------------------------------------


def _reflection(plan: TeamPlan, clients: dict[str, Any]) -> tuple[Team, str]:
    scenario, inputs = plan.scenario, plan.inputs
    producer, critic = scenario.team.producer or "", scenario.team.critic or ""
    task = rules.own_task(scenario, producer)
    assert task is not None, "validate() guarantees the producer has a task"
    system = system_prompt(scenario.agent(producer), inputs)
    writer = assistant(plan, producer, clients[producer], system, task.name)
    criteria = rules.own_task(scenario, critic)
    review = critic_system(scenario, inputs, task)
    reviewer = assistant(plan, critic, clients[critic], review, criteria.name if criteria else None)
    approval = TextMentionTermination(rules.approval(scenario), sources=[critic])
    stop = approval | MaxMessageTermination(rules.review_turn_cap(scenario) + 1)
    chat = RoundRobinGroupChat([writer, reviewer], termination_condition=stop)
    return chat, task_prompt(task, inputs, {})


def critic_system(scenario: Scenario, inputs: dict[str, str], producer_task: TaskSpec) -> str:
    """The critic's system prompt: who it is, the task it reviews drafts for, how to answer."""
    critic = scenario.team.critic or ""
    criteria = rules.own_task(scenario, critic)
    parts = [
        system_prompt(scenario.agent(critic), inputs, default="critic"),
        f"You review drafts for this task:\n{task_prompt(producer_task, inputs, {})}",
    ]
    if criteria is not None:
        parts.append(f"Review criteria:\n{task_prompt(criteria, inputs, {})}")
    parts.append(
        f"If the latest draft is good enough, reply with {rules.approval(scenario)} only. "
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
    scenario, inputs = plan.scenario, plan.inputs
    boss = scenario.team.supervisor or ""
    members = [a.name for a in scenario.agents if a.name != boss]
    agents: list[Any] = [
        assistant(
            plan,
            name,
            clients[name],
            system_prompt(scenario.agent(name), inputs),
            None,
            description=member_description(scenario, inputs, name),
        )
        for name in members
    ]
    agents.append(FinishAgent(boss, description="choose this when the work is complete"))
    cap = MaxMessageTermination(rules.supervisor_step_cap(scenario) + 1)
    chat = SelectorGroupChat(
        agents,
        model_client=clients[boss],
        termination_condition=TextMentionTermination(FINISH, sources=[boss]) | cap,
        selector_prompt=selector_prompt(scenario, inputs, boss),
        allow_repeated_speaker=True,
        emit_team_events=True,
    )
    return chat, f"The team's work:\n{work_summary(scenario, inputs)}"


def member_description(scenario: Scenario, inputs: dict[str, str], name: str) -> str:
    """What the selector reads about a member: its role and goal (AutoGen adds the name)."""
    line = member_summary(scenario, [name], inputs)
    return line.removeprefix(f"- {name}: ") if ": " in line else name


def selector_prompt(scenario: Scenario, inputs: dict[str, str], boss: str) -> str:
    """The supervisor's routing prompt (AutoGen fills {roles}, {participants}, {history})."""
    system = system_prompt(scenario.agent(boss), inputs, default="supervisor")
    work = work_summary(scenario, inputs)
    return (
        f"{_braces(system)}\n\nThe team's work:\n{_braces(work)}\n\n"
        "Team members:\n{roles}\n\nWork so far:\n{history}\n\n"
        "Decide who acts next, one of {participants}; choose "
        f"{boss} when the work is complete. Reply with the name only."
    )


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


# --- sequential and parallel: a graph flow, one node per task -------------------------------


class AutoGenMessages:
    """AutoGen's model messages for the core's protocol (`team.turn.Messages`)."""

    def __init__(self, agent: str) -> None:
        self.agent = agent

    def user(self, text: str) -> Any:
        """A message from the lab, as AutoGen's task messages come."""
        return UserMessage(content=text, source=USER)

    def assistant(self, text: str) -> Any:
        """A message the agent's model wrote."""
        return AssistantMessage(content=text, source=self.agent)

    def tool_result(self, call: ToolCall, text: str, fallback_id: str) -> Any:
        """Not used: AutoGen's `AssistantAgent` runs its own tool calls."""
        raise NotImplementedError("AutoGen agents run their own tool calls")


class TaskAgent(BaseChatAgent):
    """A graph-flow node that runs one scenario task with its agent's `AssistantAgent`.

    It reads the outputs of the tasks in its context from the messages the flow gives it
    and sends its agent the task prompt the other frameworks send (`task_prompt`). A task
    with an `output_schema` is answered by the core's protocol (`team.turn`), as everywhere: the
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
        """The task's answer as the schema's object, by the core's protocol (`team.turn`)."""
        assert self.schema is not None
        agent = self.task.agent
        asked: list[Any] = [
            SystemMessage(content=self.inner_system()),
            UserMessage(content=prompt, source=USER),
        ]
        if prior is not None:
            asked.append(AssistantMessage(content=prior, source=agent))
        messages = AutoGenMessages(agent)
        turn = Turn(agent, self.task.name, messages, schema=self.schema, emit=self.plan.emit_event)
        answer: dict[str, Any] = await drive_async(structured(turn, asked, self.schema), self._ask)
        return answer

    def inner_system(self) -> str:
        """The agent's system prompt (the one its AssistantAgent has)."""
        return system_prompt(self.plan.scenario.agent(self.task.agent), self.plan.inputs)

    async def _ask(self, request: AskStructured[Any]) -> Parsed:
        """One structured call: the schema sent as Ollama's `format`, the text parsed."""
        schema = request.schema.json_schema
        result = await self.client.create(request.messages, extra_create_args={"format": schema})
        return parse_text(result.content if isinstance(result.content, str) else "")

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        """The response only (the inner agent's events stay inside the node)."""
        yield await self.on_messages(messages, cancellation_token)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the outputs seen."""
        self.outputs.clear()
        await self.inner.on_reset(cancellation_token)


def _flow(plan: TeamPlan, clients: dict[str, Any]) -> tuple[Team, str]:
    tasks = TaskPlan.of(plan.scenario)
    builder = DiGraphBuilder()
    nodes: dict[str, TaskAgent] = {}
    for spec in tasks.tasks:
        system = system_prompt(plan.scenario.agent(spec.agent), plan.inputs)
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


def autogen_tool(
    tool: Tool, agent: str = "", context: ToolContext | None = None, on_call: OnCall | None = None
) -> Any:
    """An `autogen_core.tools.BaseTool` that runs `tool` through `invoke` off the event loop."""

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
