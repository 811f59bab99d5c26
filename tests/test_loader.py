"""The scenario loader: a table of broken files, each with the exact one-line message."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.errors import ScenarioError
from scenarios.loader import format_loc, load_file, load_text

VALID = """\
name: demo
inputs:
  topic: local models
models:
  default:
    model: smollm2:135m
    options: {num_ctx: 1024}
agents:
  - name: planner
    role: Planner
    goal: Plan {topic}.
tasks:
  - name: plan
    agent: planner
    description: Plan an article on {topic}.
team:
  topology: sequential
"""


def _broken(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


CASES = [
    pytest.param(
        _broken("name: demo\n", "name: demo\nnmae: typo\n"),
        "t.yaml:2: nmae: unknown field 'nmae' "
        "(allowed: name, description, inputs, models, agents, tasks, team, checks)",
        id="unknown-top-level-field",
    ),
    pytest.param(
        _broken("  topology: sequential", "  topology: star"),
        "t.yaml:17: team.topology: Input should be 'sequential', 'supervisor', 'round_robin', "
        "'parallel' or 'reflection'",
        id="unknown-topology",
    ),
    pytest.param(
        _broken("  - name: planner", "  - name: Planner"),
        "t.yaml:9: agents[0].name: 'Planner' is not a valid name (lowercase letters, digits, _)",
        id="bad-agent-name",
    ),
    pytest.param(
        _broken("{num_ctx: 1024}", "{num_ctx: 10}"),
        "t.yaml:7: models.default.options.num_ctx: Input should be greater than or equal to 64",
        id="num-ctx-too-small",
    ),
    pytest.param(
        _broken("    role: Planner\n", "    role: Planner\n    tolls: [x]\n"),
        "t.yaml:11: agents[0].tolls: unknown field 'tolls' (allowed: name, role, goal, "
        "backstory, system_prompt, prompt, model, tools)",
        id="unknown-agent-field",
    ),
    pytest.param(
        _broken(
            "    role: Planner\n", "    role: Planner\n    system_prompt: x\n    prompt: agent\n"
        ),
        "t.yaml:9: agents[0]: give either system_prompt or prompt (a template name), not both",
        id="two-prompt-sources",
    ),
    pytest.param(
        _broken(
            "tasks:\n",
            "  - name: planner\n    role: Twin\ntasks:\n",
        ),
        "t.yaml:8: agents: duplicate agent name 'planner'",
        id="duplicate-agent",
    ),
    pytest.param(
        _broken("    description: Plan an article on {topic}.\n", ""),
        "t.yaml:13: tasks[0].description: required field is missing",
        id="missing-task-description",
    ),
    pytest.param(
        "- just\n- a list\n",
        "t.yaml:1: a scenario is a YAML mapping (name, models, agents...)",
        id="not-a-mapping",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_broken_scenario_message(text: str, expected: str) -> None:
    """Each broken scenario is refused with exactly this file:line: field: message."""
    with pytest.raises(ScenarioError) as raised:
        load_text(text, source="t.yaml")
    assert str(raised.value) == expected
    assert raised.value.exit_code == 2


def test_yaml_syntax_error_names_the_line() -> None:
    """A YAML syntax error names the file and the line of the problem."""
    with pytest.raises(ScenarioError) as raised:
        load_text(VALID.replace("role: Planner", "role: Planner: boss"), source="t.yaml")
    assert str(raised.value) == "t.yaml:10: YAML syntax: mapping values are not allowed here"


def test_valid_scenario_loads_with_defaults() -> None:
    """A valid file loads; unset options take their defaults and shorthand inputs expand."""
    scenario = load_text(VALID, source="t.yaml")
    assert scenario.inputs["topic"].default == "local models"
    assert scenario.models["default"].options.wire_options() == {"num_ctx": 1024}
    assert scenario.team.max_turns == 12


def test_input_values_overlay_defaults_and_refuse_unknown() -> None:
    """Given inputs override defaults; an unknown input name is refused with the known ones."""
    scenario = load_text(VALID, source="t.yaml")
    assert scenario.input_values({"topic": "GPUs"}) == {"topic": "GPUs"}
    with pytest.raises(ValueError, match=r"unknown input 'topik' \(known: topic\)"):
        scenario.input_values({"topik": "x"})


def test_format_loc() -> None:
    """Locations print as YAML paths: keys joined by dots, list indexes in brackets."""
    assert format_loc(("agents", 1, "model")) == "agents[1].model"
    assert format_loc(("team",)) == "team"
    assert format_loc(()) == "(top level)"


def test_a_control_character_names_its_line() -> None:
    """A character YAML refuses is one line naming the file and line, not a traceback."""
    with pytest.raises(ScenarioError) as raised:
        load_text(VALID.replace("role: Planner", "role: Plan\x07ner"), source="t.yaml")
    assert str(raised.value).startswith("t.yaml:10: YAML: unacceptable character #x0007")


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """A scenario file in another encoding is refused naming the file and the byte."""
    path = tmp_path / "latin.yaml"
    data = VALID.replace("Planner", "Plan\xe9r").encode("latin-1")
    path.write_bytes(data)
    with pytest.raises(ScenarioError) as raised:
        load_file(path)
    byte = data.index(b"\xe9")
    assert str(raised.value) == f"{path}: not a scenario (not UTF-8 text at byte {byte})"
