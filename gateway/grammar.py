"""JSON Schema → GBNF for the embedded engine: llama.cpp's converter, plus integer bounds.

llama-cpp-python's `SchemaConverter` turns a JSON Schema into a grammar that constrains
decoding, but it ignores `minimum` and `maximum`: a tool whose `k` allows 1–5 came back
with 10. `BoundedConverter` adds an exact grammar for bounded integers, and the schema's
property order is kept (the grammar writes properties in the order the schema lists them).

Enforced by the grammar, so the model cannot produce anything else:
`type`, `properties` (in the schema's order), `required`, `additionalProperties` (extra keys
only where it is `true` or a schema), `enum`, `const`, `anyOf`/`oneOf`, `$ref`/`$defs`,
`items`/`prefixItems`, `minItems`/`maxItems`, `minLength`/`maxLength` (strings without a
`pattern`), `pattern` (a regular-expression subset), the `date`/`time`/`date-time`/`uuid`
formats, and `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum` on integers.

Left to validation by whoever reads the answer (the tool's argument model, which sends the
model a tool error naming the bound; the task's `output_schema`, retried once with the
error): bounds on non-integer numbers, `multipleOf`, `uniqueItems`, `minProperties`,
`maxProperties`, `not`, `if`/`then`/`else`, other string formats, and lengths on strings
that also have a `pattern`.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

from gateway.catalog import llama

MAX_INT_DIGITS = 16  # as llama.cpp's own `integer` rule: up to 16 digits
# A character inside a JSON string. llama-cpp-python's converter allows raw control
# characters (a newline) there, which makes the answer invalid JSON; its own JSON_GBNF,
# like the JSON standard, does not.
JSON_CHAR = r'[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})'
INT_BOUND_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
GRAMMAR_KEYWORDS: tuple[str, ...] = (
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "$ref",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "format (date, time, date-time, uuid)",
    "minimum/maximum/exclusiveMinimum/exclusiveMaximum (integers)",
)
VALIDATED_KEYWORDS: tuple[str, ...] = (
    "minimum/maximum/exclusiveMinimum/exclusiveMaximum (numbers)",
    "multipleOf",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "not",
    "if/then/else",
    "format (others)",
)

Digits = tuple[tuple[int, int], ...]  # one (lowest, highest) digit per position


def digit_spans(low: int, high: int) -> list[Digits]:
    """Digit patterns that match exactly the decimal numbers in [low, high] (both >= 0).

    Each pattern is one digit range per position; numbers of different lengths get their
    own patterns, and no pattern matches a number with a leading zero.
    """
    if low < 0 or high < low:
        return []
    spans: list[Digits] = []
    for length in range(len(str(low)), len(str(high)) + 1):
        first = 0 if length == 1 else 10 ** (length - 1)
        a, b = max(low, first), min(high, 10**length - 1)
        if a <= b:
            spans.extend(_same_length(str(a), str(b)))
    return spans


def _same_length(a: str, b: str) -> list[Digits]:
    """Patterns for [a, b], two digit strings of one length with a <= b."""
    if not a:
        return [()]
    head_a, head_b, rest = int(a[0]), int(b[0]), len(a) - 1
    if head_a == head_b:
        return [((head_a, head_a), *tail) for tail in _same_length(a[1:], b[1:])]
    low_full, high_full = a[1:] == "0" * rest, b[1:] == "9" * rest
    spans: list[Digits] = []
    if not low_full:
        spans += [((head_a, head_a), *tail) for tail in _same_length(a[1:], "9" * rest)]
    start = head_a if low_full else head_a + 1
    end = head_b if high_full else head_b - 1
    if start <= end:
        spans.append(((start, end), *((0, 9),) * rest))
    if not high_full:
        spans += [((head_b, head_b), *tail) for tail in _same_length("0" * rest, b[1:])]
    return spans


def integer_bounds(schema: dict[str, Any]) -> tuple[int | None, int | None]:
    """The inclusive integer bounds a schema sets (draft 4 boolean exclusives included)."""
    low = _bound(schema, "minimum", "exclusiveMinimum", math.ceil, +1)
    high = _bound(schema, "maximum", "exclusiveMaximum", math.floor, -1)
    return low, high


def _bound(schema: dict[str, Any], key: str, exclusive_key: str, rnd: Any, step: int) -> int | None:
    candidates = []
    value, exclusive = schema.get(key), schema.get(exclusive_key)
    if _is_number(value):
        inclusive = rnd(value)
        if exclusive is True and inclusive == value:  # draft 4: a flag on `key`
            inclusive += step
        candidates.append(inclusive)
    if _is_number(exclusive):
        strict = rnd(exclusive)
        candidates.append(strict + step if strict == exclusive else strict)
    if not candidates:
        return None
    return max(candidates) if step > 0 else min(candidates)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def integer_rule(low: int | None, high: int | None) -> str:
    """A GBNF expression for the JSON integers in [low, high] (None: unbounded that side)."""
    cap = 10**MAX_INT_DIGITS - 1
    low = -cap if low is None else max(low, -cap)
    high = cap if high is None else min(high, cap)
    if low > high:
        raise ValueError(f"no integer lies in [{low}, {high}]")
    alternatives = []
    if low < 0:  # negatives as "-" and a magnitude; never "-0"
        magnitudes = digit_spans(max(1, -min(high, -1)), -low)
        alternatives += [f'"-" {_render(span)}' for span in magnitudes]
    if high >= 0:
        alternatives += [_render(span) for span in digit_spans(max(low, 0), high)]
    return "(" + " | ".join(alternatives) + ")"


def _render(span: Digits) -> str:
    return " ".join(f'"{a}"' if a == b else f"[{a}-{b}]" for a, b in span)


@lru_cache(maxsize=1)
def _converter_class() -> type:
    """`SchemaConverter` with bounded integers (made once, when llama_cpp is first needed)."""
    base = llama().llama_grammar.SchemaConverter
    reserved = llama().llama_grammar.RESERVED_NAMES

    class BoundedConverter(base):  # type: ignore[misc, valid-type]
        """llama.cpp's converter; bounded integers get an exact range, strings valid JSON."""

        def _add_primitive(self, name: str, rule: Any) -> str:
            if name == "char":
                rule = llama().llama_grammar.BuiltinRule(JSON_CHAR, [])
            return str(super()._add_primitive(name, rule))

        def visit(self, schema: dict[str, Any], name: str) -> str:
            if schema.get("type") == "integer" and any(k in schema for k in INT_BOUND_KEYS):
                low, high = integer_bounds(schema)
                if low is not None or high is not None:
                    rule_name = name + "-" if name in reserved else name or "root"
                    return self._add_rule(rule_name, integer_rule(low, high) + " space")
            return super().visit(schema, name)

    return BoundedConverter


def schema_gbnf(schema: dict[str, Any]) -> str:
    """The GBNF text constraining output to `schema` (property order as the schema has it)."""
    converter = _converter_class()(
        prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False
    )
    resolved = converter.resolve_refs(json.loads(json.dumps(schema)), "schema")
    converter.visit(resolved, "")
    return str(converter.format_grammar())
