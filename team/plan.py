"""Which tasks a task-based team (sequential, parallel) runs, and the hand-offs between them.

One plan for every framework: LangGraph's nodes, CrewAI's crew and AutoGen's graph flow run
the same tasks, in the same order, and write the same `route` and `warning` events, with
the same limit: `team.max_turns` cuts the run at the same task.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scenarios.spec import Scenario, TaskSpec
from team import rules
from team.events import END, Event
from team.order import known_context, topological_order
from team.validate import fan_in_task


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

    def next_after(self, task_name: str) -> rules.Step:
        """Where the run goes once `task_name` is done (a task name, or END), and the events."""
        index = [t.name for t in self.tasks].index(task_name)
        task = self.tasks[index]
        if self.parallel:
            return self._parallel_hand_off(task)
        nxt = self.tasks[index + 1] if index + 1 < len(self.tasks) else None
        if nxt is not None:
            return nxt.name, [rules.next_task(task, nxt)]
        if self.stopped_before:
            return rules.turn_cap_stop(self.scenario, task.agent, self.stopped_before)
        return END, [rules.last_task_done(task)]

    def hand_off(self, task_name: str) -> list[Event]:
        """The route (and warning) events written once `task_name` is done."""
        return self.next_after(task_name)[1]

    def _parallel_hand_off(self, task: TaskSpec) -> rules.Step:
        final = self.scenario.task(fan_in_task(self.scenario) or "")
        if task.name == final.name:
            return END, [rules.fan_in_done(final)]
        return final.name, [rules.to_fan_in(task, final)]

    def stop_events(self, branches_run: int | None = None) -> list[Event]:
        """The warning written when `team.max_turns` stopped a parallel run before its fan-in.

        `branches_run` is how many branches finished (all the plan runs, unless given).
        """
        if not (self.parallel and self.stopped_before):
            return []
        done = len(self.tasks) if branches_run is None else branches_run
        branches = len(self.scenario.tasks) - 1
        warning = rules.max_turns_warning(
            self.scenario, self.stopped_before, branches_run=done, branches=branches
        )
        return [warning]

    @property
    def branch_tasks(self) -> list[TaskSpec]:
        """The branches the plan runs, in file order (parallel topology)."""
        return [t for t in self.tasks if t.name in self.branches]
