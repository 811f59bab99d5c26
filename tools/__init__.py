"""Tools agents can call, each defined once and bound to every framework by its adapter.

A tool is a typed function, a pydantic model of its arguments and a description
(`tools.base.Tool`); scenarios list tools by name from `REGISTRY`. `tools.bind` turns a tool
into a LangChain, CrewAI or AutoGen tool. The modules behind a tool (chromadb for
`retrieve`) are imported only when it is called, so validating a scenario stays fast.
"""

from __future__ import annotations

from tools.base import Tool, ToolError, ToolResult, call_tool
from tools.calculator import TOOL as CALCULATOR
from tools.files import LIST_FILES, READ_FILE, WRITE_FILE
from tools.retrieve import TOOL as RETRIEVE

__all__ = ["REGISTRY", "Tool", "ToolError", "ToolResult", "call_tool", "get", "names"]

REGISTRY: dict[str, Tool] = {
    tool.name: tool for tool in (CALCULATOR, READ_FILE, LIST_FILES, WRITE_FILE, RETRIEVE)
}


def names() -> list[str]:
    """The names of the tools a scenario may list."""
    return sorted(REGISTRY)


def get(name: str) -> Tool:
    """The tool called `name` (a KeyError naming the known tools otherwise)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown tool {name!r} (known: {', '.join(names())})") from None
