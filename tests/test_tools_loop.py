"""Tools in an agent's LangGraph turn: binding, the call loop, tool_call events, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from team.turn import MAX_TOOL_ROUNDS
from tests.fakes import Outcome, Team, read_events, run_scenario
from tests.tools_fakes import ToolCallingModel, calls
from tools.workspace import ToolContext, activated

YAML = """
name: t
models: {default: {model: x}}
agents:
  - {name: clerk, role: Clerk, tools: [calculator, read_file]}
  - {name: boss, role: Boss}
tasks:
  - {name: work, agent: clerk, description: Do the sums.}
  - {name: check, agent: boss, description: Check the work., context: [work]}
"""


def _run(tmp_path: Path, clerk: list[Any], boss: list[str] | None = None) -> tuple[Outcome, Team]:
    team = Team(boss=boss or ["fine"])
    team.models["clerk"] = ToolCallingModel(agent="clerk", replies=clerk, log=team.log)
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    with activated(ToolContext(workspace)):
        return run_scenario(YAML, team, tmp_path), team


def _tool_events(outcome: Outcome) -> list[dict[str, Any]]:
    return outcome.kinds("tool_call")


def test_a_tool_call_is_run_traced_and_answered(tmp_path: Path) -> None:
    """The model's call runs, a tool_call event precedes the turn, the result goes back to it."""
    outcome, team = _run(tmp_path, [calls(("calculator", {"expression": "6 * 7"})), "It is 42."])
    (event,) = _tool_events(outcome)
    assert event == {
        "kind": "tool_call",
        "agent": "clerk",
        "task": "work",
        "tool": "calculator",
        "arguments": {"expression": "6 * 7"},
        "result": "6 * 7 = 42",
        "error": None,
        "duration_ms": event["duration_ms"],
    }
    kinds = [e["kind"] for e in outcome.events]
    assert kinds.index("tool_call") < kinds.index("agent_message")
    clerk = team.models["clerk"]
    tool_message = clerk.received[1][-1]
    assert isinstance(tool_message, ToolMessage) and tool_message.content == "6 * 7 = 42"
    names = [t["function"]["name"] for t in clerk.bound[0]]
    assert names == ["calculator", "read_file"]
    assert outcome.kinds("agent_message")[0]["content"] == "It is 42."


def test_a_plain_answer_ends_the_turn(tmp_path: Path) -> None:
    """A first reply without tool calls is the turn's answer; toolless agents are not bound."""
    outcome, team = _run(tmp_path, ["no tools needed"], boss=["ok"])
    assert outcome.final == "ok" and not _tool_events(outcome)
    assert outcome.kinds("agent_message")[0]["content"] == "no tools needed"
    assert len(team.models["clerk"].bound) == 1


def test_a_hostile_call_is_an_error_the_model_reads(tmp_path: Path) -> None:
    """Path traversal and code injection fail as tool errors; the run goes on to the end."""
    script = [
        calls(
            ("read_file", {"path": "../../etc/passwd"}),
            ("calculator", {"expression": "__import__('os').system('id')"}),
        ),
        "I could not do that.",
    ]
    outcome, team = _run(tmp_path, script)
    errors = [e["error"] for e in _tool_events(outcome)]
    assert "'..' may not leave the workspace" in errors[0]
    assert "not allowed" in errors[1]
    results = [m.content for m in team.models["clerk"].received[1] if isinstance(m, ToolMessage)]
    assert all(r.startswith("error: ") for r in results)
    assert outcome.events[-1]["kind"] == "route" and outcome.final == "fine"


def test_unknown_tools_and_bad_arguments_are_errors(tmp_path: Path) -> None:
    """A tool the agent lacks, or arguments that fail validation, come back as errors."""
    script = [calls(("write_file", {"path": "x"}), ("calculator", {"expr": "1"})), "done"]
    outcome, _team = _run(tmp_path, script)
    first, second = _tool_events(outcome)
    assert first["error"] == "unknown tool 'write_file'; call one of: calculator, read_file"
    assert second["error"].startswith("bad arguments for calculator: expression: Field required")


def test_tool_rounds_are_bounded(tmp_path: Path) -> None:
    """A model that keeps calling tools is stopped after MAX_TOOL_ROUNDS and asked to answer."""
    script: list[Any] = [
        calls(("calculator", {"expression": f"{i} + 1"})) for i in range(MAX_TOOL_ROUNDS)
    ]
    outcome, team = _run(tmp_path, [*script, "final answer"])
    assert len(_tool_events(outcome)) == MAX_TOOL_ROUNDS
    (warning,) = outcome.kinds("warning")
    assert warning["code"] == "tool_rounds_exhausted"
    last_prompt = team.models["clerk"].prompt()
    assert "Results of your tool calls" in last_prompt and "2 + 1 = 3" in last_prompt
    assert outcome.kinds("agent_message")[0]["content"] == "final answer"


def test_a_repeated_call_ends_the_rounds(tmp_path: Path) -> None:
    """Repeating the same call does not run it again; the model is asked for its answer."""
    same = calls(("calculator", {"expression": "1 + 1"}))
    outcome, team = _run(tmp_path, [same, same, "two"])
    assert len(_tool_events(outcome)) == 1 and not outcome.kinds("warning")
    assert "1 + 1 = 2" in team.models["clerk"].prompt()
    assert outcome.kinds("agent_message")[0]["content"] == "two"


def test_without_a_workspace_the_model_is_told(tmp_path: Path) -> None:
    """A files tool called outside a run's workspace is an error message, not a crash."""
    team = Team(boss=["ok"])
    team.models["clerk"] = ToolCallingModel(
        agent="clerk", replies=[calls(("read_file", {"path": "a.md"})), "no"], log=team.log
    )
    outcome = run_scenario(YAML, team, tmp_path)
    assert _tool_events(outcome)[0]["error"].startswith("no workspace is active")


@pytest.mark.parametrize("size", [10_000])
def test_results_are_bounded_in_the_trace(tmp_path: Path, size: int) -> None:
    """A long tool result is cut in the tool_call event, saying how much was cut."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "long.md").write_text("y" * size)
    team = Team(boss=["ok"])
    team.models["clerk"] = ToolCallingModel(
        agent="clerk", replies=[calls(("read_file", {"path": "long.md"})), "read"], log=team.log
    )
    with activated(ToolContext(workspace)):
        outcome = run_scenario(YAML, team, tmp_path)
    result = _tool_events(outcome)[0]["result"]
    assert len(result) < 1100 and result.endswith("more characters cut]")


def test_tool_calls_of_a_turn_that_then_fails_stay_in_the_trace(tmp_path: Path) -> None:
    """A model error after a tool call fails the run, but the tool_call event is still written."""

    def dies(_messages: list[Any]) -> str:
        raise RuntimeError("the model server went away")

    with pytest.raises(RuntimeError, match="went away"):
        _run(tmp_path, [calls(("calculator", {"expression": "6 * 7"})), dies])
    events = read_events(tmp_path / "t.jsonl")
    assert [(e["kind"], e.get("tool")) for e in events] == [("tool_call", "calculator")]
    assert events[0]["result"] == "6 * 7 = 42"
