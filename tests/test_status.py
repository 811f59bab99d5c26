"""A run's status says what happened, the same way on every framework.

`ok` only when every turn produced output and nothing was cut or failed; otherwise
`degraded`, with each reason a `warning` written where it happened and counted in
`run_finished.reasons`. Runs go through the real harness and gateway to a scripted Ollama.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests._adapters import SEQUENTIAL, SUPERVISOR, TOOLS, Outcome, cut, run_on, tool_call
from traces.health import RunHealth, describe, reasons_of, status_label

FRAMEWORKS = ("langgraph", "crewai", "autogen")


def _codes(outcome: Outcome) -> list[str]:
    return [w["code"] for w in outcome.kinds("warning")]


def _finished(outcome: Outcome) -> dict[str, Any]:
    finished = outcome.events[-1]
    assert finished["kind"] == "run_finished"
    return finished


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_clean_run_is_ok_with_no_reasons(framework: str, tmp_path: Path) -> None:
    """Every turn answered in full: status ok, no reasons, no warnings."""
    outcome = run_on(framework, SEQUENTIAL, ["OUTLINE", "ARTICLE", "FINAL"], tmp_path)
    assert outcome.code == 0, outcome.error
    assert _finished(outcome)["status"] == "ok" and _finished(outcome)["reasons"] == {}
    assert _codes(outcome) == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_answer_cut_at_num_predict_degrades_the_run(framework: str, tmp_path: Path) -> None:
    """A reply with done_reason length: answer_truncated right after its call, run degraded."""
    outcome = run_on(framework, SEQUENTIAL, ["OUTLINE", cut("ARTICLE cut"), "FINAL"], tmp_path)
    assert outcome.code == 0, outcome.error
    assert _finished(outcome)["status"] == "degraded"
    assert _finished(outcome)["reasons"] == {"answer_truncated": 1}
    kinds = [e["kind"] for e in outcome.events]
    (warning,) = outcome.kinds("warning")
    at = outcome.events.index(warning)
    assert kinds[at - 1] == "llm_call" and outcome.events[at - 1]["done_reason"] == "length"
    assert warning["agent"] == "writer" and warning["num_predict"] == 64
    assert "num_predict" in warning["message"]


TOOL_FAILURES = {  # the calculator refuses "6*", then the agent answers
    "langgraph": [tool_call("calculator", expression="6*"), "I could not compute it."],
    "autogen": [tool_call("calculator", expression="6*"), "I could not compute it."],
    "crewai": [
        'Thought: I compute it\nAction: calculator\nAction Input: {"expression": "6*"}',
        "Thought: it failed\nFinal Answer: I could not compute it.",
    ],
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_failed_tool_call_degrades_the_run(framework: str, tmp_path: Path) -> None:
    """A tool call that errs: tool_failed follows its tool_call, with the error; degraded."""
    outcome = run_on(framework, TOOLS, TOOL_FAILURES[framework], tmp_path)
    assert outcome.code == 0, outcome.error
    (call,) = outcome.kinds("tool_call")
    assert call["error"]
    (warning,) = outcome.kinds("warning")
    assert warning["code"] == "tool_failed" and warning["error"] == call["error"]
    assert outcome.events.index(warning) == outcome.events.index(call) + 1
    assert (warning["agent"], warning["tool"]) == ("counter", "calculator")
    assert _finished(outcome)["status"] == "degraded"
    assert _finished(outcome)["reasons"] == {"tool_failed": 1}


@pytest.mark.parametrize("framework", ["langgraph", "autogen"])
def test_an_empty_answer_degrades_the_run(framework: str, tmp_path: Path) -> None:
    """A turn that answers nothing: empty_output names the agent and task; degraded."""
    outcome = run_on(framework, SEQUENTIAL, ["OUTLINE", "", "FINAL"], tmp_path)
    assert outcome.code == 0, outcome.error
    (warning,) = outcome.kinds("warning")
    assert warning["code"] == "empty_output" and warning["agent"] == "writer"
    assert warning["task"] == "write"
    assert _finished(outcome)["reasons"] == {"empty_output": 1}


def test_crewai_asks_again_after_an_empty_answer(tmp_path: Path) -> None:
    """CrewAI re-asks after an empty reply: two calls, but no empty turn, so the run is ok."""
    outcome = run_on("crewai", SEQUENTIAL, ["OUTLINE", "", "ARTICLE", "FINAL"], tmp_path)
    assert outcome.code == 0, outcome.error
    assert [t["content"] for t in outcome.kinds("agent_message")] == ["OUTLINE", "ARTICLE", "FINAL"]
    assert [c["agent"] for c in outcome.kinds("llm_call")].count("writer") == 2
    assert _finished(outcome)["status"] == "ok" and _codes(outcome) == []


FINISH_FIRST = {  # the supervisor ends the run before any member worked
    "langgraph": ['{"next": "FINISH", "reason": "nothing to do", "instruction": ""}'],
    "autogen": ["boss"],
}


@pytest.mark.parametrize("framework", ["langgraph", "autogen"])
def test_a_supervisor_that_finishes_first_leaves_no_turns(framework: str, tmp_path: Path) -> None:
    """FINISH before any member worked: no_turns, status degraded, not ok."""
    outcome = run_on(framework, SUPERVISOR, FINISH_FIRST[framework], tmp_path)
    assert outcome.code == 0, outcome.error
    assert outcome.turns() == []
    assert "no_turns" in _codes(outcome)
    finished = _finished(outcome)
    assert finished["status"] == "degraded" and finished["reasons"]["no_turns"] == 1


def test_health_counts_degrading_warnings_and_ignores_the_rest() -> None:
    """Limit warnings that degrade are counted; max_rounds_reached is a normal end."""
    health = RunHealth()
    health.after("warning", {"code": "max_turns_reached"})
    health.after("warning", {"code": "max_rounds_reached"})
    health.after("agent_message", {"agent": "a", "content": "text"})
    assert health.closing("text") == []
    assert health.status() == ("degraded", {"max_turns_reached": 1})


def test_describe_and_label_count_reasons_in_words() -> None:
    """Reasons read as `2 tool errors, 1 truncated`; ok carries no parenthesis."""
    reasons = {"answer_truncated": 1, "tool_failed": 2}
    assert describe(reasons) == "2 tool errors, 1 truncated"
    assert status_label("degraded", reasons) == "degraded (2 tool errors, 1 truncated)"
    assert status_label("ok", {}) == "ok"
    events = [{"kind": "warning", "code": "tool_failed"}, {"kind": "warning", "code": "x"}]
    assert reasons_of(events) == {"tool_failed": 1}
