"""JSON Schema → grammar: integer bounds are exact, and properties keep the schema's order."""

from __future__ import annotations

import random
import re

import pytest

from gateway.grammar import digit_spans, integer_bounds, integer_rule


def _as_regex(rule: str) -> re.Pattern[str]:
    """The GBNF integer rule as a Python regular expression (its alternatives are digit runs)."""
    pattern = rule.replace('"-"', "-").replace(" | ", "|").replace(" ", "")
    return re.compile(re.sub(r'"(\d)"', r"\1", pattern))


def _probe(low: int, high: int) -> list[int]:
    near = [*range(low - 12, low + 12), *range(high - 12, high + 12)]
    return [*near, 0, -1, 1, 10, -10, 99, 100, 10**15, -(10**15)]


@pytest.mark.parametrize("seed", range(4))
def test_integer_rule_accepts_exactly_the_range(seed: int) -> None:
    """For random ranges, the rule matches a number if and only if it lies in the range."""
    rng = random.Random(seed)
    for _ in range(300):
        low = rng.choice([rng.randint(-3000, 3000), rng.randint(-(10**7), 10**7), 0, 1, 9, -1])
        high = low + rng.choice([0, 1, 8, 9, 10, 99, 100, 999, rng.randint(0, 10**7)])
        rule = _as_regex(integer_rule(low, high))
        for number in _probe(low, high):
            assert bool(rule.fullmatch(str(number))) == (low <= number <= high), (low, high)


def test_one_sided_bounds_cap_at_sixteen_digits() -> None:
    """`minimum` alone allows any larger integer of up to 16 digits; never a leading zero."""
    rule = _as_regex(integer_rule(5, None))
    assert rule.fullmatch("5") and rule.fullmatch("9" * 16) and not rule.fullmatch("1" * 17)
    assert not rule.fullmatch("4") and not rule.fullmatch("05") and not rule.fullmatch("-5")
    negative = _as_regex(integer_rule(None, -3))
    assert negative.fullmatch("-3") and negative.fullmatch("-1000") and not negative.fullmatch("-2")
    assert not _as_regex(integer_rule(-5, 5)).fullmatch("-0")


def test_digit_spans_of_an_empty_range_are_none() -> None:
    """A range with high below low, or below zero, has no digit patterns."""
    assert digit_spans(5, 4) == [] and digit_spans(-1, 3) == []


@pytest.mark.parametrize(
    ("schema", "bounds"),
    [
        ({"minimum": 1, "maximum": 5}, (1, 5)),
        ({"exclusiveMinimum": 0, "exclusiveMaximum": 10}, (1, 9)),
        ({"minimum": 0, "exclusiveMinimum": True, "maximum": 5, "exclusiveMaximum": True}, (1, 4)),
        ({"minimum": 1.5, "maximum": 4.5}, (2, 4)),
        ({"exclusiveMinimum": 1.5}, (2, None)),
        ({"maximum": 3}, (None, 3)),
        ({}, (None, None)),
    ],
)
def test_integer_bounds_read_every_draft(schema: dict, bounds: tuple) -> None:
    """Inclusive integer bounds from draft-4 flags, draft-6 numbers and fractional limits."""
    assert integer_bounds(schema) == bounds


def test_schema_grammar_keeps_property_order_and_bounds() -> None:
    """The grammar lists properties in the schema's order and bounds `k` to 1-5; llama parses it."""
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    from gateway.grammar import schema_gbnf

    joke = {
        "type": "object",
        "properties": {"setup": {"type": "string"}, "punchline": {"type": "string"}},
        "required": ["setup", "punchline"],
    }
    gbnf = schema_gbnf(joke)
    root = next(line for line in gbnf.splitlines() if line.startswith("root ::="))
    assert root.index("setup-kv") < root.index("punchline-kv")
    bounded = {
        "type": "object",
        "properties": {"k": {"type": "integer", "minimum": 1, "maximum": 5}},
        "required": ["k"],
    }
    gbnf = schema_gbnf(bounded)
    assert "k ::= ([1-5]) space" in gbnf.splitlines()
    llama_grammar.LlamaGrammar.from_string(gbnf, verbose=False)


def test_strings_never_hold_raw_control_characters() -> None:
    """A string rule excludes raw control characters, so a constrained answer is valid JSON."""
    pytest.importorskip("llama_cpp.llama_grammar")
    from gateway.grammar import schema_gbnf

    char = next(line for line in schema_gbnf({"type": "string"}).splitlines() if "char ::=" in line)
    assert r"\x00-\x1F" in char and r"\x7F" in char
