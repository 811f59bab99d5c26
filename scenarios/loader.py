"""Load a scenario YAML file into a `Scenario`, with errors that name file, line and field.

ruamel.yaml keeps the line of every key and list item, so a pydantic error location such as
`("agents", 1, "model")` becomes `research_team.yaml:14: agents[1].model: ...`.
"""

from __future__ import annotations

import hashlib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from scenarios.errors import ScenarioError
from scenarios.spec import Loc, Problem, Scenario, format_loc
from scenarios.textfile import read_text

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with the text it came from (traces carry the text)."""

    scenario: Scenario
    path: Path
    text: str

    @property
    def sha256(self) -> str:
        """The hash of the scenario text, to tell two versions of a file apart."""
        return hashlib.sha256(self.text.encode()).hexdigest()


def load_file(path: str | Path) -> LoadedScenario:
    """Read, parse and validate a scenario file; raise ScenarioError with every problem."""
    path = Path(path)
    text = read_text(path, "scenario")
    return LoadedScenario(load_text(text, source=path.name), path, text)


def load_text(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML text; `source` names it in error messages."""
    data, scenario = parse_model(
        text, source, Scenario, "a scenario is a YAML mapping (name, models, agents...)"
    )
    # the team's checks (references, cycles, reach); imported here, not at the top, so
    # that importing the kernel imports no higher package (team, and through it tools)
    from team.validate import validate

    problems = validate(scenario)
    if problems:
        raise ScenarioError(format_problems(source, data, problems))
    return scenario


def parse_model(text: str, source: str, model: type[M], shape: str) -> tuple[CommentedMap, M]:
    """YAML text as `model`, and the parsed YAML (for the lines of later problems).

    A ScenarioError lists every problem as `source:line: field: message`; `shape` is what
    to say when the text is not a mapping at all.
    """
    data = _parse_yaml(text, source, shape)
    try:
        return data, model.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, model)
        raise ScenarioError(format_problems(source, data, problems)) from None


def _parse_yaml(text: str, source: str, shape: str) -> CommentedMap:
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise ScenarioError(f"{source}:{line}: YAML syntax: {exc.problem}") from None
    except YAMLError as exc:  # e.g. a control character the reader refuses (at `position`)
        line = text.count("\n", 0, getattr(exc, "position", 0) or 0) + 1
        raise ScenarioError(f"{source}:{line}: YAML: {_first_line(str(exc))}") from None
    if not isinstance(data, CommentedMap):
        raise ScenarioError(f"{source}:1: {shape}")
    return data


def _pydantic_problems(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(part for part in error["loc"] if not _is_pydantic_tag(part))
        problems.append(Problem(loc, _pydantic_message(error, loc, root)))
    return problems


def _is_pydantic_tag(part: str | int) -> bool:
    """Pydantic adds tags like 'function-before[...]' to locations; they are not YAML keys."""
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "bool"})


def _pydantic_message(error: Any, loc: Loc, root: type[BaseModel]) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        allowed = _allowed_fields(root, loc[:-1])
        return f"unknown field {loc[-1]!r} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} is not a valid name (lowercase letters, digits, _)"
    return msg.removeprefix("Value error, ")


def _allowed_fields(root: type[BaseModel], loc: Loc) -> list[str]:
    model: Any = root
    for part in loc:
        model = _step_into(model, part)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _step_into(annotation: Any, part: str | int) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return field.annotation if field else None
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (list, tuple) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    if origin in (typing.Union, types.UnionType) and args:
        return _step_into(args[0], part)
    return None


def format_problems(source: str, data: CommentedMap, problems: list[Problem]) -> str:
    """Problems as `source:line: field: message` lines, the lines taken from the YAML."""
    return "\n".join(
        f"{source}:{line_of(data, p.loc)}: {format_loc(p.loc)}: {p.message}" for p in problems
    )


def line_of(data: Any, loc: Loc) -> int:
    """The 1-based line of the deepest node of `loc` that exists in the parsed YAML."""
    line = 0
    node = data
    for part in loc:
        found = _position(node, part)
        if found is None:
            break
        line, node = found
    return line + 1


def _position(node: Any, part: str | int) -> tuple[int, Any] | None:
    if isinstance(node, CommentedMap) and part in node:
        return node.lc.key(part)[0], node[part]
    if isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
        return node.lc.item(part)[0], node[part]
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unreadable"
