"""The experiment file: which scenarios, frameworks, model sets, inputs and repeats to run.

    # yaml-language-server: $schema=./experiment.schema.json
    name: frameworks
    scenarios: [research_team]          # a shipped scenario, or a path beside this file
    frameworks: [langgraph, crewai, autogen]
    models: {default: [smollm2:135m]}   # per profile: the tags to try (their product)
    inputs:
      - {topic: vector databases, expected: {keyword: vector}}
    repeats: 3                          # seeds 1, 2, 3 unless `seeds:` names them
    checks: [{contains: "{expected.keyword}", ignore_case: true}]
    timeout: 300                        # seconds a run may take

Validated with pydantic, read with line numbers: every error is `file:line: field: message`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scenarios.checkspec import CheckSpec
from scenarios.spec import NAME_PATTERN

Framework = Literal["langgraph", "crewai", "autogen"]
Backend = Literal["auto", "ollama", "embedded"]
InputValue = str | int | float | bool


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExperimentSpec(_Spec):
    """A whole experiment file."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    scenarios: list[str] = Field(
        min_length=1, description="Shipped scenario names, or YAML paths beside this file."
    )
    frameworks: list[Framework] = Field(["langgraph"], min_length=1)
    models: dict[str, list[str]] | None = Field(
        None, description="Per model profile, the tags to try; every combination is a model set."
    )
    model_sets: dict[str, dict[str, str]] | None = Field(
        None, description="Named model sets: set name -> {profile: tag}."
    )
    inputs: list[dict[str, Any]] | None = Field(
        None, description="Input rows: the scenario's inputs, and optional expected: {...}."
    )
    inputs_file: str | None = Field(
        None, description="A CSV or JSONL file of input rows (expected.<name> columns)."
    )
    repeats: int = Field(1, ge=1, le=1000)
    seeds: list[int] | None = Field(None, description="One seed per repeat (default 1..repeats).")
    checks: list[CheckSpec] = Field([], description="Checks added to every run's own.")
    timeout: float = Field(600, gt=0, description="Seconds a run may take before it is stopped.")
    backend: Backend = "auto"

    @field_validator("frameworks", "scenarios")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        """Each framework and scenario once."""
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"{repeated[0]!r} is listed twice")
        return values

    @field_validator("models")
    @classmethod
    def _tags(cls, models: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        """Each profile lists at least one tag."""
        for profile, tags in (models or {}).items():
            if not tags:
                raise ValueError(f"profile {profile!r} lists no model tag")
        return models

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentSpec:
        """One way of giving models and inputs; as many seeds as repeats."""
        if self.models is not None and self.model_sets is not None:
            raise ValueError("give models (tags per profile) or model_sets (named), not both")
        if self.inputs is not None and self.inputs_file is not None:
            raise ValueError("give inputs (rows) or inputs_file, not both")
        if self.seeds is not None and len(self.seeds) != self.repeats:
            raise ValueError(
                f"seeds lists {len(self.seeds)} seeds for {self.repeats} repeats: give one each"
            )
        return self

    def run_seeds(self) -> list[int]:
        """The seed of each repeat."""
        return list(self.seeds) if self.seeds is not None else list(range(1, self.repeats + 1))


def input_row(row: dict[str, Any]) -> tuple[dict[str, str], dict[str, InputValue]]:
    """An input row split into its input values (as text) and its expected values."""
    expected = row.get("expected") or {}
    if not isinstance(expected, dict):
        raise ValueError("expected: must be a mapping of names to values")
    values = {k: _text(v) for k, v in row.items() if k != "expected"}
    return values, {str(k): v for k, v in expected.items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, InputValue):
        return str(value)
    raise ValueError(f"input value {value!r} is not text, a number or a boolean")
