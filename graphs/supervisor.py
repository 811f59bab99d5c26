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

from graphs.state import Build, TeamState, agent_turn, call_model
from team import rules
from team.events import Event, route
from team.prompting import member_summary, system_prompt, transcript, work_summary
from team.rules import FINISH
from team.turn import first_json_object


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


def structured(model: BaseChatModel, members: list[str]) -> Runnable | None:
    """The model bound to the route schema, or None if it has no structured output."""
    try:
        schema = rules.route_schema(members)
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
        steps, turns = state.get("route_steps", 0), state.get("turns_taken", 0)
        stop = rules.supervisor_limits(b.scenario, steps, turns)
        if stop is not None:
            return _end(stop[1])
        messages = [SystemMessage(system), HumanMessage(supervisor_prompt(b, members, state))]
        choice, raw = decide(model, bound, messages, boss)
        steps = state.get("route_steps", 0) + 1
        return {"route_steps": steps, **_follow(choice, raw, boss, members)}

    return run


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
        return _end([rules.finished(boss, reason)])
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
    event, feedback = rules.refused_choice(choice, raw, boss, allowed[:-1])
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
