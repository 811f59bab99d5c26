"""Every check kind against runs with known outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from checks.score import CheckResult, score_one, score_run
from checks.view import RunView, ToolUse
from scenarios.checkspec import CheckSpec

VIEW = RunView(
    final_output='Vector databases index embeddings. {"answer": 42}',
    task_outputs={"plan": "1. intro 2. body"},
    tool_uses=[ToolUse("retrieve", False), ToolUse("retrieve", True)],
    warnings=["answer_truncated"],
    turns=3,
    output_tokens=120,
    wall_time_s=9.5,
    inputs={"topic": "vector databases"},
    expected={"keyword": "VECTOR"},
)


def _score(task: str | None = None, **check: Any) -> CheckResult:
    return score_one(CheckSpec(**check), task, VIEW, None)


@pytest.mark.parametrize(
    ("check", "passed"),
    [
        ({"contains": "{topic}"}, False),  # "Vector databases" starts with a capital
        ({"contains": "{topic}", "ignore_case": True}, True),
        ({"contains": "{expected.keyword}", "ignore_case": True}, True),
        ({"not_contains": "lamp"}, True),
        ({"not_contains": "index"}, False),
        ({"regex": r"\bembed\w+"}, True),
        ({"regex": "^vector", "ignore_case": True}, True),
        ({"equals": "  1. INTRO 2. BODY ", "ignore_case": True, "task": "plan"}, True),
        ({"equals": "1. intro"}, False),
        ({"json_schema": {"type": "object", "required": ["answer"]}}, True),
        ({"json_schema": {"type": "object", "required": ["missing"]}}, False),
        ({"length": {"min": 10, "max": 100}}, True),
        ({"length": {"max": 10}}, False),
        ({"tool_called": {"name": "retrieve", "min": 2}}, True),
        ({"tool_called": {"name": "retrieve", "no_errors": True}}, False),
        ({"tool_called": {"name": "calculator"}}, False),
        ({"no_warnings": True}, False),
        ({"max_turns": 3}, True),
        ({"max_turns": 2}, False),
        ({"max_tokens": 100}, False),
        ({"max_seconds": 10}, True),
    ],
)
def test_each_deterministic_kind_scores_one_or_zero(check: dict[str, Any], passed: bool) -> None:
    """A deterministic check passes with score 1, or fails with score 0, and says why."""
    task = check.pop("task", None)
    result = _score(task, **check)
    assert result.passed is passed and result.score == (1.0 if passed else 0.0)
    assert result.detail and result.target == ("final" if task is None else f"task:{task}")


def test_a_check_without_its_expected_value_is_not_applied() -> None:
    """A row that gives no expected value for a check leaves that check out."""
    view = RunView(final_output="x", expected={})
    results = score_run(
        view, [(CheckSpec(contains="{expected.keyword}"), None), (CheckSpec(max_turns=5), None)]
    )
    assert [r.name for r in results] == ["max_turns 5"]


def scorer(output: str, trace: Any) -> Any:
    """A user's scorer for the tests: a graded score with a detail."""
    return (0.75, f"{len(output)} chars")


def broken(output: str, trace: Any) -> Any:
    """A user's scorer that fails."""
    raise ValueError("no good")


def test_a_python_scorer_grades_and_a_broken_one_fails_the_check() -> None:
    """module:function gives a graded score; one that raises fails with its error."""
    graded = _score(python="tests.test_checks_score:scorer", name="mine")
    assert (graded.name, graded.passed, graded.score) == ("mine", True, 0.75)
    failed = _score(python="tests.test_checks_score:broken")
    assert not failed.passed and failed.score == 0 and "ValueError: no good" in failed.detail


class FixedJudge:
    """A scripted judge: always the same score."""

    def __init__(self, score: float) -> None:
        self.score = score

    def rate(self, check: CheckSpec, output: str, view: RunView) -> tuple[float, str]:
        """The scripted score and a reason."""
        return self.score, "scripted"


def test_the_judge_passes_at_its_threshold_and_is_skipped_without_one() -> None:
    """0.6 passes at pass_at 0.5 and fails at 0.8; with no judge the check is not applied."""
    check = CheckSpec(judge={"rubric": "Good?", "pass_at": 0.5})
    assert score_one(check, None, VIEW, FixedJudge(0.6)).passed
    strict = CheckSpec(judge={"rubric": "Good?", "pass_at": 0.8})
    assert not score_one(strict, None, VIEW, FixedJudge(0.6)).passed
    assert score_run(VIEW, [(check, None)], judge=None) == []
