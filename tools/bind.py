"""Each tool, defined once, as the tool type of each framework.

All three go through `invoke`, so a call behaves the same everywhere: the arguments are
validated by the tool's pydantic model, failures come back to the model as `error: ...`
text, and `on_call(fields)` receives the `tool_call` trace event's fields (agent, tool,
arguments, result, error, duration_ms), typically `lambda f: recorder.emit("tool_call", **f)`.
The workspace is the run's active `ToolContext` at call time unless one is given.

- `to_langchain(tool, ...)`: a LangChain `StructuredTool` (and `openai_schema(tool)` for
  `bind_tools`);
- `to_crewai(tool, ...)`: a `crewai.tools.BaseTool` (crewai imported only here, lazily);
- `to_autogen(tool, ...)`: an `autogen_core.tools.BaseTool` (autogen imported only here).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

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
    from langchain_core.tools import StructuredTool

    def run(**kwargs: Any) -> str:
        return invoke(tool, kwargs, agent, context, on_call).for_model

    return StructuredTool.from_function(
        func=run,
        name=tool.name,
        description=tool.description,
        args_schema=tool.args,
        handle_validation_error=lambda exc: f"error: bad arguments for {tool.name}: {exc}",
    )


def to_crewai(
    tool: Tool, agent: str = "", context: ToolContext | None = None, on_call: OnCall | None = None
) -> Any:
    """A `crewai.tools.BaseTool` that runs `tool` through `invoke` (import crewai lazily)."""
    from crewai.tools import BaseTool as CrewAITool

    class Bound(CrewAITool):
        name: str = tool.name
        description: str = tool.description
        args_schema: type[BaseModel] = tool.args

        def _run(self, *args: Any, **kwargs: Any) -> str:
            raw = args[0] if args and not kwargs else kwargs
            return invoke(tool, raw, agent, context, on_call).for_model

    Bound.__name__ = Bound.__qualname__ = f"{_camel(tool.name)}Tool"
    return Bound()


def to_autogen(
    tool: Tool, agent: str = "", context: ToolContext | None = None, on_call: OnCall | None = None
) -> Any:
    """An `autogen_core.tools.BaseTool` that runs `tool` through `invoke` off the event loop."""
    from autogen_core import CancellationToken
    from autogen_core.tools import BaseTool as AutoGenTool

    class Bound(AutoGenTool[BaseModel, str]):
        def __init__(self) -> None:
            super().__init__(tool.args, str, tool.name, tool.description)

        async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> str:
            return await self._call(args.model_dump())

        async def run_json(
            self,
            args: Mapping[str, Any],
            cancellation_token: CancellationToken,
            call_id: str | None = None,
        ) -> Any:
            return await self._call(dict(args))  # bad arguments reach the model as text

        async def _call(self, raw: dict[str, Any]) -> str:
            result = await asyncio.to_thread(invoke, tool, raw, agent, context, on_call)
            return result.for_model

    return Bound()


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
