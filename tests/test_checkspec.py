"""Checks in the scenario language: one kind each, and errors that name file, line and field."""

from __future__ import annotations

import pytest

from scenarios.checkspec import CheckSpec
from scenarios.errors import ScenarioError
from scenarios.loader import load_text
from tests._adapters import SEQUENTIAL

WITH_CHECKS = SEQUENTIAL.replace(
    "team: {topology: sequential}",
    "team: {topology: sequential}\nchecks:\n  - {contains: article, ignore_case: true}\n",
)


def test_checks_load_on_the_scenario_and_on_tasks() -> None:
    """A scenario check and a task check load with their kinds and labels."""
    text = WITH_CHECKS.replace(
        "expected_output: An outline.}",
        "expected_output: An outline., checks: [{length: {min: 10}}, {tool_called: retrieve}]}",
    )
    scenario = load_text(text)
    (final,) = scenario.checks
    assert (final.kind, final.label, final.ignore_case) == ("contains", "contains 'article'", True)
    kinds = [c.kind for c in scenario.task("plan").checks]
    assert kinds == ["length", "tool_called"]
    assert scenario.task("plan").checks[1].tool_called.name == "retrieve"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("{contains: a, regex: b}", "exactly one kind"),
        ("{}", "exactly one kind"),
        ("{length: {min: 1}, ignore_case: true}", "ignore_case applies to"),
        ("{regex: '('}", "does not compile"),
        ("{python: not_a_path}", "write module:function"),
        ("{contains: '{nope}'}", "{nope}, which is not a declared input"),
        ("{contains: x, task: nosuch}", "unknown task 'nosuch'"),
        ("{judge: {rubric: Good?, model: nosuch}}", "unknown model profile 'nosuch' for the judge"),
        ("{max_seconds: 0}", "greater than 0"),
    ],
)
def test_a_bad_check_names_file_line_and_field(check: str, message: str) -> None:
    """Each mistake in a check is one `file:line: field: message` naming what to change."""
    text = WITH_CHECKS.replace("{contains: article, ignore_case: true}", check)
    with pytest.raises(ScenarioError) as info:
        load_text(text, source="t.yaml")
    first = str(info.value).splitlines()[0]
    assert first.startswith("t.yaml:") and "checks[0]" in first and message in first


def test_expected_values_are_allowed_placeholders() -> None:
    """`{expected.answer}` is an experiment row's expected value, not an unknown input."""
    text = WITH_CHECKS.replace(
        "{contains: article, ignore_case: true}", "{equals: '{expected.answer}'}"
    )
    assert load_text(text).checks[0].equals == "{expected.answer}"


def test_labels_name_the_check() -> None:
    """A named check keeps its name; others are named from kind and value."""
    assert CheckSpec(name="cites", python="m:f").label == "cites"
    assert CheckSpec(max_turns=4).label == "max_turns 4"
    assert CheckSpec(no_warnings=True).label == "no_warnings"
