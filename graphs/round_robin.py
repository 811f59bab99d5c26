"""Round-robin topology: a group chat where the agents speak in `team.order`, in turn.

The first task's description opens the chat. Each speaker sees the whole transcript (its
own messages as its own, the others' as named user messages). The chat ends when a
message contains `team.termination` (case-sensitive) or after `team.max_rounds` rounds.
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


def speaking_order(b: Build) -> list[str]:
    """`team.order`, or every agent in file order."""
    return list(b.scenario.team.order or [a.name for a in b.scenario.agents])


def build(b: Build) -> StateGraph:
    """The chat graph: START -> first speaker; each speaker -> next speaker or END."""
    order = speaking_order(b)
    speakers = list(dict.fromkeys(order))
    graph = StateGraph(TeamState)
    for name in speakers:
        graph.add_node(name, speaker_node(b, name, order))
        graph.add_conditional_edges(name, lambda s: s["next_node"], [*speakers, END])
    graph.add_edge(START, order[0])
    return graph


def opening(b: Build) -> str:
    """The message that opens the chat: the first task, rendered."""
    return task_prompt(b.scenario.tasks[0], b.inputs, {})


def chat_messages(
    b: Build, name: str, system: str, chat: list[tuple[str, str]]
) -> list[BaseMessage]:
    """The chat as `name` sees it: its own messages as AI turns, the others' as user turns."""
    messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(opening(b))]
    for speaker, text in chat:
        if speaker == name:
            messages.append(AIMessage(text))
        else:
            messages.append(HumanMessage(f"{speaker}: {text}", name=speaker))
    if chat and chat[-1][0] == name:
        messages.append(HumanMessage(f"Continue, {name}."))
    return messages


def chat_system(b: Build, name: str, order: list[str]) -> str:
    """The speaker's system prompt plus what the group chat expects of it."""
    others = [o for o in dict.fromkeys(order) if o != name]
    base = system_prompt(b.scenario.agent(name), b.inputs)
    note = f"You are {name} in a group chat with {', '.join(others) or 'no one else'}."
    phrase = b.scenario.team.termination
    if phrase:
        note += f" When the work is complete, say {phrase}."
    return f"{base}\n\n{note}"


def speaker_node(b: Build, name: str, order: list[str]) -> Callable[[TeamState], dict]:
    """A speaker's node: one chat message, then the next speaker (or the end)."""
    model = b.model(name)
    system = chat_system(b, name, order)
    task = b.scenario.tasks[0].name

    def run(state: TeamState) -> dict:
        chat = state.get("chat_log", [])
        text, turn = agent_turn(model, chat_messages(b, name, system, chat), name, task, b.scenario)
        target, events = next_speaker(b, state, name, order, text, len(chat) + 1)
        return {
            "chat_log": [(name, text)],
            "turns_taken": 1,
            "final_output": final_text(b, text, chat),
            "trace_events": [*turn, *events],
            "next_node": target,
        }

    return run


def next_speaker(
    b: Build, state: TeamState, name: str, order: list[str], text: str, spoken: int
) -> tuple[str, list[Event]]:
    """After message number `spoken`: the termination phrase, the limits, or the next turn."""
    team = b.scenario.team
    if team.termination and team.termination in text:
        return END, [route(name, END, f"termination phrase {team.termination!r} said")]
    if spoken >= team.max_rounds * len(order):
        message = f"the chat ran team.max_rounds ({team.max_rounds}) rounds"
        if team.termination:
            message += f" and no one said {team.termination!r}; raise team.max_rounds"
        event = warning("max_rounds_reached", message, max_rounds=team.max_rounds)
        return END, [event, route(name, END, "team.max_rounds reached")]
    nxt = order[spoken % len(order)]
    if out_of_turns(state, b.scenario, taken=1):
        event = max_turns_warning(b.scenario, f"{nxt!r} could speak")
        return END, [event, route(name, END, "team.max_turns reached")]
    reason = f"round {spoken // len(order) + 1}: {nxt!r} speaks next in team.order"
    return nxt, [route(name, nxt, reason)]


def final_text(b: Build, text: str, chat: list[tuple[str, str]]) -> str:
    """The message without the termination phrase (or the one before, if nothing is left)."""
    phrase = b.scenario.team.termination
    if not phrase or phrase not in text:
        return text
    stripped = text.replace(phrase, "").strip()
    return stripped or (chat[-1][1] if chat else "")
