"""The compiled graph of a scenario as Mermaid, drawn with placeholder models."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.runnables.graph import Graph

from graphs.compiler import compile_scenario
from scenarios.spec import Scenario

PLACEHOLDER_REPLY = "(placeholder model: nothing is contacted while drawing)"


def placeholder_model(_agent: str) -> BaseChatModel:
    """A model that is never called: drawing only needs the graph's shape."""
    return FakeListChatModel(responses=[PLACEHOLDER_REPLY])


def placeholder_inputs(scenario: Scenario) -> dict[str, str]:
    """Each input's default, or `{name}` where it has none."""
    return {name: spec.default or f"{{{name}}}" for name, spec in scenario.inputs.items()}


def node_labels(scenario: Scenario) -> dict[str, str]:
    """Labels naming the agent of each node: `plan (planner)`, `boss (supervisor)`."""
    team = scenario.team
    if team.topology in ("sequential", "parallel"):
        return {t.name: f"{t.name} ({t.agent})" for t in scenario.tasks}
    roles = {team.supervisor: "supervisor", team.producer: "producer", team.critic: "critic"}
    roles.pop(None, None)
    labels = {a.name: a.name for a in scenario.agents}
    labels.update({name: f"{name} ({role})" for name, role in roles.items() if name})
    return labels


def relabel(graph: Graph, labels: dict[str, str]) -> Graph:
    """Give the drawn nodes quoted labels (Mermaid reads parentheses in quotes as text)."""
    for key, node in list(graph.nodes.items()):
        if key in labels:
            graph.nodes[key] = node._replace(name=f'"{labels[key]}"', metadata=None)
    return graph


def mermaid(scenario: Scenario) -> str:
    """The scenario's compiled graph as a Mermaid flowchart whose nodes name the agents."""
    graph = compile_scenario(scenario, placeholder_inputs(scenario), placeholder_model)
    return relabel(graph.get_graph(), node_labels(scenario)).draw_mermaid()
