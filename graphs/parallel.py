"""Parallel topology: independent tasks fan out concurrently, then one task fans in.

START sends (LangGraph `Send`) one branch per independent task; all branches run in the
same step, concurrently; the fan-in task then runs once and sees every branch's output.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from graphs.prompting import system_prompt, task_prompt
from graphs.state import Build, TeamState, agent_turn, max_turns_warning, route
from graphs.validate import fan_in_task
from scenarios.spec import TaskSpec


def build(b: Build) -> StateGraph:
    """The parallel graph: START -> branches (Send) -> fan-in task -> END."""
    final = b.scenario.task(fan_in_task(b.scenario) or "")
    branches = [t for t in b.scenario.tasks if t.name != final.name]
    graph = StateGraph(TeamState)
    for task in branches:
        graph.add_node(task.name, branch_node(b, task, final), metadata={"agent": task.agent})
        graph.add_edge(task.name, final.name)
    graph.add_node(final.name, fan_in_node(b, final, branches), metadata={"agent": final.agent})
    graph.add_conditional_edges(START, fan_out(b, branches), [t.name for t in branches])
    graph.add_edge(final.name, END)
    return graph


def fan_out(b: Build, branches: list[TaskSpec]) -> Callable[[TeamState], list[Send]]:
    """The START router: one `Send` per branch, as many as `team.max_turns` allows."""
    sent = branches[: b.scenario.team.max_turns]

    def send(_state: TeamState) -> list[Send]:
        return [Send(task.name, {}) for task in sent]

    return send


def branch_node(b: Build, task: TaskSpec, final: TaskSpec) -> Callable[[TeamState], dict]:
    """A node that runs one independent task (it reads no other task's output)."""
    model = b.model(task.agent)
    system = system_prompt(b.scenario.agent(task.agent), b.inputs)

    def run(_state: TeamState) -> dict:
        messages = [SystemMessage(system), HumanMessage(task_prompt(task, b.inputs, {}))]
        text, turn = agent_turn(model, messages, task.agent, task.name, b.scenario)
        reason = f"task {task.name!r} done; fan-in to task {final.name!r}"
        return {
            "task_outputs": {task.name: text},
            "turns_taken": 1,
            "trace_events": [*turn, route(task.agent, final.agent, reason, task=final.name)],
        }

    return run


def fan_in_node(b: Build, final: TaskSpec, branches: list[TaskSpec]) -> Callable[[TeamState], dict]:
    """The node that runs the fan-in task on every branch output, or stops if out of turns."""
    model = b.model(final.agent)
    system = system_prompt(b.scenario.agent(final.agent), b.inputs)

    def run(state: TeamState) -> dict:
        outputs = state.get("task_outputs", {})
        done = {t.name: outputs[t.name] for t in branches if t.name in outputs}
        if len(done) < len(branches) or len(done) >= b.scenario.team.max_turns:
            return _stopped(b, final, done, len(branches))
        messages = [SystemMessage(system), HumanMessage(task_prompt(final, b.inputs, done))]
        text, turn = agent_turn(model, messages, final.agent, final.name, b.scenario)
        ended = route(final.agent, END, f"fan-in task {final.name!r} done")
        return {
            "task_outputs": {final.name: text},
            "turns_taken": 1,
            "final_output": text,
            "trace_events": [*turn, ended],
        }

    return run


def _stopped(b: Build, final: TaskSpec, done: dict[str, str], branches: int) -> dict:
    """Out of turns before the fan-in: the last branch output is the final output."""
    warning = max_turns_warning(b.scenario, f"task {final.name!r}")
    warning.update(branches_run=len(done), branches=branches)
    last = list(done.values())[-1] if done else ""
    return {"final_output": last, "trace_events": [warning]}
