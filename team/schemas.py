"""Task output schemas: a JSON schema in the YAML, or a pydantic model by import path.

`resolve_schema` turns a task's `output_schema` value into the JSON schema the model is
asked for and a validator of the answer; it is light (no LangChain), so the scenario
validator can check schemas at load time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from typing import Any

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class OutputSchema:
    """A task's output schema: a name, the JSON schema sent to the model, a validator.

    `model` is the pydantic class when the scenario named one (CrewAI's `output_pydantic`
    and AutoGen's `output_content_type` take it); None for a JSON schema written in YAML.
    """

    name: str
    json_schema: dict[str, Any]
    validate: Callable[[Any], dict[str, Any]]  # raises ValueError with a readable message
    model: type[BaseModel] | None = None


def import_model(path: str) -> type[BaseModel]:
    """The pydantic model at `module:Name` (or `module.Name`); ValueError saying what is wrong."""
    module_name, _, attr = path.rpartition(":") if ":" in path else path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"{path!r} is not an import path: write module:ClassName")
    try:
        value = getattr(import_module(module_name), attr)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} ({exc})") from None
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no {attr!r}") from None
    if not (isinstance(value, type) and issubclass(value, BaseModel)):
        raise ValueError(f"{path!r} is not a pydantic model class")
    return value


def json_schema_problem(schema: dict[str, Any]) -> str | None:
    """Why a JSON schema cannot be a task's output schema, or None."""
    # jsonschema is imported on first use: only a scenario with a JSON output_schema needs it
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        return f"not a valid JSON schema: {exc.message}"
    if schema.get("type") != "object":
        return "the schema must describe a JSON object: set type: object and its properties"
    return None


def resolve_schema(spec: dict[str, Any] | str) -> OutputSchema:
    """The `OutputSchema` of a task's `output_schema` value (ValueError if unusable)."""
    return _resolve(json.dumps(spec))


@lru_cache(maxsize=64)
def _resolve(key: str) -> OutputSchema:
    spec = json.loads(key)
    if isinstance(spec, str):
        model = import_model(spec)
        return OutputSchema(
            model.__name__, model.model_json_schema(), _pydantic_check(model), model
        )
    problem = json_schema_problem(spec)
    if problem:
        raise ValueError(problem)
    return OutputSchema(str(spec.get("title", "output")), spec, _json_schema_check(spec))


def _pydantic_check(model: type[BaseModel]) -> Callable[[Any], dict[str, Any]]:
    def check(value: Any) -> dict[str, Any]:
        try:
            return model.model_validate(value).model_dump(mode="json")
        except ValidationError as exc:
            raise ValueError(_pydantic_errors(exc)) from None

    return check


def _pydantic_errors(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in errors)


def _json_schema_check(schema: dict[str, Any]) -> Callable[[Any], dict[str, Any]]:
    from jsonschema.validators import validator_for  # on first use, as above

    validator = validator_for(schema)(schema)

    def check(value: Any) -> dict[str, Any]:
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            raise ValueError("; ".join(_json_error(e) for e in errors[:5]))
        return value

    return check


def _json_error(error: Any) -> str:
    where = ".".join(str(p) for p in error.path) or "answer"
    return f"{where}: {error.message}"
