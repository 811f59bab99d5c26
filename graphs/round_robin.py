"""Round-robin topology: a group chat where the agents speak in `team.order`, in turn.

The first task's description opens the chat. Each speaker sees the whole transcript (its
own messages as its own, the others' as named user messages). The chat ends when a
message contains `team.termination` (case-sensitive) or after `team.max_rounds` rounds.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph

from graphs.state import Build, TeamState, agent_turn, node
from team import rules
from team.prompting import chat_opening, chat_system


def build(b: Build) -> StateGraph:
    """The chat graph: START -> first speaker; each speaker -> next speaker or END."""
    order = rules.speaking_order(b.scenario)
    speakers = list(dict.fromkeys(order))
    graph = StateGraph(TeamState)
    for name in speakers:
        graph.add_node(name, speaker_node(b, name))
        graph.add_conditional_edges(name, lambda s: s["next_node"], [*speakers, END])
    graph.add_edge(START, order[0])
    return graph


def chat_messages(
    b: Build, name: str, system: str, chat: list[tuple[str, str]]
) -> list[BaseMessage]:
    """The chat as `name` sees it: its own messages as AI turns, the others' as user turns."""
    opening = chat_opening(b.scenario, b.inputs)
    messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(opening)]
    for speaker, text in chat:
        if speaker == name:
            messages.append(AIMessage(text))
        else:
            messages.append(HumanMessage(f"{speaker}: {text}", name=speaker))
    if chat and chat[-1][0] == name:
        messages.append(HumanMessage(f"Continue, {name}."))
    return messages


def speaker_node(b: Build, name: str) -> Callable[[TeamState], dict]:
    """A speaker's node: one chat message, then the next speaker (or the end)."""
    model = b.model(name)
    system = chat_system(b.scenario, b.inputs, name)
    task = b.scenario.tasks[0].name

    def run(state: TeamState) -> dict:
        chat = state.get("chat_log", [])
        text, turn = agent_turn(model, chat_messages(b, name, system, chat), name, task, b.scenario)
        turns = state.get("turns_taken", 0)
        target, events = rules.next_speaker(b.scenario, name, text, len(chat) + 1, turns)
        return {
            "chat_log": [(name, text)],
            "turns_taken": 1,
            "final_output": rules.chat_output(b.scenario, text, chat),
            "trace_events": [*turn, *events],
            "next_node": node(target),
        }

    return run
