"""Experiment files: their matrix of runs, and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.plan import load_experiment
from scenarios.errors import ScenarioError

BASE = """\
name: frameworks
scenarios: [research_team]
frameworks: [langgraph, autogen]
models: {default: [smollm2:135m, qwen3:0.6b]}
inputs:
  - {topic: vector databases, expected: {keyword: vector}}
  - {topic: local models}
repeats: 2
checks: [{contains: "{expected.keyword}", ignore_case: true}]
"""


def _write(tmp_path: Path, text: str, name: str = "e.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_matrix_is_every_combination_with_stable_ids(tmp_path: Path) -> None:
    """2 frameworks x 2 model sets x 2 inputs x 2 repeats = 16 runs, each id once."""
    experiment = load_experiment(_write(tmp_path, BASE))
    cells = experiment.cells()
    assert len(cells) == 16 and len({c.id for c in cells}) == 16
    assert [c.framework for c in cells[:4]] == ["langgraph", "autogen"] * 2
    assert cells[0].id == "research_team.langgraph.smollm2_135m.in1.r1"
    assert {c.seed for c in cells} == {1, 2}
    assert cells[0].row.expected == {"keyword": "vector"} and cells[-1].row.expected == {}
    assert {c.model_set.tags["default"] for c in cells} == {"smollm2:135m", "qwen3:0.6b"}


def test_named_model_sets_seeds_and_an_inputs_file(tmp_path: Path) -> None:
    """model_sets name their tags; seeds are explicit; a CSV gives rows and expected values."""
    _write(tmp_path, "topic,expected.keyword\nvector databases,vector\nlamps,lamp\n", "rows.csv")
    text = (
        BASE.replace(
            "models: {default: [smollm2:135m, qwen3:0.6b]}", "model_sets: {small: {default: a:1}}"
        )
        .replace(
            "inputs:\n  - {topic: vector databases, expected: {keyword: vector}}\n"
            "  - {topic: local models}\n",
            "inputs_file: rows.csv\n",
        )
        .replace("repeats: 2", "repeats: 2\nseeds: [7, 9]")
    )
    experiment = load_experiment(_write(tmp_path, text))
    cells = experiment.cells()
    assert {c.model_set.name for c in cells} == {"small"} and {c.seed for c in cells} == {7, 9}
    assert [r.expected for r in experiment.rows] == [{"keyword": "vector"}, {"keyword": "lamp"}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("repeats: 2", "repeats: 2\nseeds: [1]"), "seeds lists 1 seeds for 2 repeats"),
        (
            ("frameworks: [langgraph, autogen]", "frameworks: [langgraph, langgraph]"),
            "listed twice",
        ),
        (
            ("scenarios: [research_team]", "scenarios: [nosuch]"),
            "e.yaml:2: scenarios[0]: no scenario 'nosuch'",
        ),
        (
            ("models: {default:", "models: {judge:"),
            "e.yaml:4: models.judge: scenario 'research_team' has no model profile 'judge'",
        ),
        (
            ("{topic: local models}", "{topik: x}"),
            "e.yaml:7: inputs[1]: scenario 'research_team': unknown input 'topik'",
        ),
        (("frameworks: [langgraph, autogen]", "frameworks: [crewai]\n"), None),
        (("repeats: 2", "repeats: 0"), "repeats: Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_experiment_names_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], message: str | None
) -> None:
    """Each mistake is one line naming the file, the line, the field and what to change."""
    text = BASE.replace(*change)
    if message is None:  # crewai runs research_team: not a mistake
        assert len(load_experiment(_write(tmp_path, text)).cells()) == 8
        return
    with pytest.raises(ScenarioError) as info:
        load_experiment(_write(tmp_path, text))
    assert message in str(info.value)


CHAT = """\
name: chat
models: {default: {model: smollm2:135m}}
agents:
  - {name: alice, role: Optimist, goal: Argue for it., backstory: You like it.}
  - {name: bob, role: Skeptic, goal: Argue against it., backstory: You doubt it.}
tasks: [{name: debate, agent: alice, description: Debate local models.}]
team: {topology: round_robin, order: [alice, bob], termination: DONE}
"""


def test_a_framework_that_cannot_run_a_scenario_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    """Crewai cannot run a round robin: the frameworks entry says so, with the fix."""
    _write(tmp_path, CHAT, "chat.yaml")
    text = "name: e\nscenarios: [chat.yaml]\nframeworks: [langgraph, crewai]\n"
    with pytest.raises(ScenarioError) as info:
        load_experiment(_write(tmp_path, text))
    assert str(info.value).startswith(
        "e.yaml:3: frameworks[1]: topology 'round_robin' is not supported on crewai"
    )
