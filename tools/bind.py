"""Each tool, defined once, as the tool type of each framework.

All three go through `invoke`, so a call behaves the same everywhere: the arguments are
validated by the tool's pydantic model, failures come back to the model as `error: ...`
text, and `on_call(fields)` receives the `tool_call` trace event's fields (agent, tool,
arguments, result, error, duration_ms), typically `lambda f: recorder.emit("tool_call", **f)`.
The workspace is the run's active `ToolContext` at call time unless one is given.

- `to_langchain(tool, ...)`: a LangChain `StructuredTool` (and `openai_schema(tool)` for
  `bind_tools`);
- the CrewAI and AutoGen tool types are made by their adapters (`agents.crewai_runner.
  crewai_tool`, `agents.autogen_team.autogen_tool`), which call `invoke` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.base import Tool, ToolError, ToolResult, call_tool
from tools.workspace import ToolContext, current

OnCall = Callable[[dict[str, Any]], None]


def invoke(
    tool: Tool,
    raw_arguments: Any,
    agent: str,
    context: ToolContext | None = None,
    on_call: OnCall | None = None,
) -> ToolResult:
    """Run one call of `tool` for `agent`, report it to `on_call`, return its result."""
    try:
        result = call_tool(tool, raw_arguments, context or current())
    except ToolError as exc:  # no active workspace
        result = ToolResult(tool.name, raw_arguments, "", str(exc), 0.0)
    if on_call is not None:
        on_call(result.fields(agent))
    return result


def openai_schema(tool: Tool) -> dict[str, Any]:
    """The tool in the OpenAI/Ollama function format (`bind_tools` accepts it as is)."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters(),
        },
    }


def to_langchain(
    tool: Tool, agent: str = "", context: ToolContext | None = None, on_call: OnCall | None = None
) -> Any:
    """A LangChain `StructuredTool` that runs `tool` through `invoke`."""
    from langchain_core.tools import StructuredTool  # a framework: only LangGraph runs need it

    def run(**kwargs: Any) -> str:
        return invoke(tool, kwargs, agent, context, on_call).for_model

    return StructuredTool.from_function(
        func=run,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args,
        handle_validation_error=lambda exc: f"error: bad arguments for {tool.name}: {exc}",
    )
