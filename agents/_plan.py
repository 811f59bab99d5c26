"""Which tasks a task-based team (sequential, parallel) runs, and the hand-offs between them.

Framework-free, shared by the CrewAI and AutoGen runners so that their `route` and
`warning` events say what LangGraph's say (`graphs/sequential.py`, `graphs/parallel.py`),
with the same limits: `team.max_turns` cuts the run at the same task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphs.order import known_context, topological_order
from graphs.state import max_turns_warning, route
from graphs.validate import fan_in_task
from scenarios.errors import ScenarioError
from scenarios.spec import Scenario, TaskSpec

END = "END"
Event = dict[str, Any]


def refuse_output_schemas(scenario: Scenario, framework: str, where: str = "") -> None:
    """ScenarioError if a task has an `output_schema`, which `framework` does not map (yet)."""
    task = next((t for t in scenario.tasks if t.output_schema is not None), None)
    if task is not None:
        raise ScenarioError(
            f"task {task.name!r} has an output_schema, which the {framework} adapter cannot "
            f"honour{where} yet; remove it, or use --framework langgraph"
        )


@dataclass
class TaskPlan:
    """The tasks a run executes, in order; `branches` run concurrently (parallel topology)."""

    scenario: Scenario
    tasks: list[TaskSpec]
    branches: set[str] = field(default_factory=set)
    stopped_before: str | None = None  # what team.max_turns stopped the run before

    @classmethod
    def of(cls, scenario: Scenario) -> TaskPlan:
        """The plan for a sequential or parallel scenario (dependency order otherwise)."""
        if scenario.team.topology == "parallel":
            return cls._parallel(scenario)
        order = topological_order(scenario.tasks)
        cap = scenario.team.max_turns
        if scenario.team.topology == "sequential" and len(order) > cap:
            return cls(scenario, order[:cap], stopped_before=f"task {order[cap].name!r}")
        return cls(scenario, order)

    @classmethod
    def _parallel(cls, scenario: Scenario) -> TaskPlan:
        final = scenario.task(fan_in_task(scenario) or "")
        branches = [t for t in scenario.tasks if t.name != final.name]
        cap = scenario.team.max_turns
        if len(branches) >= cap:
            kept = branches[:cap]
            return cls(scenario, kept, {t.name for t in kept}, f"task {final.name!r}")
        return cls(scenario, [*branches, final], {t.name for t in branches})

    @property
    def parallel(self) -> bool:
        """Whether the plan fans out (parallel topology)."""
        return self.scenario.team.topology == "parallel"

    def fan_in(self) -> TaskSpec | None:
        """The fan-in task, when the plan runs it."""
        last = self.tasks[-1]
        return last if self.parallel and last.name not in self.branches else None

    def context_of(self, task: TaskSpec) -> list[str]:
        """The tasks whose outputs `task` reads (every branch, for the fan-in task)."""
        if self.parallel:
            return [] if task.name in self.branches else [t.name for t in self.tasks[:-1]]
        return known_context(self.scenario.tasks, task)

    def hand_off(self, task_name: str) -> list[Event]:
        """The route (and warning) events written once `task_name` is done."""
        index = [t.name for t in self.tasks].index(task_name)
        task = self.tasks[index]
        if self.parallel:
            return self._parallel_hand_off(task)
        nxt = self.tasks[index + 1] if index + 1 < len(self.tasks) else None
        if nxt is not None:
            reason = f"task {task.name!r} done; task {nxt.name!r} is next"
            return [route(task.agent, nxt.agent, reason, task=nxt.name)]
        return self._last(task, f"last task {task.name!r} done")

    def _parallel_hand_off(self, task: TaskSpec) -> list[Event]:
        final = self.scenario.task(fan_in_task(self.scenario) or "")
        if task.name == final.name:
            return [route(task.agent, END, f"fan-in task {final.name!r} done")]
        reason = f"task {task.name!r} done; fan-in to task {final.name!r}"
        return [route(task.agent, final.agent, reason, task=final.name)]

    def stop_events(self) -> list[Event]:
        """The warning written when `team.max_turns` stopped a parallel run before its fan-in."""
        if not (self.parallel and self.stopped_before):
            return []
        warning = max_turns_warning(self.scenario, self.stopped_before)
        warning.update(branches_run=len(self.tasks), branches=len(self.scenario.tasks) - 1)
        return [warning]

    def _last(self, task: TaskSpec, reason: str) -> list[Event]:
        if self.stopped_before:
            warning = max_turns_warning(self.scenario, self.stopped_before)
            return [warning, route(task.agent, END, "team.max_turns reached")]
        return [route(task.agent, END, reason)]
