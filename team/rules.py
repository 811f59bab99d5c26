"""The rules of each topology, with every route reason and warning text, written once.

Each rule is a function of the scenario and of plain counts (turns taken, revisions done,
routing steps), so LangGraph's nodes and the AutoGen and CrewAI tracers apply the very
same rule to the same situation. A rule returns where the run goes next (an agent or task
name, or `END`) and the events that say so.
"""

from __future__ import annotations

from typing import Any

from scenarios.spec import Scenario, TaskSpec, TeamSpec
from team.events import END, Event, route, warning

FINISH = "FINISH"  # the supervisor's choice that ends the run
DEFAULT_APPROVAL = "APPROVED"  # the critic's phrase when team.termination is unset
TURN_CAP_REACHED = "team.max_turns reached"

Step = tuple[str, list[Event]]  # where the run goes next, and the events that say so


# --- the turn cap, shared by every topology ----------------------------------------------


def out_of_turns(team: TeamSpec, turns_taken: int, taken: int = 0) -> bool:
    """Whether `team.max_turns` is used up (counting `taken` turns not yet counted)."""
    return turns_taken + taken >= team.max_turns


def max_turns_warning(scenario: Scenario, stopped_before: str, **numbers: Any) -> Event:
    """The warning written when the turn cap stops a run before `stopped_before`."""
    cap = scenario.team.max_turns
    return warning(
        "max_turns_reached",
        f"stopped before {stopped_before}: team.max_turns ({cap}) turns taken; "
        "raise team.max_turns to let the team finish",
        max_turns=cap,
        **numbers,
    )


def turn_cap_stop(scenario: Scenario, source: str, stopped_before: str) -> Step:
    """The end of a run cut by the turn cap: its warning, and `source` routing to END."""
    return END, [max_turns_warning(scenario, stopped_before), route(source, END, TURN_CAP_REACHED)]


# --- sequential and parallel: tasks -------------------------------------------------------


def next_task(task: TaskSpec, nxt: TaskSpec) -> Event:
    """The hand-off from a finished task to the next one."""
    reason = f"task {task.name!r} done; task {nxt.name!r} is next"
    return route(task.agent, nxt.agent, reason, task=nxt.name)


def last_task_done(task: TaskSpec, source: str | None = None) -> Event:
    """The end of a run whose last task is done (routed from `source`, else its agent)."""
    return route(source or task.agent, END, f"last task {task.name!r} done")


def to_fan_in(task: TaskSpec, final: TaskSpec) -> Event:
    """A parallel branch's hand-off to the fan-in task."""
    reason = f"task {task.name!r} done; fan-in to task {final.name!r}"
    return route(task.agent, final.agent, reason, task=final.name)


def fan_in_done(final: TaskSpec) -> Event:
    """The end of a parallel run whose fan-in task is done."""
    return route(final.agent, END, f"fan-in task {final.name!r} done")


# --- round robin: a group chat ------------------------------------------------------------


def speaking_order(scenario: Scenario) -> list[str]:
    """`team.order`, or every agent in file order."""
    return list(scenario.team.order or [a.name for a in scenario.agents])


def chat_turn_cap(scenario: Scenario) -> int:
    """The most messages a group chat may hold: its rounds, or the turn cap if smaller."""
    team = scenario.team
    return min(team.max_rounds * len(speaking_order(scenario)), team.max_turns)


def said_termination(scenario: Scenario, text: str) -> bool:
    """Whether a chat message says `team.termination` (case-sensitive)."""
    phrase = scenario.team.termination
    return bool(phrase) and phrase in text


def next_speaker(scenario: Scenario, name: str, text: str, spoken: int, turns_taken: int) -> Step:
    """After chat message number `spoken` by `name`: the phrase, the limits, or the next turn."""
    team, order = scenario.team, speaking_order(scenario)
    if said_termination(scenario, text):
        return END, [route(name, END, f"termination phrase {team.termination!r} said")]
    if spoken >= team.max_rounds * len(order):
        message = f"the chat ran team.max_rounds ({team.max_rounds}) rounds"
        if team.termination:
            message += f" and no one said {team.termination!r}; raise team.max_rounds"
        event = warning("max_rounds_reached", message, max_rounds=team.max_rounds)
        return END, [event, route(name, END, "team.max_rounds reached")]
    nxt = order[spoken % len(order)]
    if out_of_turns(team, turns_taken, taken=1):
        return turn_cap_stop(scenario, name, f"{nxt!r} could speak")
    reason = f"round {spoken // len(order) + 1}: {nxt!r} speaks next in team.order"
    return nxt, [route(name, nxt, reason)]


def chat_output(scenario: Scenario, text: str, earlier: list[tuple[str, str]]) -> str:
    """A chat's output: the message without the phrase (or the one before, if none is left)."""
    phrase = scenario.team.termination
    if not phrase or phrase not in text:
        return text
    stripped = text.replace(phrase, "").strip()
    return stripped or (earlier[-1][1] if earlier else "")


# --- reflection: a producer and a critic ---------------------------------------------------


