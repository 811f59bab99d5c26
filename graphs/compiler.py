"""Scenario -> compiled LangGraph graph: validate, then build the topology's graph."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph

from graphs import parallel, reflection, round_robin, sequential, supervisor
from graphs.state import Build, ModelFor
from scenarios.errors import ScenarioError
from scenarios.spec import Scenario, format_loc
from team.validate import validate

TOPOLOGY_MODULES: dict[str, ModuleType] = {
    "sequential": sequential,
    "supervisor": supervisor,
    "round_robin": round_robin,
    "parallel": parallel,
    "reflection": reflection,
}


def check(scenario: Scenario) -> None:
    """Raise ScenarioError listing every problem `validate` finds (`field: message` lines)."""
    problems = validate(scenario)
    if problems:
        lines = [f"{format_loc(p.loc)}: {p.message}" for p in problems]
        raise ScenarioError(f"scenario {scenario.name!r} cannot be compiled:\n" + "\n".join(lines))


def input_values(scenario: Scenario, inputs: dict[str, str]) -> dict[str, str]:
    """The inputs with defaults filled in; a missing or unknown one is a ScenarioError."""
    try:
        return scenario.input_values(inputs)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None


def build_graph(scenario: Scenario, inputs: dict[str, str], model_for: ModelFor) -> StateGraph:
    """The uncompiled StateGraph of a valid scenario."""
    module = TOPOLOGY_MODULES[scenario.team.topology]
    builder: Callable[[Build], StateGraph] = module.build
    return builder(Build(scenario, inputs, model_for))


def recursion_limit(scenario: Scenario) -> int:
    """A LangGraph step limit that the team's own limits always reach first."""
    team = scenario.team
    chat = team.max_rounds * len(team.order or scenario.agents)
    return 2 * (team.max_turns + team.max_steps + chat + team.max_revisions) + 10


def compile_scenario(
    scenario: Scenario, inputs: dict[str, str], model_for: ModelFor
) -> CompiledStateGraph:
    """Validate the scenario and compile its team; `model_for(agent)` gives each model."""
    check(scenario)
    graph = build_graph(scenario, input_values(scenario, inputs), model_for)
    compiled = graph.compile(name=scenario.name)
    return compiled.with_config(recursion_limit=recursion_limit(scenario))
