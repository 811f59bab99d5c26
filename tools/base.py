"""What a tool is: a typed function, a pydantic model of its arguments, and a description.

A tool is defined once (`Tool`) and run the same way by every framework (`call_tool`): the
arguments are validated against the tool's model, the function runs, and whatever goes
wrong (bad arguments, a refused path, an exception) becomes an error message the model
reads instead of a crashed run. Every call yields a `ToolResult`, which is also the
`tool_call` trace event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from tools.errors import ToolError
from tools.workspace import ToolContext

TRACE_RESULT_CHARS = 1000  # how much of a result a trace event keeps
MODEL_RESULT_CHARS = 2000  # how much of a result the model is shown


@dataclass(frozen=True)
class Tool:
    """One tool: `func(args, context)` returns text; `args` validates what the model sent."""

    name: str
    description: str
    args: type[BaseModel]
    func: Callable[[Any, ToolContext], str]

    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the arguments, as function-calling APIs want it."""
        return self.args.model_json_schema()


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one tool call: what the model is shown and what the trace keeps."""

    tool: str
    arguments: Any
    result: str
    error: str | None
    duration_ms: float

    @property
    def for_model(self) -> str:
        """The text handed back to the model: the result, or the error to act on."""
        text = f"error: {self.error}" if self.error is not None else self.result
        return bound(text, MODEL_RESULT_CHARS)

    def fields(self, agent: str) -> dict[str, Any]:
        """The `tool_call` trace event's fields (result bounded)."""
        return {
            "agent": agent,
            "tool": self.tool,
            "arguments": self.arguments,
            "result": bound(self.result, TRACE_RESULT_CHARS),
            "error": self.error,
            "duration_ms": self.duration_ms,
        }

    def event(self, agent: str) -> dict[str, Any]:
        """The `tool_call` trace event, with its `kind`."""
        return {"kind": "tool_call", **self.fields(agent)}


def bound(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut]"


def parse_arguments(raw: Any) -> dict[str, Any]:
    """The arguments as a dict: models send a dict, or a JSON object as text."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            message = f"arguments are not valid JSON ({exc.msg}): send a JSON object"
            raise ToolError(message) from None
        if isinstance(value, dict):
            return value
    raise ToolError("arguments must be a JSON object with the tool's parameters")


def call_tool(tool: Tool, raw_arguments: Any, context: ToolContext) -> ToolResult:
    """Validate the arguments, run the tool, and catch every failure as a model-facing error."""
    start = time.perf_counter()
    result, error = "", None
    try:
        args = tool.args.model_validate(parse_arguments(raw_arguments))
        result = tool.func(args, context)
    except ValidationError as exc:
        error = f"bad arguments for {tool.name}: {_validation_summary(exc)}"
    except ToolError as exc:
        error = str(exc)
    except Exception as exc:  # a tool bug must not crash the run: the model is told
        error = f"{tool.name} failed: {type(exc).__name__}: {exc}"
    duration = round((time.perf_counter() - start) * 1000, 3)
    return ToolResult(tool.name, _plain(raw_arguments), result, error, duration)


def unknown_tool(name: str, raw_arguments: Any, known: list[str]) -> ToolResult:
    """The result of a call to a tool the agent does not have."""
    error = f"unknown tool {name!r}; call one of: {', '.join(known) or 'none'}"
    return ToolResult(name, _plain(raw_arguments), "", error, 0.0)


def _validation_summary(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _plain(raw: Any) -> Any:
    """Arguments as JSON-able data for the trace."""
    try:
        json.dumps(raw)
    except (TypeError, ValueError):
        return repr(raw)
    return raw
