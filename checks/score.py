"""Score one run against its checks: each check gives passed, a score in 0..1 and a detail.

Text values are filled with the run's inputs (`{topic}`) and its input row's expected
values (`{expected.answer}`); a check whose expected value the row does not give is not
applied to that run (it has nothing to compare with). Deterministic checks score 1 or 0; a
`python:` scorer and the judge may score in between.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace
from typing import Any, Protocol

from checks.view import RunView
from scenarios.checkspec import CheckSpec
from team.turn import first_json_object

DETAIL_CHARS = 300


@dataclass(frozen=True)
class CheckResult:
    """One check on one run, as the `check` event carries it."""

    name: str
    target: str  # "final", or "task:<name>"
    passed: bool
    score: float
    detail: str


class Judge(Protocol):
    """An LLM that rates an output against a rubric (`checks.judge`)."""

    def rate(self, check: CheckSpec, output: str, view: RunView) -> tuple[float, str]:
        """A score in 0..1 and the judge's reason."""
        ...


class NotApplicable(Exception):
    """The check cannot be applied to this run (an expected value it needs is missing)."""


def score_run(
    view: RunView, checks: list[tuple[CheckSpec, str | None]], judge: Judge | None = None
) -> list[CheckResult]:
    """Each applicable check's result; `checks` pairs each check with the task it looks at."""
    results = []
    for check, task in checks:
        try:
            results.append(score_one(check, task, view, judge))
        except NotApplicable:
            continue
    return results


def score_one(
    check: CheckSpec, task: str | None, view: RunView, judge: Judge | None
) -> CheckResult:
    """One check's result on the run (NotApplicable when it has nothing to compare with)."""
    target = "final" if task is None else f"task:{task}"
    output = view.output_of(task)
    try:
        passed, score, detail = _SCORERS[check.kind](check, output, view, judge)
    except NotApplicable:
        raise
    except Exception as exc:  # a scorer's own failure is the check's result, not a crash
        passed, score, detail = False, 0.0, f"the check could not run: {type(exc).__name__}: {exc}"
    return CheckResult(check.label, target, passed, max(0.0, min(1.0, score)), _clip(detail))


def fill(text: str, view: RunView) -> str:
    """A check's text with the run's inputs and expected values filled in."""
    values = {**view.inputs, "expected": SimpleNamespace(**view.expected)}
    try:
        return text.format_map(values)
    except AttributeError as exc:
        raise NotApplicable(str(exc)) from None


def _verdict(passed: bool, detail: str) -> tuple[bool, float, str]:
    return passed, 1.0 if passed else 0.0, detail


def _text(check: CheckSpec, output: str, view: RunView, _judge: Any) -> tuple[bool, float, str]:
    wanted = fill(str(getattr(check, check.kind)), view)
    flags = re.IGNORECASE if check.ignore_case else 0
    if check.kind == "regex":
        match = re.search(wanted, output, flags)
        return _verdict(match is not None, f"matched {match.group(0)!r}" if match else "no match")
    if check.kind == "equals":
        left, right = output.strip(), wanted.strip()
        if check.ignore_case:
            left, right = left.casefold(), right.casefold()
        return _verdict(left == right, f"the output is {output.strip()[:80]!r}")
    found = re.search(re.escape(wanted), output, flags) is not None
    if check.kind == "contains":
        return _verdict(found, f"{'found' if found else 'missing'}: {wanted!r}")
    return _verdict(not found, f"{'present' if found else 'absent'}: {wanted!r}")


def _json_schema(
    check: CheckSpec, output: str, _view: RunView, _judge: Any
) -> tuple[bool, float, str]:
    from jsonschema.validators import validator_for  # on first use, as in team.schemas

    try:
        value = json.loads(output)
    except ValueError:
        value = first_json_object(output)
    if value is None:
        return _verdict(False, "no JSON in the output")
    schema = check.json_schema or {}
    errors = list(validator_for(schema)(schema).iter_errors(value))
    return _verdict(not errors, errors[0].message if errors else "valid")


def _length(check: CheckSpec, output: str, _view: RunView, _judge: Any) -> tuple[bool, float, str]:
    assert check.length is not None
    low, high, size = check.length.min, check.length.max, len(output)
    passed = (low is None or size >= low) and (high is None or size <= high)
    return _verdict(passed, f"{size} characters")


def _tool_called(
    check: CheckSpec, _output: str, view: RunView, _judge: Any
) -> tuple[bool, float, str]:
    spec = check.tool_called
    assert spec is not None
    uses = [u for u in view.tool_uses if u.tool == spec.name]
    failed = sum(u.failed for u in uses)
    passed = len(uses) >= spec.min and not (spec.no_errors and failed)
    return _verdict(passed, f"{spec.name} called {len(uses)} times, {failed} failed")


def _no_warnings(
    check: CheckSpec, _output: str, view: RunView, _judge: Any
) -> tuple[bool, float, str]:
    wanted = bool(check.no_warnings)
    shown = ", ".join(dict.fromkeys(view.warnings)) or "none"
    return _verdict((not view.warnings) == wanted, f"warnings: {shown}")


def _limit(attr: str, unit: str) -> Callable[..., tuple[bool, float, str]]:
    def score(
        check: CheckSpec, _output: str, view: RunView, _judge: Any
    ) -> tuple[bool, float, str]:
        limit = getattr(check, check.kind)
        value = getattr(view, attr)
        return _verdict(value <= limit, f"{value:g} {unit} (at most {limit:g})")

    return score


def _python(check: CheckSpec, output: str, view: RunView, _judge: Any) -> tuple[bool, float, str]:
    module, _, name = str(check.python).partition(":")
    function = getattr(import_module(module), name)
    return _python_result(function(output, view.trace))


def _python_result(value: Any) -> tuple[bool, float, str]:
    """A user scorer's answer: bool, a score, (either, detail), or {passed, score, detail}."""
    if isinstance(value, dict):
        score = float(value.get("score", 1.0 if value.get("passed") else 0.0))
        return bool(value.get("passed", score >= 0.5)), score, str(value.get("detail", ""))
    detail = ""
    if isinstance(value, tuple):
        value, detail = value[0], str(value[1])
    if isinstance(value, bool):
        return value, 1.0 if value else 0.0, detail
    score = float(value)
    return score >= 0.5, score, detail


def _judge(
    check: CheckSpec, output: str, view: RunView, judge: Judge | None
) -> tuple[bool, float, str]:
    assert check.judge is not None
    if judge is None:
        raise NotApplicable("no judge model to call")
    score, reason = judge.rate(check, output, view)
    return score >= check.judge.pass_at, score, reason


def _clip(text: str) -> str:
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


_SCORERS: dict[str, Callable[..., tuple[bool, float, str]]] = {
    "contains": _text,
    "not_contains": _text,
    "regex": _text,
    "equals": _text,
    "json_schema": _json_schema,
    "length": _length,
    "tool_called": _tool_called,
    "no_warnings": _no_warnings,
    "max_turns": _limit("turns", "turns"),
    "max_tokens": _limit("output_tokens", "output tokens"),
    "max_seconds": _limit("wall_time_s", "s"),
    "python": _python,
    "judge": _judge,
}
