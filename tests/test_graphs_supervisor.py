"""The supervisor topology: a routing agent picks members by structured choice, or FINISH."""

from __future__ import annotations

from pathlib import Path

from graphs import mermaid
from scenarios.loader import load_text
from tests.fakes import Team, choice, run_scenario

YAML = """\
name: t
models:
  default: {model: smollm2:135m}
agents:
  - {name: boss, role: Lead}
  - {name: researcher, role: Researcher}
  - {name: writer, role: Writer}
tasks:
  - {name: research, description: Find three facts., agent: researcher}
  - {name: write, description: Write a summary., agent: writer}
team:
  topology: supervisor
  supervisor: boss
  max_steps: 6
  max_turns: 6
"""


def happy_team(structured: bool = False) -> Team:
    """The boss sends the researcher, then the writer, then finishes."""
    return Team(
        structured=["boss"] if structured else [],
        boss=[
            choice("researcher", "facts first", "find three facts"),
            choice("writer", "now write", "summarise the facts"),
            choice("FINISH", "summary done"),
        ],
        researcher=["FACTS"],
        writer=["SUMMARY"],
    )


def test_supervisor_routes_members_then_finishes(tmp_path: Path) -> None:
    """Turns alternate boss, member, boss, member, boss; the last member output is final."""
    scripted = happy_team()
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert scripted.log == ["boss", "researcher", "boss", "writer", "boss"]
    assert outcome.final == "SUMMARY"


def test_trace_has_routes_with_reasons_and_member_turns(tmp_path: Path) -> None:
    """Each choice is a route with its reason and instruction; FINISH routes to END."""
    outcome = run_scenario(YAML, happy_team(), tmp_path)
    assert outcome.events == [
        {
            "kind": "route",
            "from": "boss",
            "to": "researcher",
            "reason": "facts first",
            "instruction": "find three facts",
        },
        {
            "kind": "agent_message",
            "agent": "researcher",
            "role": "assistant",
            "content": "FACTS",
            "turn": 1,
            "task": None,
        },
        {
            "kind": "route",
            "from": "boss",
            "to": "writer",
            "reason": "now write",
            "instruction": "summarise the facts",
        },
        {
            "kind": "agent_message",
            "agent": "writer",
            "role": "assistant",
            "content": "SUMMARY",
            "turn": 2,
            "task": None,
        },
        {"kind": "route", "from": "boss", "to": "END", "reason": "summary done"},
    ]


def test_prompts_carry_work_instruction_and_progress(tmp_path: Path) -> None:
    """The boss sees the tasks and the work so far; a member sees its instruction."""
    scripted = happy_team()
    run_scenario(YAML, scripted, tmp_path)
    boss = scripted.models["boss"]
    assert "- research (researcher): Find three facts." in boss.prompt(0)
    assert "FACTS" not in boss.prompt(0)
    assert "[researcher]\nFACTS" in boss.prompt(1)
    assert "The supervisor asks you (writer): summarise the facts" in (
        scripted.models["writer"].prompt()
    )
    assert str(boss.received[0][0].content).startswith("You are Lead, the supervisor of a team.")


def test_structured_output_constrains_the_choice(tmp_path: Path) -> None:
    """A model with structured output gets a schema whose `next` enum is the members + FINISH."""
    scripted = happy_team(structured=True)
    outcome = run_scenario(YAML, scripted, tmp_path)
    schema = scripted.models["boss"].schemas[0]  # type: ignore[attr-defined]
    assert schema["properties"]["next"]["enum"] == ["researcher", "writer", "FINISH"]
    assert schema["required"] == ["next", "reason", "instruction"]
    assert scripted.log == ["boss", "researcher", "boss", "writer", "boss"]
    assert outcome.final == "SUMMARY"


