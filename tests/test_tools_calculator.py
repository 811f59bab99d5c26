"""The calculator tool: arithmetic by parsing, and refusal of everything else."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tools import call_tool, get
from tools.base import ToolError
from tools.calculator import evaluate
from tools.workspace import ToolContext


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("2 ** 10", 1024),
        ("7 // 2 + 7 % 2", 4),
        ("-3 + +5", 2),
        ("10 / 4", 2.5),
        ("sqrt(16) + max(1, 5, 3)", 9.0),
        ("round(2 * pi, 2)", 6.28),
    ],
)
def test_arithmetic_follows_python_precedence(expression: str, value: float) -> None:
    """Operators, parentheses, constants and whitelisted functions compute the usual values."""
    assert evaluate(expression) == pytest.approx(value)


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('touch /tmp/calculator-pwned')",
        "(1).__class__.__bases__",
        "open('/etc/passwd').read()",
        "x + 1",
        "(lambda: 1)()",
        "[1, 2, 3]",
        "'a' * 3",
        "1 if True else 2",
        "sqrt(x=4)",
        "eval('1')",
    ],
)
def test_anything_but_arithmetic_is_refused(expression: str) -> None:
    """Calls, names, attributes, strings and other syntax are refused before anything runs."""
    with pytest.raises(ToolError, match=r"not allowed|cannot parse"):
        evaluate(expression)
    assert not Path("/tmp/calculator-pwned").exists()


def test_huge_powers_are_refused_quickly() -> None:
    """A power tower like 9**9**9 is refused at once instead of freezing the run."""
    start = time.perf_counter()
    for expression in ("9 ** 9 ** 9", "10 ** 100000", "2 ** 1001", "(10 ** 300) * (10 ** 300)"):
        with pytest.raises(ToolError, match=r"too large|digits"):
            evaluate(expression)
    assert time.perf_counter() - start < 1


def test_long_expressions_are_refused() -> None:
    """An expression longer than the limit is refused with the limit in the message."""
    with pytest.raises(ToolError, match="longer than 500"):
        evaluate("1+" * 300 + "1")


def test_a_failing_call_reaches_the_model_as_an_error(tmp_path: Path) -> None:
    """Division by zero and an injection attempt become tool errors, not exceptions."""
    context = ToolContext(tmp_path)
    zero = call_tool(get("calculator"), {"expression": "1 / 0"}, context)
    assert zero.error is not None and "division by zero" in zero.error
    assert zero.for_model.startswith("error: ")
    hostile = call_tool(get("calculator"), '{"expression": "__import__(\'os\')"}', context)
    assert hostile.error is not None and "not allowed" in hostile.error


def test_a_good_call_returns_the_expression_and_its_value(tmp_path: Path) -> None:
    """The result names the expression and its value; a whole float prints as an integer."""
    result = call_tool(get("calculator"), {"expression": "(120 + 80) * 1.5"}, ToolContext(tmp_path))
    assert result.error is None
    assert result.result == "(120 + 80) * 1.5 = 300"
