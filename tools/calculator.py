"""`calculator`: arithmetic by parsing the expression with `ast` and a whitelist, never `eval`.

Numbers, `+ - * / // % **`, parentheses, the constants `pi` and `e`, and a few functions
(`sqrt`, `abs`, `round`, `min`, `max`, `floor`, `ceil`, `log`) are allowed; anything else
(names, attributes, calls of other things, `__import__`) is refused before anything runs.
Exponents and results are bounded, so `9**9**9` is refused instead of freezing the run.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from tools.base import Tool, ToolError

MAX_EXPRESSION_CHARS = 500
MAX_EXPONENT = 1000
MAX_INT_DIGITS = 400
HELP = "use numbers, + - * / // % **, parentheses, pi, e, sqrt, abs, round, min, max, log"

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "log": math.log,
}


class CalculatorArgs(BaseModel):
    """Arguments of `calculator`."""

    expression: str = Field(description="An arithmetic expression, e.g. (120 + 80) * 1.2")


def evaluate(expression: str) -> int | float:
    """The value of an arithmetic expression; a ToolError for anything not arithmetic."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"expression longer than {MAX_EXPRESSION_CHARS} characters: shorten it")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ToolError(f"cannot parse {expression!r}: {HELP}") from None
    try:
        return _check(_eval(tree.body))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
        raise ToolError(f"cannot compute {expression!r}: {exc}") from None


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _check(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.Call):
        return _call(node)
    raise ToolError(f"{_describe(node)} is not allowed: {HELP}")


def _call(node: ast.Call) -> Any:
    if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
        raise ToolError(f"{_describe(node.func)}(...) is not allowed: {HELP}")
    return _check(_FUNCTIONS[node.func.id](*[_eval(arg) for arg in node.args]))


def _check_power(base: Any, exponent: Any) -> None:
    digits = abs(exponent) * math.log10(abs(base)) if abs(base) > 1 else 0
    if abs(exponent) > MAX_EXPONENT or digits > MAX_INT_DIGITS:
        raise ToolError(f"{base} ** {exponent} is too large to compute")


def _check(value: Any) -> Any:
    if isinstance(value, int) and len(str(abs(value))) > MAX_INT_DIGITS:
        raise ToolError(f"result has more than {MAX_INT_DIGITS} digits")
    if isinstance(value, complex):
        raise ToolError("complex results are not supported")
    return value


def _describe(node: ast.AST) -> str:
    text = ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__
    return repr(text if len(text) <= 40 else text[:40] + "…")


def calculate(args: CalculatorArgs, _context: Any) -> str:
    """Run `calculator`: the expression and its value."""
    value = evaluate(args.expression)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{args.expression.strip()} = {value}"


TOOL = Tool(
    name="calculator",
    description="Evaluate an arithmetic expression (numbers, + - * / // % **, parentheses, "
    "sqrt, round, min, max) and return its value.",
    args=CalculatorArgs,
    func=calculate,
)
