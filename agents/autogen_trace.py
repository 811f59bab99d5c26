"""AutoGen's `run_stream` items as trace events, under the team core's rules.

AutoGen decides who speaks; the tracer writes what happened with the route reasons and limit
warnings of `team.rules`, applied to the same counts, so traces compare across frameworks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from autogen_agentchat.base import TaskResult
from autogen_agentchat.messages import BaseChatMessage, SelectSpeakerEvent

from agents.autogen_team import USER, TeamPlan
from team import rules
from team.events import AGENT_STARTED, END, Event, route
from team.plan import TaskPlan
from team.writer import TurnWriter
from traces.recorder import TraceRecorder


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
        self.signal(rules.speaking_order(self.plan.scenario)[0], self._task)

    @property
    def _task(self) -> str:
        return self.plan.scenario.tasks[0].name

    def message(self, source: str, text: str) -> None:
        """One chat message: its turn, then where the chat goes (the same rules as LangGraph)."""
        scenario, spoken = self.plan.scenario, len(self.spoken)
        self.emit_turn(source, text, self._task)
        _target, events = rules.next_speaker(scenario, source, text, spoken + 1, spoken)
        self.final = rules.chat_output(scenario, text, self.spoken)
        self.spoken.append((source, text))
        self.emit_all(events, task=self._task)


class ReflectionTracer(Tracer):
    """Reflection: drafts and reviews, with LangGraph's verdicts and limits."""

    revisions: int = 0

    def begin(self) -> None:
        """The producer drafts first."""
        producer = self.plan.scenario.team.producer or ""
        task = rules.own_task(self.plan.scenario, producer)
        self.signal(producer, task.name if task else None)

    def message(self, source: str, text: str) -> None:
        """A draft (the output so far) or a review (approve, or ask for a revision)."""
        scenario = self.plan.scenario
        producer = scenario.team.producer or ""
        turns = len(self.spoken)
        self.spoken.append((source, text))
        own = rules.own_task(scenario, source)
        self.emit_turn(source, text, own.name if own else None)
        if source == producer:
            self.final = text
            self.emit_all(rules.to_review(scenario, turns, self.revisions)[1])
            return
        target, events = rules.verdict(scenario, text, turns, self.revisions)
        if target == producer:
            self.revisions += 1
        self.emit_all(events)


class SupervisorTracer(Tracer):
    """Supervisor: the selector's choices are routes; the members' messages are turns."""

    def _boss(self) -> str:
        return self.plan.scenario.team.supervisor or ""

    def selected(self, speakers: list[str]) -> None:
        """The supervisor's model chose the next member, or itself (FINISH)."""
        boss = self._boss()
        for name in speakers:
            if name == boss:
                self.emit_all([rules.finished(boss)])
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
        scenario = self.plan.scenario
        steps = rules.supervisor_step_cap(scenario)
        stop = rules.supervisor_limits(scenario, steps, steps)
        assert stop is not None, "the message cap is the first of the supervisor's limits"
        self.emit_all(stop[1])


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


def tracer(plan: TeamPlan, recorder: TraceRecorder) -> Tracer:
    """The tracer for the plan's topology."""
    return _TRACERS[plan.scenario.team.topology](plan, recorder)
