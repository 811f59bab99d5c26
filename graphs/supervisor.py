"""Supervisor topology: a routing agent picks the next member, or FINISH.

The supervisor's answer is constrained by structured output (a JSON schema whose `next`
is an enum of the members' names and FINISH). Models without structured output (test
fakes) are asked for the same JSON in text, which is parsed. An invalid answer is a
`warning` and costs a routing step; after `team.max_steps` steps the run ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from langgraph.graph import END, START, StateGraph

from graphs.prompting import member_summary, system_prompt, transcript, work_summary
from graphs.state import (
    Build,
    Event,
    TeamState,
    agent_turn,
    call_model,
    max_turns_warning,
    out_of_turns,
    route,
    warning,
)
from graphs.tooling import first_json_object

FINISH = "FINISH"


def build(b: Build) -> StateGraph:
    """The supervisor graph: START -> supervisor <-> members; supervisor -> END."""
    boss = b.scenario.team.supervisor or ""
    members = [a.name for a in b.scenario.agents if a.name != boss]
    graph = StateGraph(TeamState)
    graph.add_node(boss, supervisor_node(b, boss, members), metadata={"role": "supervisor"})
    for name in members:
        graph.add_node(name, member_node(b, name), metadata={"role": "member"})
        graph.add_edge(name, boss)
    graph.add_edge(START, boss)
    graph.add_conditional_edges(boss, lambda s: s["next_node"], [*members, boss, END])
    return graph


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


def structured(model: BaseChatModel, members: list[str]) -> Runnable | None:
    """The model bound to the route schema, or None if it has no structured output."""
    try:
        schema = route_schema(members)
        return model.with_structured_output(schema, method="json_schema", include_raw=True)
    except NotImplementedError:
        return None


def decide(
    model: BaseChatModel, bound: Runnable | None, messages: list[BaseMessage], boss: str
) -> tuple[dict[str, Any] | None, str]:
    """Ask the supervisor; its parsed choice (None if unreadable) and its raw text."""
    if bound is None:
        reply = call_model(model, messages, boss)
        return first_json_object(reply.text), reply.text
    result = call_model(bound, messages, boss)
    parsed = result.get("parsed")
    return (parsed if isinstance(parsed, dict) else None), result["raw"].text


def supervisor_node(b: Build, boss: str, members: list[str]) -> Callable[[TeamState], dict]:
    """The routing node: stop at the limits, else ask the supervisor for the next member."""
    model = b.model(boss)
    bound = structured(model, members)
    system = system_prompt(b.scenario.agent(boss), b.inputs, default="supervisor")

    def run(state: TeamState) -> dict:
        stop = _limits(b, state, boss)
        if stop is not None:
            return stop
        messages = [SystemMessage(system), HumanMessage(supervisor_prompt(b, members, state))]
        choice, raw = decide(model, bound, messages, boss)
        steps = state.get("route_steps", 0) + 1
        return {"route_steps": steps, **_follow(choice, raw, boss, members)}

    return run


def _limits(b: Build, state: TeamState, boss: str) -> dict | None:
    """The update that ends the run at `max_steps` or `max_turns`, else None."""
    team = b.scenario.team
    if state.get("route_steps", 0) >= team.max_steps:
        message = (
            f"supervisor {boss!r} made team.max_steps ({team.max_steps}) routing decisions "
            "without FINISH; raise team.max_steps or sharpen the tasks"
        )
        event = warning("max_steps_reached", message, max_steps=team.max_steps)
        return _end([event, route(boss, END, "team.max_steps reached")])
    if out_of_turns(state, b.scenario):
        event = max_turns_warning(b.scenario, f"supervisor {boss!r} could route again")
        return _end([event, route(boss, END, "team.max_turns reached")])
    return None


def _end(events: list[Event]) -> dict:
    return {"trace_events": events, "next_node": END}


def _follow(choice: dict[str, Any] | None, raw: str, boss: str, members: list[str]) -> dict:
    """The update for one supervisor answer: a member, FINISH, or a refused answer."""
    allowed = [*members, FINISH]
    picked = choice.get("next") if choice else None
    if picked not in allowed:
        return _refused(choice, raw, boss, allowed)
    reason = str(choice.get("reason", "")) if choice else ""
    if picked == FINISH:
        return _end([route(boss, END, reason or "supervisor chose FINISH")])
    instruction = str(choice.get("instruction", "")) if choice else ""
    event = route(boss, str(picked), reason, instruction=instruction)
    return {
        "trace_events": [event],
        "next_node": picked,
        "member_instruction": instruction,
        "feedback_text": "",
    }


def _refused(choice: dict[str, Any] | None, raw: str, boss: str, allowed: list[str]) -> dict:
    """An invalid choice: a warning, and the supervisor is asked again."""
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
    return {"trace_events": [event], "next_node": boss, "feedback_text": feedback}


def supervisor_prompt(b: Build, members: list[str], state: TeamState) -> str:
    """What the supervisor reads before each decision."""
    done = transcript(state.get("chat_log", [])) or "(nothing yet)"
    choices = ", ".join([*members, FINISH])
    parts = [
        f"The team's work:\n{work_summary(b.scenario, b.inputs)}",
        f"Team members:\n{member_summary(b.scenario, members, b.inputs)}",
        f"Work so far:\n{done}",
        state.get("feedback_text", ""),
        "Decide who acts next, or FINISH when the work is complete. Reply with JSON only: "
        f'{{"next": "<one of: {choices}>", "reason": "<why>", '
        '"instruction": "<what that member should do now>"}',
    ]
    return "\n\n".join(p for p in parts if p)


def member_node(b: Build, name: str) -> Callable[[TeamState], dict]:
    """A member's node: it does what the supervisor asked, seeing the work so far."""
    model = b.model(name)
    system = system_prompt(b.scenario.agent(name), b.inputs)

    def run(state: TeamState) -> dict:
        messages = [SystemMessage(system), HumanMessage(member_prompt(b, name, state))]
        text, turn = agent_turn(model, messages, name, None, b.scenario)
        return {
            "chat_log": [(name, text)],
            "turns_taken": 1,
            "final_output": text,
            "trace_events": turn,
        }

    return run


def member_prompt(b: Build, name: str, state: TeamState) -> str:
    """What a member reads: the supervisor's instruction, the work, the work so far."""
    done = transcript(state.get("chat_log", []))
    parts = [
        f"The supervisor asks you ({name}): {state.get('member_instruction', '')}".strip(),
        f"The team's work (task, with the member meant for it):\n"
        f"{work_summary(b.scenario, b.inputs)}",
        f"Work so far:\n{done}" if done else "",
    ]
    return "\n\n".join(p for p in parts if p)
