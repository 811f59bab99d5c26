"""The checks a scenario (or an experiment) runs on every run: the spec, not the scoring.

A check is one mapping with exactly one kind key and a few shared options:

    checks:
      - {contains: "{topic}", ignore_case: true}
      - {length: {min: 200, max: 4000}}
      - {tool_called: {name: retrieve, min: 1, no_errors: true}}
      - {judge: {rubric: "Is it accurate and on topic?", scale: 5, model: judge}}
      - {python: "my_checks:cites_sources", name: cites}

On a task it looks at that task's output; on the scenario (or in an experiment) at the
final output, or at a task's with `task:`. Text values may use the run's inputs (`{topic}`)
and an experiment row's expected values (`{expected.answer}`).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

TEXT_KINDS = ("contains", "not_contains", "regex", "equals")
KINDS = (
    *TEXT_KINDS,
    "json_schema",
    "length",
    "tool_called",
    "no_warnings",
    "max_turns",
    "max_tokens",
    "max_seconds",
    "python",
    "judge",
)


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LengthBounds(_Spec):
    """How long (in characters) the output may be."""

    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)


class ToolCalled(_Spec):
    """A tool the run must have called, at least `min` times (and, if asked, without errors)."""

    name: str = Field(min_length=1)
    min: int = Field(1, ge=0)
    no_errors: bool = False


class JudgeSpec(_Spec):
    """An LLM-as-judge: the rubric, the scale it rates on, and the model profile judging."""

    rubric: str = Field(min_length=1)
    scale: int = Field(5, ge=2, le=10, description="The judge rates 1..scale.")
    model: str = Field("judge", description="A model profile of the scenario (or experiment).")
    pass_at: float = Field(
        0.5, ge=0, le=1, description="The least score (rating / scale) that passes."
    )


class CheckSpec(_Spec):
    """One check: exactly one kind, with its options."""

    name: str | None = Field(None, description="How results name it (default: from its kind).")
    task: str | None = Field(None, description="Look at this task's output (scenario level).")
    contains: str | None = None
    not_contains: str | None = None
    regex: str | None = None
    equals: str | None = None
    ignore_case: bool = Field(False, description="For contains, not_contains, regex, equals.")
    json_schema: dict[str, Any] | None = Field(None, description="The output parses as this.")
    length: LengthBounds | None = None
    tool_called: ToolCalled | None = None
    no_warnings: bool | None = None
    max_turns: int | None = Field(None, ge=0)
    max_tokens: int | None = Field(None, ge=0, description="Output tokens of the whole run.")
    max_seconds: float | None = Field(None, gt=0, description="Wall time of the run.")
    python: str | None = Field(None, description="module:function(output, trace) of your own.")
    judge: JudgeSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """`tool_called: retrieve` is short for `tool_called: {name: retrieve}`."""
        if isinstance(value, dict) and isinstance(value.get("tool_called"), str):
            return {**value, "tool_called": {"name": value["tool_called"]}}
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> CheckSpec:
        """Exactly one kind; a regex compiles; ignore_case only for text kinds."""
        kinds = [k for k in KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            raise ValueError(f"a check has exactly one kind of {', '.join(KINDS)} (found: {found})")
        if self.ignore_case and kinds[0] not in TEXT_KINDS:
            raise ValueError(f"ignore_case applies to {', '.join(TEXT_KINDS)}, not {kinds[0]}")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from None
        if self.python is not None and ":" not in self.python:
            raise ValueError(f"python {self.python!r}: write module:function")
        return self

    @property
    def kind(self) -> str:
        """Which kind of check this is."""
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def label(self) -> str:
        """The check's name, or one made from its kind and value."""
        if self.name:
            return self.name
        value = getattr(self, self.kind)
        if isinstance(value, str):
            return f"{self.kind} {value!r}"
        if isinstance(value, bool):
            return self.kind
        if isinstance(value, int | float):
            return f"{self.kind} {value}"
        if isinstance(value, ToolCalled):
            return f"tool_called {value.name}"
        return self.kind
