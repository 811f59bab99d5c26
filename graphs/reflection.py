"""Reflection topology: a producer drafts, a critic reviews, the producer revises.

The loop ends when the critic's message contains `team.termination` ("APPROVED" when
unset) or after `team.max_revisions` revisions. The final output is the last draft.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph

from graphs.prompting import system_prompt, task_prompt
from graphs.state import (
    Build,
    Event,
    TeamState,
    agent_turn,
    max_turns_warning,
    out_of_turns,
    route,
    warning,
)
from scenarios.spec import TaskSpec

DEFAULT_APPROVAL = "APPROVED"


def approval(b: Build) -> str:
    """The phrase with which the critic approves."""
    return b.scenario.team.termination or DEFAULT_APPROVAL


def own_task(b: Build, agent: str) -> TaskSpec | None:
    """The agent's first task, if it has one."""
    return next((t for t in b.scenario.tasks if t.agent == agent), None)


def build(b: Build) -> StateGraph:
    """The loop: START -> producer -> critic -> producer (revise) or END (approved)."""
    producer, critic = b.scenario.team.producer or "", b.scenario.team.critic or ""
    graph = StateGraph(TeamState)
    graph.add_node(producer, producer_node(b, producer, critic), metadata={"role": "producer"})
    graph.add_node(critic, critic_node(b, producer, critic), metadata={"role": "critic"})
    graph.add_edge(START, producer)
    if b.scenario.team.max_turns >= 2 * (b.scenario.team.max_revisions + 1):
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
    task = own_task(b, producer)
    assert task is not None, "validate() guarantees the producer has a task"
    system = system_prompt(b.scenario.agent(producer), b.inputs)

    def run(state: TeamState) -> dict:
        messages = producer_messages(b, task, system, state, critic)
        text, turn = agent_turn(model, messages, producer, task.name, b.scenario)
        target, events = to_review(b, state, producer, critic)
        update = {"turns_taken": 1, "final_output": text, "next_node": target}
        return {**update, "trace_events": [*turn, *events]}

    return run


def to_review(b: Build, state: TeamState, producer: str, critic: str) -> tuple[str, list[Event]]:
    """After a draft: to the critic, unless the turn cap is reached."""
    if out_of_turns(state, b.scenario, taken=1):
        event = max_turns_warning(b.scenario, f"review by {critic!r}")
        return END, [event, route(producer, END, "team.max_turns reached")]
    revision = state.get("revisions_done", 0)
    what = f"revision {revision}" if revision else "draft"
    return critic, [route(producer, critic, f"{what} ready for review")]


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
        f"If the draft is good enough, reply with {approval(b)} only. "
        "Otherwise list at most three concrete changes."
    )
    return "\n\n".join(parts)


def critic_node(b: Build, producer: str, critic: str) -> Callable[[TeamState], dict]:
    """The critic's node: approve (end) or ask for a revision (within the limits)."""
    model = b.model(critic)
    producer_task, criteria = own_task(b, producer), own_task(b, critic)
    assert producer_task is not None, "validate() guarantees the producer has a task"
    system = system_prompt(b.scenario.agent(critic), b.inputs, default="critic")

    def run(state: TeamState) -> dict:
        prompt = review_prompt(b, producer_task, state.get("final_output", ""), criteria)
        messages = [SystemMessage(system), HumanMessage(prompt)]
        task = criteria.name if criteria else None
        text, turn = agent_turn(model, messages, critic, task, b.scenario)
        target, events, update = verdict(b, state, producer, critic, text)
        return {**update, "turns_taken": 1, "trace_events": [*turn, *events], "next_node": target}

    return run


def verdict(
    b: Build, state: TeamState, producer: str, critic: str, text: str
) -> tuple[str, list[Event], dict]:
    """After a review: approved, out of revisions, out of turns, or revise."""
    limit = b.scenario.team.max_revisions
    done = state.get("revisions_done", 0)
    if approval(b) in text:
        return END, [route(critic, END, f"critic approved (said {approval(b)!r})")], {}
    if done >= limit:
        message = (
            f"critic {critic!r} did not approve after team.max_revisions ({limit}) "
            "revisions; the last draft is the output (raise team.max_revisions)"
        )
        event = warning("max_revisions_reached", message, max_revisions=limit)
        return END, [event, route(critic, END, "team.max_revisions reached")], {}
    if out_of_turns(state, b.scenario, taken=1):
        event = max_turns_warning(b.scenario, f"revision by {producer!r}")
        return END, [event, route(critic, END, "team.max_turns reached")], {}
    reason = f"revise ({done + 1} of {limit})"
    update = {"revisions_done": done + 1, "feedback_text": text}
    return producer, [route(critic, producer, reason)], update
