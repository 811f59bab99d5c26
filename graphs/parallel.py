"""Parallel topology: independent tasks fan out concurrently, then one task fans in.

START sends (LangGraph `Send`) one branch per independent task the plan runs; all branches
run in the same step, concurrently; the fan-in task then runs once and sees every branch's
output. Which branches run, and where `team.max_turns` stops, is `team.plan.TaskPlan`.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from graphs.state import Build, TeamState, agent_turn
from scenarios.spec import TaskSpec
from team.plan import TaskPlan
from team.prompting import system_prompt, task_prompt
from team.validate import fan_in_task


def build(b: Build) -> StateGraph:
    """The parallel graph: START -> branches (Send) -> fan-in task -> END."""
    plan = TaskPlan.of(b.scenario)
    final = b.scenario.task(fan_in_task(b.scenario) or "")
    branches = [t for t in b.scenario.tasks if t.name != final.name]
    graph = StateGraph(TeamState)
    for task in branches:
        graph.add_node(task.name, branch_node(b, task, plan), metadata={"agent": task.agent})
        graph.add_edge(task.name, final.name)
    graph.add_node(final.name, fan_in_node(b, final, plan), metadata={"agent": final.agent})
    graph.add_conditional_edges(START, fan_out(plan), [t.name for t in branches])
    graph.add_edge(final.name, END)
    return graph


def fan_out(plan: TaskPlan) -> Callable[[TeamState], list[Send]]:
    """The START router: one `Send` per branch the plan runs."""
    sent = plan.branch_tasks

    def send(_state: TeamState) -> list[Send]:
        return [Send(task.name, {}) for task in sent]

    return send


def branch_node(b: Build, task: TaskSpec, plan: TaskPlan) -> Callable[[TeamState], dict]:
    """A node that runs one independent task (it reads no other task's output)."""
    model = b.model(task.agent)
    system = system_prompt(b.scenario.agent(task.agent), b.inputs)

    def run(_state: TeamState) -> dict:
        messages = [SystemMessage(system), HumanMessage(task_prompt(task, b.inputs, {}))]
        text, turn = agent_turn(model, messages, task.agent, task.name, b.scenario)
        return {
            "task_outputs": {task.name: text},
            "turns_taken": 1,
            "trace_events": [*turn, *plan.hand_off(task.name)],
        }

    return run


def fan_in_node(b: Build, final: TaskSpec, plan: TaskPlan) -> Callable[[TeamState], dict]:
    """The node that runs the fan-in task on every branch output, or stops if the plan does."""
    model = b.model(final.agent)
    system = system_prompt(b.scenario.agent(final.agent), b.inputs)

    def run(state: TeamState) -> dict:
        outputs = state.get("task_outputs", {})
        done = {t.name: outputs[t.name] for t in plan.branch_tasks if t.name in outputs}
        if plan.fan_in() is None:  # team.max_turns stopped the run before the fan-in
            last = list(done.values())[-1] if done else ""
            return {"final_output": last, "trace_events": plan.stop_events(len(done))}
        messages = [SystemMessage(system), HumanMessage(task_prompt(final, b.inputs, done))]
        text, turn = agent_turn(model, messages, final.agent, final.name, b.scenario)
        return {
            "task_outputs": {final.name: text},
            "turns_taken": 1,
            "final_output": text,
            "trace_events": [*turn, *plan.hand_off(final.name)],
        }

    return run
