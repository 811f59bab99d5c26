"""Semantic checks of a scenario's `checks:` (the spec is `scenarios.checkspec`).

A check names a task that exists, a judge profile the scenario has, and placeholders that
are inputs or an experiment row's expected values (`{expected.answer}`). A python check is
not imported here: a scenario is data until it runs.
"""

from __future__ import annotations

from scenarios.checkspec import TEXT_KINDS, CheckSpec
from scenarios.spec import Problem, Scenario, placeholders
from team.validate_text import known, text_problems

EXPECTED = "expected."


def check_problems(scenario: Scenario) -> list[Problem]:
    """Every problem of the scenario's checks and of its tasks' checks."""
    problems: list[Problem] = []
    tasks = [t.name for t in scenario.tasks]
    for j, check in enumerate(scenario.checks):
        loc = ("checks", j)
        if check.task is not None and check.task not in tasks:
            message = f"unknown task {check.task!r} (known: {known(tasks)})"
            problems.append(Problem((*loc, "task"), message))
        problems += _one(scenario, loc, check)
    for i, task in enumerate(scenario.tasks):
        for j, check in enumerate(task.checks):
            loc = ("tasks", i, "checks", j)
            if check.task not in (None, task.name):
                message = "a task's check looks at that task's output: remove task:"
                problems.append(Problem((*loc, "task"), message))
            problems += _one(scenario, loc, check)
    return problems


def _one(scenario: Scenario, loc: tuple, check: CheckSpec) -> list[Problem]:
    if check.judge is not None and check.judge.model not in scenario.models:
        profiles = known(scenario.models)
        message = (
            f"unknown model profile {check.judge.model!r} for the judge (known: {profiles}); "
            "add one under models:"
        )
        return [Problem((*loc, "judge", "model"), message)]
    if check.kind not in TEXT_KINDS:
        return []
    text = str(getattr(check, check.kind))
    try:
        expected = tuple(f for f in placeholders(text) if f.startswith(EXPECTED))
    except ValueError:
        expected = ()
    return text_problems(scenario, (*loc, check.kind), text, allowed=expected)