def test_invalid_choices_warn_and_count_as_steps(tmp_path: Path) -> None:
    """Unreadable and unknown choices are warnings, cost a step, and the boss is asked again."""
    scripted = Team(
        boss=["I would ask the editor", choice("editor", "edit it"), choice("writer", "write")],
        researcher=[],
        writer=["SUMMARY"],
    )
    text = YAML.replace("max_steps: 6", "max_steps: 3")
    outcome = run_scenario(text, scripted, tmp_path)
    assert scripted.log == ["boss", "boss", "boss", "writer"]
    warnings = outcome.kinds("warning")
    assert [w["code"] for w in warnings] == ["invalid_route", "invalid_route", "max_steps_reached"]
    assert warnings[0]["message"] == (
        "supervisor 'boss' gave no readable JSON choice; allowed: researcher, writer, FINISH"
    )
    assert warnings[1]["message"] == (
        "supervisor 'boss' chose 'editor'; allowed: researcher, writer, FINISH"
    )
    assert "Your last answer was refused: you chose 'editor'" in scripted.models["boss"].prompt(2)
    assert outcome.events[-1] == {
        "kind": "route",
        "from": "boss",
        "to": "END",
        "reason": "team.max_steps reached",
    }
    assert outcome.final == "SUMMARY"


def test_step_limit_ends_a_run_that_never_finishes(tmp_path: Path) -> None:
    """After max_steps decisions the boss is not asked again and a warning ends the run."""
    scripted = Team(boss=[choice("writer", "go")] * 2, researcher=[], writer=["A", "B"])
    outcome = run_scenario(YAML.replace("max_steps: 6", "max_steps: 2"), scripted, tmp_path)
    assert scripted.log == ["boss", "writer", "boss", "writer"]
    assert outcome.kinds("warning")[0]["code"] == "max_steps_reached"
    assert outcome.kinds("warning")[0]["max_steps"] == 2
    assert outcome.final == "B"


def test_turn_limit_stops_before_the_next_decision(tmp_path: Path) -> None:
    """With max_turns 1 the boss is not asked again after the first member's turn."""
    scripted = Team(boss=[choice("researcher", "go")], researcher=["FACTS"], writer=[])
    outcome = run_scenario(YAML.replace("max_turns: 6", "max_turns: 1"), scripted, tmp_path)
    assert scripted.log == ["boss", "researcher"]
    assert outcome.kinds("warning")[0]["code"] == "max_turns_reached"
    assert outcome.final == "FACTS"


def test_mermaid_names_supervisor_and_members() -> None:
    """The drawing has the supervisor (labelled as such) and each member."""
    drawing = mermaid(load_text(YAML, source="t.yaml"))
    assert 'boss("boss (supervisor)")' in drawing
    assert 'researcher("researcher")' in drawing
    assert "boss -.-> writer" in drawing
    assert "writer --> boss" in drawing


def test_ollama_model_gets_the_choice_schema_as_format(tmp_path: Path) -> None:
    """Through ChatOllama the route schema is sent as Ollama `format`, and its JSON is obeyed."""
    from langchain_ollama import ChatOllama

    from tests.fake_ollama import FakeOllama

    replies = [choice("writer", "write it", "one line"), "SUMMARY", choice("FINISH", "done")]
    with FakeOllama(replies) as server:
        models = {
            name: ChatOllama(model="smollm2:135m", base_url=server.url, num_ctx=2048)
            for name in ("boss", "researcher", "writer")
        }
        outcome = run_scenario(YAML, Team(), tmp_path, model_for=models.__getitem__)
    boss_format = server.requests[0]["format"]
    assert boss_format["properties"]["next"]["enum"] == ["researcher", "writer", "FINISH"]
    assert "format" not in server.requests[1]
    assert [(r["from"], r["to"]) for r in outcome.kinds("route")] == [
        ("boss", "writer"),
        ("boss", "END"),
    ]
    assert outcome.final == "SUMMARY"


def test_text_choice_may_be_wrapped_in_prose(tmp_path: Path) -> None:
    """Without structured output, the first JSON object in the reply is the choice."""
    wrapped = f"Sure. {choice('writer', 'write it')} Hope that helps {{:}}"
    scripted = Team(boss=[wrapped, choice("FINISH", "done")], researcher=[], writer=["TEXT"])
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert scripted.log == ["boss", "writer", "boss"]
    assert outcome.kinds("warning") == []
    assert outcome.final == "TEXT"
