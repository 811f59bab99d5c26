"""Shared by the scenario's semantic checks: how known names are listed, placeholder checks."""

from __future__ import annotations

from collections.abc import Iterable

from scenarios.spec import Problem, Scenario, placeholders


def known(names: Iterable[str]) -> str:
    """Names as a comma-separated list, or `none`."""
    return ", ".join(names) or "none"


def text_problems(
    scenario: Scenario,
    loc: tuple,
    text: str,
    allowed: tuple[str, ...] = (),
    what: str = "uses",
) -> list[Problem]:
    """Problems with the `{placeholder}`s of one prompt text: each must be a declared input."""
    try:
        fields = placeholders(text)
    except ValueError as exc:
        message = f"bad braces in text ({exc}); write {{{{ and }}}} for literal braces"
        return [Problem(loc, message)]
    declared = list(scenario.inputs)
    unknown = [f for f in dict.fromkeys(fields) if f not in declared and f not in allowed]
    return [
        Problem(
            loc,
            f"{what} {{{field}}}, which is not a declared input "
            f"(declared inputs: {known(declared)}); declare it under inputs: "
            f"or write {{{{{field}}}}} for literal braces",
        )
        for field in unknown
    ]
