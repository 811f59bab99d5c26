"""Structured output: a task's output_schema is asked for, validated, retried once, enforced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scenarios.cli import main as cli
from scenarios.errors import ScenarioError
from scenarios.event_planning import EventPlan
from scenarios.loader import load_text
from team.turn import OutputSchemaError
from tests.fake_ollama import FakeOllama
from tests.fakes import Team, run_scenario
from tests.tools_fakes import ToolCallingModel, calls
from tools.workspace import ToolContext, activated

SCHEMA_YAML = """
name: t
models: {default: {model: x}}
agents:
  - {name: planner, role: Planner}
tasks:
  - name: plan
    agent: planner
    description: Plan it.
    output_schema:
      title: Plan
      type: object
      properties:
        title: {type: string}
        steps: {type: array, items: {type: string}, minItems: 1}
      required: [title, steps]
"""

PYDANTIC_YAML = """
name: t
models: {default: {model: x}}
agents:
  - {name: planner, role: Planner}
tasks:
  - {name: plan, agent: planner, description: Plan it.,
     output_schema: "scenarios.event_planning:EventPlan"}
"""

GOOD_PLAN = {
    "venue": "Hall A",
    "date": "2027-05-04",
    "capacity": 80,
    "budget": [{"item": "room", "amount_eur": 1500}],
}


def _answers(outcome: Any) -> list[dict[str, Any]]:
    return outcome.kinds("agent_message")


def test_a_valid_answer_is_the_structured_output(tmp_path: Path) -> None:
    """The JSON schema is asked for; the parsed answer is the task output and in the trace."""
    reply = json.dumps({"title": "Trip", "steps": ["pack", "go"]})
    team = Team(structured=["planner"], planner=[reply])
    outcome = run_scenario(SCHEMA_YAML, team, tmp_path)
    (message,) = _answers(outcome)
    assert message["structured_output"] == {"title": "Trip", "steps": ["pack", "go"]}
    assert message["output_schema"] == "Plan"
    assert json.loads(outcome.final) == message["structured_output"]
    assert team.models["planner"].schemas[0]["required"] == ["title", "steps"]
    assert "title (string), steps (array)" in team.models["planner"].prompt()


def test_an_invalid_answer_is_retried_once_with_the_error(tmp_path: Path) -> None:
    """A first answer missing a field gets one retry that names the validation error."""
    good = json.dumps({"title": "Trip", "steps": ["go"]})
    team = Team(structured=["planner"], planner=[json.dumps({"title": "Trip"}), good])
    outcome = run_scenario(SCHEMA_YAML, team, tmp_path)
    (warning,) = outcome.kinds("warning")
    assert warning["code"] == "output_schema_retry"
    assert "'steps' is a required property" in team.models["planner"].prompt()
    assert _answers(outcome)[0]["structured_output"]["steps"] == ["go"]


def test_two_invalid_answers_fail_the_run_with_a_clear_message(tmp_path: Path) -> None:
    """After the retry also fails, the run stops with an OutputSchemaError naming task and fix."""
    team = Team(structured=["planner"], planner=["not json", json.dumps({"title": 3})])
    with pytest.raises(OutputSchemaError) as caught:
        run_scenario(SCHEMA_YAML, team, tmp_path)
    message = str(caught.value)
    assert message.startswith("task 'plan' (planner): the model's answer does not match")
    assert "output_schema Plan after one retry" in message and "larger model" in message


def test_a_pydantic_model_validates_and_normalizes(tmp_path: Path) -> None:
    """An import path names a pydantic model; its JSON schema is sent and the answer is checked."""
    team = Team(structured=["planner"], planner=[json.dumps(GOOD_PLAN)])
    outcome = run_scenario(PYDANTIC_YAML, team, tmp_path)
    plan = _answers(outcome)[0]["structured_output"]
    assert EventPlan.model_validate(plan).capacity == 80
    assert plan["budget"] == [{"item": "room", "amount_eur": 1500.0}]
    assert team.models["planner"].schemas[0] == EventPlan.model_json_schema()


def test_pydantic_constraints_are_enforced(tmp_path: Path) -> None:
    """An answer breaking the constraints (a bad date, capacity 0) is retried, then fails."""
    bad = {**GOOD_PLAN, "date": "2027-02-30", "capacity": 0}
    team = Team(structured=["planner"], planner=[json.dumps(bad), json.dumps(bad)])
    with pytest.raises(OutputSchemaError, match="capacity"):
        run_scenario(PYDANTIC_YAML, team, tmp_path)
    assert "date" in team.models["planner"].prompt()


def test_models_without_structured_output_answer_in_text(tmp_path: Path) -> None:
    """A model with no structured output is asked in words; the JSON in its text is used."""
    reply = 'Here you go: {"title": "Trip", "steps": ["go"]} Enjoy!'
    outcome = run_scenario(SCHEMA_YAML, Team(planner=[reply]), tmp_path)
    assert _answers(outcome)[0]["structured_output"] == {"title": "Trip", "steps": ["go"]}


def test_tools_run_before_the_structured_answer(tmp_path: Path) -> None:
    """An agent with tools may call them first; its structured answer follows in the same turn."""
    yaml = SCHEMA_YAML.replace(
        "{name: planner, role: Planner}", "{name: planner, role: P, tools: [calculator]}"
    )
    team = Team()
    team.models["planner"] = ToolCallingModel(
        agent="planner",
        replies=[
            calls(("calculator", {"expression": "2 + 2"})),
            "four",
            '{"title": "4", "steps": ["x"]}',
        ],
        log=team.log,
    )
    with activated(ToolContext(tmp_path)):
        outcome = run_scenario(yaml, team, tmp_path)
    kinds = [e["kind"] for e in outcome.events]
    assert kinds[:2] == ["tool_call", "agent_message"]
    assert _answers(outcome)[0]["structured_output"]["title"] == "4"


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ('"scenarios.nowhere:Plan"', "cannot import 'scenarios.nowhere'"),
        ('"scenarios.event_planning:Nope"', "has no 'Nope'"),
        ('"scenarios.event_planning:main"', "is not a pydantic model class"),
        ('"EventPlan"', "is not an import path"),
        ("{type: string}", "must describe a JSON object"),
        ("{type: object, properties: {a: {type: 12}}}", "not a valid JSON schema"),
    ],
)
def test_unusable_schemas_are_load_errors_with_a_line(schema: str, message: str) -> None:
    """A schema that cannot be used is reported at load time with file, line and the fix."""
    text = PYDANTIC_YAML.replace('"scenarios.event_planning:EventPlan"', schema)
    with pytest.raises(ScenarioError) as caught:
        load_text(text, source="t.yaml")
    error = str(caught.value)
    assert error.startswith("t.yaml:8: tasks[0].output_schema: ") and message in error
    assert "module:ClassName" in error


def test_a_failed_schema_is_an_error_event_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two bad answers leave the retry warning, an error event, a failed run and exit 1."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCHEMA_YAML.replace("{model: x}", "{model: smollm2:135m}"))
    with FakeOllama(["no json here", '{"title": 1}']) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        args = ["run", str(scenario), "--backend", "ollama", "--runs-dir", str(tmp_path), "-q"]
        assert cli(args) == 1
        assert server.requests[0]["format"]["required"] == ["title", "steps"]
    (trace,) = tmp_path.glob("*.jsonl")
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    (error,) = [e for e in events if e["kind"] == "error"]
    assert error["type"] == "OutputSchemaError" and "after one retry" in error["message"]
    kinds = [e.get("code", e["kind"]) for e in events[-3:]]
    assert kinds == ["output_schema_retry", "error", "run_finished"]
    assert events[-1]["status"] == "failed"
    assert "does not match output_schema Plan" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ("{topology: round_robin}", "a round_robin team's messages are free text"),
        ("{topology: supervisor, supervisor: boss}", "a supervisor team's messages are free text"),
        ("{topology: reflection, producer: boss, critic: planner}", "the critic answers in free"),
    ],
)
def test_output_schema_is_refused_where_answers_must_stay_text(team: str, message: str) -> None:
    """Chat, supervisor and critic turns are free text: a schema there is a load error."""
    text = PYDANTIC_YAML.replace(
        "  - {name: planner, role: Planner}",
        "  - {name: planner, role: Planner}\n  - {name: boss, role: Boss}",
    )
    text = text.replace(
        "tasks:\n", "tasks:\n  - {name: draft, agent: boss, description: Draft it.}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_text(f"{text}team: {team}\n", source="t.yaml")
    assert message in str(caught.value) and "tasks[1].output_schema" in str(caught.value)