def approval(scenario: Scenario) -> str:
    """The phrase with which the critic approves."""
    return scenario.team.termination or DEFAULT_APPROVAL


def approved(scenario: Scenario, text: str) -> bool:
    """Whether the critic's review approves the draft."""
    return approval(scenario) in text


def own_task(scenario: Scenario, agent: str) -> TaskSpec | None:
    """The agent's first task, if it has one."""
    return next((t for t in scenario.tasks if t.agent == agent), None)


def review_turns(scenario: Scenario) -> int:
    """The turns a reflection loop takes when the critic never approves: drafts and reviews."""
    return 2 * (scenario.team.max_revisions + 1)


def review_turn_cap(scenario: Scenario) -> int:
    """The most turns a reflection loop may take: its drafts and reviews, or the turn cap."""
    return min(review_turns(scenario), scenario.team.max_turns)


def to_review(scenario: Scenario, turns_taken: int, revisions_done: int) -> Step:
    """After a draft: to the critic, unless the turn cap is reached."""
    team = scenario.team
    producer, critic = team.producer or "", team.critic or ""
    if out_of_turns(team, turns_taken, taken=1):
        return turn_cap_stop(scenario, producer, f"review by {critic!r}")
    what = f"revision {revisions_done}" if revisions_done else "draft"
    return critic, [route(producer, critic, f"{what} ready for review")]


def verdict(scenario: Scenario, text: str, turns_taken: int, revisions_done: int) -> Step:
    """After a review: approved, out of revisions, out of turns, or revise."""
    team = scenario.team
    producer, critic, limit = team.producer or "", team.critic or "", team.max_revisions
    if approved(scenario, text):
        return END, [route(critic, END, f"critic approved (said {approval(scenario)!r})")]
    if revisions_done >= limit:
        message = (
            f"critic {critic!r} did not approve after team.max_revisions ({limit}) "
            "revisions; the last draft is the output (raise team.max_revisions)"
        )
        event = warning("max_revisions_reached", message, max_revisions=limit)
        return END, [event, route(critic, END, "team.max_revisions reached")]
    if out_of_turns(team, turns_taken, taken=1):
        return turn_cap_stop(scenario, critic, f"revision by {producer!r}")
    return producer, [route(critic, producer, f"revise ({revisions_done + 1} of {limit})")]


# --- supervisor: a router and its members --------------------------------------------------


def supervisor_step_cap(scenario: Scenario) -> int:
    """The most routing decisions a supervisor may make: max_steps, or the turn cap."""
    return min(scenario.team.max_steps, scenario.team.max_turns)


def supervisor_limits(scenario: Scenario, route_steps: int, turns_taken: int) -> Step | None:
    """The end of a supervised run at `max_steps` or `max_turns`, else None (route on)."""
    team = scenario.team
    if route_steps >= team.max_steps:
        return steps_used_up(scenario)
    if out_of_turns(team, turns_taken):
        return supervisor_turn_cap(scenario)
    return None


def steps_used_up(scenario: Scenario) -> Step:
    """The end of a run whose supervisor made team.max_steps decisions without FINISH."""
    team, boss = scenario.team, scenario.team.supervisor or ""
    message = (
        f"supervisor {boss!r} made team.max_steps ({team.max_steps}) routing decisions "
        "without FINISH; raise team.max_steps or sharpen the tasks"
    )
    event = warning("max_steps_reached", message, max_steps=team.max_steps)
    return END, [event, route(boss, END, "team.max_steps reached")]


def supervisor_turn_cap(scenario: Scenario) -> Step:
    """The end of a supervised run cut by the turn cap."""
    boss = scenario.team.supervisor or ""
    return turn_cap_stop(scenario, boss, f"supervisor {boss!r} could route again")


def route_schema(members: list[str]) -> dict[str, Any]:
    """The JSON schema the supervisor's answer must follow."""
    return {
        "title": "route",
        "description": "Who acts next, why, and what they should do.",
        "type": "object",
        "properties": {
            "next": {"type": "string", "enum": [*members, FINISH]},
            "reason": {"type": "string"},
            "instruction": {"type": "string"},
        },
        "required": ["next", "reason", "instruction"],
        "additionalProperties": False,
    }


def finished(boss: str, reason: str = "") -> Event:
    """The supervisor chose FINISH: the run ends."""
    return route(boss, END, reason or "supervisor chose FINISH")


def refused_choice(
    choice: dict[str, Any] | None, raw: str, boss: str, members: list[str]
) -> tuple[Event, str]:
    """An unusable supervisor answer: its `invalid_route` warning, and the feedback to send."""
    allowed = [*members, FINISH]
    picked = choice.get("next") if choice else None
    if choice is None:
        what = "gave no readable JSON choice"
    elif picked is None:
        what = "gave JSON without a 'next' field"
    else:
        what = f"chose {picked!r}"
    message = f"supervisor {boss!r} {what}; allowed: {', '.join(allowed)}"
    event = warning("invalid_route", message, choice=picked, raw=raw[:500])
    feedback = f"Your last answer was refused: you {what}. Choose one of: {', '.join(allowed)}."
    return event, feedback
