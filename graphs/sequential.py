"""Sequential topology: the tasks run one after another in dependency order.

Each task is a node (named after the task); its prompt carries the outputs of the tasks in
its `context`. The final output is the last task's output. Which task follows, and where
`team.max_turns` ends the run, is the team's plan (`team.plan.TaskPlan`).
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph

from graphs.state import Build, TeamState, agent_turn, node
from scenarios.spec import TaskSpec
from team.order import known_context, topological_order
from team.plan import TaskPlan
from team.prompting import system_prompt, task_prompt


def build(b: Build) -> StateGraph:
    """The sequential graph: START -> first task -> ... -> last task -> END.

    Where `team.max_turns` is smaller than the number of tasks, each hand-off may also end
    the run, so those edges are conditional.
    """
    graph = StateGraph(TeamState)
    order = topological_order(b.scenario.tasks)
    plan = TaskPlan.of(b.scenario)
    can_stop_early = b.scenario.team.max_turns < len(order)  # one turn per task
    for i, task in enumerate(order):
        nxt = order[i + 1] if i + 1 < len(order) else None
        graph.add_node(task.name, task_node(b, task, plan), metadata={"agent": task.agent})
        if nxt is not None and can_stop_early:
            graph.add_conditional_edges(task.name, _next_node, [nxt.name, END])
        else:
            graph.add_edge(task.name, nxt.name if nxt else END)
    graph.add_edge(START, order[0].name)
    return graph


def _next_node(state: TeamState) -> str:
    return state["next_node"]


def task_node(b: Build, task: TaskSpec, plan: TaskPlan) -> Callable[[TeamState], dict]:
    """A node that runs one task with its agent, then hands off as the plan says."""
    model = b.model(task.agent)
    system = system_prompt(b.scenario.agent(task.agent), b.inputs)
    deps = known_context(b.scenario.tasks, task)

    def run(state: TeamState) -> dict:
        outputs = state.get("task_outputs", {})
        prompt = task_prompt(task, b.inputs, {d: outputs[d] for d in deps})
        messages = [SystemMessage(system), HumanMessage(prompt)]
        text, turn = agent_turn(model, messages, task.agent, task.name, b.scenario)
        target, events = plan.next_after(task.name)
        return {
            "task_outputs": {task.name: text},
            "turns_taken": 1,
            "final_output": text,
            "trace_events": [*turn, *events],
            "next_node": node(target),
        }

    return run
