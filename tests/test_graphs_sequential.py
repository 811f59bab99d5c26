"""The sequential topology: tasks in dependency order, each seeing the outputs it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphs import compile_scenario, mermaid
from scenarios.errors import ScenarioError
from scenarios.loader import load_text
from scenarios.spec import Scenario
from tests.fakes import Team, run_scenario

# Tasks are listed out of order on purpose: the dependencies decide the order.
YAML = """\
name: t
inputs:
  topic: cats
models:
  default: {model: smollm2:135m}
agents:
  - {name: planner, role: Planner}
  - {name: writer, role: Writer}
  - {name: editor, role: 'Editor of {topic}'}
tasks:
  - name: edit
    description: Edit the article on {topic}.
    agent: editor
    context: [write]
  - name: write
    description: Write about {topic}.
    expected_output: Three paragraphs.
    agent: writer
    context: [plan]
  - name: plan
    description: Outline {topic}.
    agent: planner
team:
  topology: sequential
  max_turns: 6
"""


def team() -> Team:
    """Scripted planner, writer and editor, one reply each."""
    return Team(planner=["OUTLINE"], writer=["ARTICLE"], editor=["EDITED"])


def test_tasks_run_in_dependency_order(tmp_path: Path) -> None:
    """Tasks run plan, write, edit (dependency order, not file order); edit's output is final."""
    scripted = team()
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert scripted.log == ["planner", "writer", "editor"]
    assert outcome.final == "EDITED"


def test_trace_has_turns_and_hand_offs_in_order(tmp_path: Path) -> None:
    """Each turn is an agent_message with its turn number, followed by its hand-off route."""
    outcome = run_scenario(YAML, team(), tmp_path)
    assert outcome.events == [
        {
            "kind": "agent_message",
            "agent": "planner",
            "role": "assistant",
            "content": "OUTLINE",
            "turn": 1,
            "task": "plan",
        },
        {
            "kind": "route",
            "from": "planner",
            "to": "writer",
            "reason": "task 'plan' done; task 'write' is next",
            "task": "write",
        },
        {
            "kind": "agent_message",
            "agent": "writer",
            "role": "assistant",
            "content": "ARTICLE",
            "turn": 2,
            "task": "write",
        },
        {
            "kind": "route",
            "from": "writer",
            "to": "editor",
            "reason": "task 'write' done; task 'edit' is next",
            "task": "edit",
        },
        {
            "kind": "agent_message",
            "agent": "editor",
            "role": "assistant",
            "content": "EDITED",
            "turn": 3,
            "task": "edit",
        },
        {"kind": "route", "from": "editor", "to": "END", "reason": "last task 'edit' done"},
    ]


def test_agent_started_signals_each_turn(tmp_path: Path) -> None:
    """The live console is told when each agent's turn begins, with its task."""
    outcome = run_scenario(YAML, team(), tmp_path)
    started = [(s["agent"], s["task"]) for s in outcome.signals]
    assert started == [("planner", "plan"), ("writer", "write"), ("editor", "edit")]


def test_task_prompt_carries_its_context_only(tmp_path: Path) -> None:
    """A task sees the outputs in its context, labelled by task, and not other outputs."""
    scripted = team()
    run_scenario(YAML, scripted, tmp_path)
    writer = scripted.models["writer"].prompt()
    editor = scripted.models["editor"].prompt()
    assert "Write about cats." in writer
    assert "Expected output: Three paragraphs." in writer
    assert "### Output of task 'plan'\nOUTLINE" in writer
    assert "### Output of task 'write'\nARTICLE" in editor
    assert "OUTLINE" not in editor


def test_system_prompt_is_the_rendered_template(tmp_path: Path) -> None:
    """An agent without system_prompt gets the `agent` template filled with role and inputs."""
    scripted = team()
    run_scenario(YAML, scripted, tmp_path)
    system = scripted.models["editor"].received[0][0].content
    assert str(system).startswith("You are Editor of cats.")


def test_inputs_override_defaults(tmp_path: Path) -> None:
    """Inputs given to the compiler replace the defaults in every prompt."""
    scripted = team()
    run_scenario(YAML, scripted, tmp_path, inputs={"topic": "dogs"})
    assert "Outline dogs." in scripted.models["planner"].prompt()


def test_ties_keep_file_order(tmp_path: Path) -> None:
    """Tasks with no dependency between them run in the order of the file."""
    text = YAML.replace("    context: [write]\n", "").replace("    context: [plan]\n", "")
    scripted = team()
    run_scenario(text, scripted, tmp_path)
    assert scripted.log == ["editor", "writer", "planner"]


def test_max_turns_stops_the_run(tmp_path: Path) -> None:
    """With max_turns 2 the third task never runs; a warning says why; the last output wins."""
    scripted = team()
    outcome = run_scenario(YAML.replace("max_turns: 6", "max_turns: 2"), scripted, tmp_path)
    assert scripted.log == ["planner", "writer"]
    assert outcome.final == "ARTICLE"
    warning, last = outcome.events[-2:]
    assert warning["kind"] == "warning"
    assert warning["code"] == "max_turns_reached"
    assert warning["max_turns"] == 2
    assert last == {
        "kind": "route",
        "from": "writer",
        "to": "END",
        "reason": "team.max_turns reached",
    }


def test_model_errors_propagate(tmp_path: Path) -> None:
    """An exception raised by a model reaches the caller (the harness records it)."""

    def boom(_messages: object) -> str:
        raise RuntimeError("model server went away")

    scripted = Team(planner=[boom], writer=[], editor=[])
    with pytest.raises(RuntimeError, match="model server went away"):
        run_scenario(YAML, scripted, tmp_path)


def test_compile_refuses_an_invalid_scenario() -> None:
    """compile_scenario validates first and raises ScenarioError naming the field."""
    data = load_text(YAML, source="t.yaml").model_dump()
    data["agents"][0]["model"] = "big"
    scenario = Scenario.model_validate(data)
    with pytest.raises(ScenarioError, match=r"agents\[0\]\.model: unknown model profile 'big'"):
        compile_scenario(scenario, {}, team().model_for)


def test_mermaid_labels_tasks_with_their_agents() -> None:
    """The Mermaid drawing has one node per task, labelled with the task's agent."""
    drawing = mermaid(load_text(YAML, source="t.yaml"))
    for label in ("plan (planner)", "write (writer)", "edit (editor)"):
        assert f'"{label}"' in drawing
    assert "plan --> write" in drawing
    assert "edit --> __end__" in drawing


def test_missing_input_is_a_scenario_error() -> None:
    """Compiling without a value for an input that has no default names the input to pass."""
    scenario = load_text(YAML.replace("  topic: cats\n", "  topic: {description: t}\n"))
    with pytest.raises(ScenarioError, match="input 'topic' has no default: pass --input topic="):
        compile_scenario(scenario, {}, team().model_for)


def test_mermaid_needs_no_input_values() -> None:
    """The graph is drawn even when an input has no default (no prompt is sent)."""
    scenario = load_text(YAML.replace("  topic: cats\n", "  topic: {description: t}\n"))
    assert '"edit (editor)"' in mermaid(scenario)
