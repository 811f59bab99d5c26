"""The AutoGen adapter: its model client, what it refuses, its prompts, its limits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agents.base import AgentModel
from scenarios.errors import ScenarioError
from scenarios.loader import load_text
from tests._adapters import PARALLEL, ROUND_ROBIN, SEQUENTIAL, SUPERVISOR, run_on
from tests.fake_ollama import FakeOllama

OPTIONS = {"num_ctx": 4096, "temperature": 0.0, "seed": 3, "num_predict": 32}


def test_model_client_sends_the_scenario_options_and_keep_alive() -> None:
    """OllamaChatCompletionClient posts to /api/chat with every option and keep_alive."""
    from autogen_core.models import UserMessage

    from agents.autogen_team import model_client

    with FakeOllama(["hello"]) as server:
        spec = AgentModel("a", "ollama", "smollm2:135m", server.url, dict(OPTIONS), "1m")
        client = model_client(spec)
        result = asyncio.run(client.create([UserMessage(content="hi", source="user")]))
    (request,) = server.requests
    assert result.content == "hello"
    assert request["options"] == OPTIONS and request["keep_alive"] == "1m"
    assert request["stream"] is False


def test_a_speaker_listed_twice_is_refused() -> None:
    """RoundRobinGroupChat takes each speaker once, so a repeated team.order is refused."""
    from agents.autogen_runner import AutoGenRunner

    text = ROUND_ROBIN.replace("order: [alice, bob]", "order: [alice, bob, alice]")
    with pytest.raises(ScenarioError, match="lists 'alice' more than once"):
        AutoGenRunner().check(load_text(text))


def test_every_topology_passes_check() -> None:
    """The five shipped topologies all map onto AutoGen teams."""
    from agents.autogen_runner import AutoGenRunner
    from tests._adapters import SCENARIOS

    for text in SCENARIOS.values():
        AutoGenRunner().check(load_text(text))


def test_selector_prompt_keeps_literal_braces_and_autogen_fields() -> None:
    """Scenario text with braces survives AutoGen's .format(); its own fields are filled."""
    from agents.autogen_team import TeamPlan, selector_prompt

    text = SUPERVISOR.replace("backstory: You manage.", "backstory: 'Answer like {{this}}.'")
    plan = TeamPlan(load_text(text), {})
    filled = selector_prompt(plan.scenario, plan.inputs, "boss").format(
        roles="ROLES", participants="PARTS", history="HIST"
    )
    assert "Answer like {this}." in filled
    assert "ROLES" in filled and "PARTS" in filled and "HIST" in filled


def test_flow_edges_chain_sequential_tasks_and_fan_parallel_ones_in() -> None:
    """Sequential is a chain in dependency order; parallel branches all lead to the fan-in."""
    from agents.autogen_team import flow_edges
    from team.plan import TaskPlan

    chain = flow_edges(TaskPlan.of(load_text(SEQUENTIAL)))
    fan_in = flow_edges(TaskPlan.of(load_text(PARALLEL)))
    assert chain == [("plan", "write"), ("write", "edit")]
    assert fan_in == [("pros", "verdict"), ("cons", "verdict")]


CAPS = [
    ("max_steps: 5}", 5, "max_steps_reached"),
    ("max_steps: 5, max_turns: 3}", 3, "max_turns_reached"),
]


@pytest.mark.parametrize("framework", ["langgraph", "autogen"])
@pytest.mark.parametrize(("caps", "turns", "code"), CAPS, ids=["max_steps", "max_turns"])
def test_supervisor_that_never_finishes_stops_at_its_limit(
    framework: str, caps: str, turns: int, code: str, tmp_path: Path
) -> None:
    """A supervisor that never says FINISH stops at the first cap, with LangGraph's warning."""
    choice = '{"next": "writer", "reason": "more", "instruction": "Again."}'
    pick = choice if framework == "langgraph" else "writer"
    replies = [r for i in range(5) for r in (pick, f"w{i}")] + ["unused"] * 3
    text = SUPERVISOR.replace("max_steps: 5}", caps)
    outcome = run_on(framework, text, replies, tmp_path)
    assert outcome.code == 0, outcome.error
    assert outcome.turns() == ["writer"] * turns
    assert [w["code"] for w in outcome.kinds("warning")] == [code]
    assert outcome.routes() == [("boss", "writer")] * turns + [("boss", "END")]
    assert len(outcome.requests) == 2 * turns


def test_an_output_schema_in_a_chat_topology_is_refused() -> None:
    """Output schemas are mapped for graph flows only; in a group chat they are refused."""
    from agents.autogen_runner import AutoGenRunner
    from tests._adapters import REFLECTION

    text = REFLECTION.replace(
        "description: Write a slogan for local models.}",
        "description: Write a slogan for local models., "
        "output_schema: {type: object, properties: {slogan: {type: string}}}}",
    )
    with pytest.raises(ScenarioError, match="cannot honour in a reflection team"):
        AutoGenRunner().check(load_text(text))
