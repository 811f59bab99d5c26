"""The AutoGen runner: a scenario as an AgentChat team (autogen-agentchat 0.7, the 0.4+ API).

Topologies: round_robin is a `RoundRobinGroupChat` of `AssistantAgent`s; reflection is a
`RoundRobinGroupChat` of the producer and the critic; supervisor is a `SelectorGroupChat`
whose selector model is the supervisor agent's (choosing the supervisor itself ends the
chat); sequential and parallel are a `GraphFlow` over the task dependencies (a chain in
dependency order, or branches fanning in), one node per task. Chats end by phrase
(`TextMentionTermination`) and by message count (`MaxMessageTermination`).

Every model client is an `OllamaChatCompletionClient` on the agent's gateway URL with the
scenario's options (`num_ctx` included) and `keep_alive`. Trace events come from
`run_stream`, in the order the team produced them.
"""

from __future__ import annotations

import asyncio

from agents._logs import quiet
from agents.autogen_team import TeamPlan, build_team
from agents.autogen_trace import tracer as tracer_for
from agents.base import AgentModel
from scenarios.spec import Scenario
from traces.recorder import TraceRecorder

FRAMEWORK = "autogen"


class AutoGenRunner:
    """Runs a scenario as an AutoGen AgentChat team, each model on the gateway's `/api/chat`."""

    framework = FRAMEWORK

    def check(self, scenario: Scenario) -> None:
        """Refuse what AutoGen cannot run faithfully (ScenarioError, before any run starts)."""
        TeamPlan.check(scenario)

    def run(
        self,
        scenario: Scenario,
        inputs: dict[str, str],
        models: dict[str, AgentModel],
        recorder: TraceRecorder,
    ) -> str:
        """Build the team, stream it to its end, trace its messages; return the final output."""
        quiet("autogen_core", "autogen_agentchat", "autogen_ext")
        plan = TeamPlan(scenario, inputs)
        return asyncio.run(_stream(plan, models, recorder))


class TeamError(RuntimeError):
    """An agent of the AutoGen team failed; the message is its error's first line."""


async def _stream(plan: TeamPlan, models: dict[str, AgentModel], recorder: TraceRecorder) -> str:
    team, task = build_team(plan, models, recorder)
    tracer = tracer_for(plan, recorder)
    tracer.begin()
    try:
        async for item in team.run_stream(task=task):
            tracer.item(item)
    except RuntimeError as exc:  # AutoGen re-raises an agent's error as text + traceback
        raise TeamError(str(exc).strip().splitlines()[0] if str(exc).strip() else "") from exc
    return tracer.final
