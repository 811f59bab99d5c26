"""Reflection topology: a producer drafts, a critic reviews, the producer revises.

The loop ends when the critic's message contains `team.termination` ("APPROVED" when
unset) or after `team.max_revisions` revisions. The final output is the last draft.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph

from graphs.state import Build, TeamState, agent_turn, node
from scenarios.spec import TaskSpec
from team import rules
from team.prompting import system_prompt, task_prompt


def build(b: Build) -> StateGraph:
    """The loop: START -> producer -> critic -> producer (revise) or END (approved)."""
    producer, critic = b.scenario.team.producer or "", b.scenario.team.critic or ""
    graph = StateGraph(TeamState)
    graph.add_node(producer, producer_node(b, producer, critic), metadata={"role": "producer"})
    graph.add_node(critic, critic_node(b, producer, critic), metadata={"role": "critic"})
    graph.add_edge(START, producer)
    if rules.review_turn_cap(b.scenario) == rules.review_turns(b.scenario):
        graph.add_edge(producer, critic)  # the turn cap can never stop a producer
    else:
        graph.add_conditional_edges(producer, lambda s: s["next_node"], [critic, END])
    graph.add_conditional_edges(critic, lambda s: s["next_node"], [producer, END])
    return graph


def producer_messages(
    b: Build, task: TaskSpec, system: str, state: TeamState, critic: str
) -> list[BaseMessage]:
    """The task, and on a revision the last draft and the critique of it."""
    messages: list[BaseMessage] = [
        SystemMessage(system),
        HumanMessage(task_prompt(task, b.inputs, {})),
    ]
    critique = state.get("feedback_text")
    if critique:
        messages.append(AIMessage(state.get("final_output", "")))
        messages.append(
            HumanMessage(
                f"Critique from {critic}:\n{critique}\n\n"
                "Revise your draft accordingly. Reply with the full revised text only."
            )
        )
    return messages


def producer_node(b: Build, producer: str, critic: str) -> Callable[[TeamState], dict]:
    """The producer's node: a draft, or a revision of the last one."""
    model = b.model(producer)
    task = rules.own_task(b.scenario, producer)
    assert task is not None, "validate() guarantees the producer has a task"
    system = system_prompt(b.scenario.agent(producer), b.inputs)

    def run(state: TeamState) -> dict:
        messages = producer_messages(b, task, system, state, critic)
        text, turn = agent_turn(model, messages, producer, task.name, b.scenario)
        turns, revisions = state.get("turns_taken", 0), state.get("revisions_done", 0)
        target, events = rules.to_review(b.scenario, turns, revisions)
        update = {"turns_taken": 1, "final_output": text, "next_node": node(target)}
        return {**update, "trace_events": [*turn, *events]}

    return run


def review_prompt(b: Build, producer_task: TaskSpec, draft: str, criteria: TaskSpec | None) -> str:
    """What the critic reads: the task, its own review criteria if any, and the draft."""
    parts = [
        f"Review this draft for the task below.\n\nTask:\n"
        f"{task_prompt(producer_task, b.inputs, {})}"
    ]
    if criteria is not None:
        parts.append(f"Review criteria:\n{task_prompt(criteria, b.inputs, {})}")
    parts.append(f"Draft:\n{draft}")
    parts.append(
        f"If the draft is good enough, reply with {rules.approval(b.scenario)} only. "
        "Otherwise list at most three concrete changes."
    )
    return "\n\n".join(parts)


def critic_node(b: Build, producer: str, critic: str) -> Callable[[TeamState], dict]:
    """The critic's node: approve (end) or ask for a revision (within the limits)."""
    model = b.model(critic)
    producer_task = rules.own_task(b.scenario, producer)
    criteria = rules.own_task(b.scenario, critic)
    assert producer_task is not None, "validate() guarantees the producer has a task"
    system = system_prompt(b.scenario.agent(critic), b.inputs, default="critic")

    def run(state: TeamState) -> dict:
        prompt = review_prompt(b, producer_task, state.get("final_output", ""), criteria)
        messages = [SystemMessage(system), HumanMessage(prompt)]
        task = criteria.name if criteria else None
        text, turn = agent_turn(model, messages, critic, task, b.scenario)
        turns, revisions = state.get("turns_taken", 0), state.get("revisions_done", 0)
        target, events = rules.verdict(b.scenario, text, turns, revisions)
        update = {"turns_taken": 1, "trace_events": [*turn, *events], "next_node": node(target)}
        if target == producer:
            update |= {"revisions_done": revisions + 1, "feedback_text": text}
        return update

    return run
