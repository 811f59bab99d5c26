"""An experiment read and checked, and its matrix: one cell per run it makes.

A cell is one scenario on one framework with one model set, one input row and one repeat
(its seed). Cells are independent runs; each has a stable id, which names its trace and
lets `--resume` skip the cells already done.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from experiments.spec import ExperimentSpec, InputValue, input_row
from scenarios.errors import ScenarioError
from scenarios.loader import LoadedScenario, format_problems, load_file, parse_model
from scenarios.spec import Problem
from scenarios.textfile import read_text
from team.support import refusal

SHIPPED = Path(__file__).resolve().parents[1] / "scenarios"
SHAPE = "an experiment is a YAML mapping (name, scenarios, frameworks, ...)"
UNSAFE = re.compile(r"[^A-Za-z0-9_.=+-]+")


@dataclass(frozen=True)
class ModelSet:
    """A name and the tag each model profile uses (empty: the scenario's own tags)."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InputRow:
    """One row of inputs, numbered from 1, with the values its checks expect."""

    index: int
    values: dict[str, str]
    expected: dict[str, InputValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """One run of the experiment."""

    scenario: str
    framework: str
    model_set: ModelSet
    row: InputRow
    repeat: int
    seed: int

    @property
    def id(self) -> str:
        """A stable id, safe in a file name: scenario, framework, model set, input, repeat."""
        parts = (self.scenario, self.framework, self.model_set.name, f"in{self.row.index}")
        return UNSAFE.sub("_", ".".join([*parts, f"r{self.repeat}"]))


@dataclass(frozen=True)
class Experiment:
    """An experiment file, read and checked against the scenarios it names."""

    spec: ExperimentSpec
    path: Path
    scenarios: dict[str, LoadedScenario]
    rows: list[InputRow]
    model_sets: list[ModelSet]

    def cells(self) -> list[Cell]:
        """Every run, in a stable order: scenario, input, repeat, model set, framework.

        Frameworks vary fastest, so the runs a paired comparison matches come close together.
        """
        seeds = self.spec.run_seeds()
        return [
            Cell(name, framework, models, row, repeat, seeds[repeat - 1])
            for name, row, repeat, models, framework in itertools.product(
                self.scenarios,
                self.rows,
                range(1, self.spec.repeats + 1),
                self.model_sets,
                self.spec.frameworks,
            )
        ]


def load_experiment(path: str | Path) -> Experiment:
    """Read, parse and check an experiment file (ScenarioError naming file, line and field)."""
    path = Path(path)
    text = read_text(path, "experiment")
    data, spec = parse_model(text, path.name, ExperimentSpec, SHAPE)
    scenarios = _scenarios(path, data, spec)
    rows = _rows(path, spec)
    sets = model_sets(spec)
    problems = [
        *_set_problems(spec, scenarios),
        *_input_problems(spec, scenarios, rows),
        *_support_problems(spec, scenarios),
    ]
    if problems:
        raise ScenarioError(format_problems(path.name, data, problems))
    return Experiment(spec, path, scenarios, rows, sets)


def _scenarios(path: Path, data: CommentedMap, spec: ExperimentSpec) -> dict[str, LoadedScenario]:
    found: dict[str, LoadedScenario] = {}
    for i, ref in enumerate(spec.scenarios):
        file = scenario_file(path.parent, ref)
        if file is None:
            shipped = ", ".join(p.stem for p in sorted(SHIPPED.glob("*.yaml")))
            problem = Problem(
                ("scenarios", i),
                f"no scenario {ref!r} (a file beside the experiment, or: {shipped})",
            )
            raise ScenarioError(format_problems(path.name, data, [problem]))
        loaded = load_file(file)
        found[loaded.scenario.name] = loaded
    return found


def scenario_file(folder: Path, ref: str) -> Path | None:
    """The scenario a reference names: a path beside the experiment, else a shipped one."""
    for candidate in (folder / ref, SHIPPED / ref, SHIPPED / f"{ref}.yaml"):
        if candidate.is_file():
            return candidate
    return None


def model_sets(spec: ExperimentSpec) -> list[ModelSet]:
    """The model sets: named ones, every combination of the per-profile tags, or the default."""
    if spec.model_sets:
        return [ModelSet(name, dict(tags)) for name, tags in spec.model_sets.items()]
    if not spec.models:
        return [ModelSet("scenario")]
    profiles = list(spec.models)
    sets = []
    for tags in itertools.product(*(spec.models[p] for p in profiles)):
        chosen = dict(zip(profiles, tags, strict=True))
        name = tags[0] if len(tags) == 1 else ",".join(f"{p}={t}" for p, t in chosen.items())
        sets.append(ModelSet(name, chosen))
    return sets


def _rows(path: Path, spec: ExperimentSpec) -> list[InputRow]:
    raw = spec.inputs if spec.inputs is not None else _file_rows(path, spec.inputs_file)
    rows = []
    for index, row in enumerate(raw or [{}], start=1):
        try:
            values, expected = input_row(row)
        except ValueError as exc:
            raise ScenarioError(f"{path.name}: inputs[{index - 1}]: {exc}") from None
        rows.append(InputRow(index, values, expected))
    return rows


def _file_rows(path: Path, name: str | None) -> list[dict[str, Any]] | None:
    """Input rows from a CSV (a header; `expected.<name>` columns) or JSON-lines file."""
    if name is None:
        return None
    file = path.parent / name
    text = read_text(file, "inputs file")
    if file.suffix.lower() == ".csv":
        return [_csv_row(row) for row in csv.DictReader(io.StringIO(text))]
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise ScenarioError(
                    f"{file}:{number}: not a JSON object (one row a line)"
                ) from None
    return rows


def _csv_row(row: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in row.items() if not k.startswith("expected.")}
    expected = {k.removeprefix("expected."): v for k, v in row.items() if k.startswith("expected.")}
    return {**values, "expected": expected} if expected else values


def _set_problems(spec: ExperimentSpec, scenarios: dict[str, LoadedScenario]) -> list[Problem]:
    problems = []
    for name, loaded in scenarios.items():
        known = ", ".join(loaded.scenario.models)
        for model_set in model_sets(spec):
            for profile in model_set.tags:
                if profile not in loaded.scenario.models:
                    loc = (
                        ("model_sets", model_set.name, profile)
                        if spec.model_sets
                        else ("models", profile)
                    )
                    message = f"scenario {name!r} has no model profile {profile!r} (known: {known})"
                    problems.append(Problem(loc, message))
    return list({(p.loc, p.message): p for p in problems}.values())


def _input_problems(
    spec: ExperimentSpec, scenarios: dict[str, LoadedScenario], rows: list[InputRow]
) -> list[Problem]:
    problems = []
    for row in rows:
        for name, loaded in scenarios.items():
            try:
                loaded.scenario.input_values(row.values)
            except ValueError as exc:
                loc = ("inputs", row.index - 1) if spec.inputs is not None else ("inputs_file",)
                problems.append(Problem(loc, f"scenario {name!r}: {exc}"))
    return problems


def _support_problems(spec: ExperimentSpec, scenarios: dict[str, LoadedScenario]) -> list[Problem]:
    problems = []
    for j, framework in enumerate(spec.frameworks):
        for loaded in scenarios.values():
            problem = refusal(loaded.scenario, framework)
            if problem is not None:
                problems.append(Problem(("frameworks", j), problem))
    return problems
