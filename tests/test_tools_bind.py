"""The framework converters: one tool definition as a LangChain, CrewAI and AutoGen tool."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agents.autogen_team import autogen_tool
from agents.crewai_runner import crewai_tool
from tools import get
from tools.bind import openai_schema, to_langchain
from tools.workspace import ToolContext, activated


def _recorder() -> tuple[list[dict[str, Any]], Any]:
    seen: list[dict[str, Any]] = []
    return seen, seen.append


def test_openai_schema_carries_the_pydantic_arguments() -> None:
    """The function schema is the tool's name, description and its args model's JSON schema."""
    schema = openai_schema(get("write_file"))
    assert schema["function"]["name"] == "write_file"
    assert schema["function"]["parameters"]["required"] == ["path", "content"]


def test_langchain_tool_runs_and_reports(tmp_path: Path) -> None:
    """The LangChain tool computes, reports a tool_call's fields, and returns errors as text."""
    seen, on_call = _recorder()
    tool = to_langchain(get("calculator"), "clerk", ToolContext(tmp_path), on_call)
    assert tool.name == "calculator" and "expression" in tool.args
    assert tool.invoke({"expression": "2 * 21"}) == "2 * 21 = 42"
    assert tool.invoke({"expression": "__import__('os')"}).startswith("error: ")
    assert [s["result"] for s in seen] == ["2 * 21 = 42", ""]
    assert seen[0]["agent"] == "clerk" and seen[1]["error"]


def test_crewai_tool_runs_in_the_active_workspace(tmp_path: Path) -> None:
    """The CrewAI tool has the tool's schema and writes into the run's active workspace."""
    pytest.importorskip("crewai")
    seen, on_call = _recorder()
    tool = crewai_tool(get("write_file"), "planner", on_call=on_call)
    assert tool.name == "write_file" and tool.args_schema is get("write_file").args
    with activated(ToolContext(tmp_path)):
        assert tool.run(path="plan.json", content="{}") == "wrote 2 bytes to plan.json"
        assert tool.run(path="../x", content="{}").startswith("error: path '../x' refused")
    assert (tmp_path / "plan.json").read_text() == "{}"
    assert [s["tool"] for s in seen] == ["write_file", "write_file"]


def test_autogen_tool_validates_through_the_tool(tmp_path: Path) -> None:
    """The AutoGen tool exposes the schema; bad arguments reach the model as an error string."""
    pytest.importorskip("autogen_core")
    from autogen_core import CancellationToken

    seen, on_call = _recorder()
    tool = autogen_tool(get("read_file"), "reader", ToolContext(tmp_path), on_call)
    (tmp_path / "a.md").write_text("alpha")
    assert tool.schema["name"] == "read_file"
    assert tool.schema["parameters"]["required"] == ["path"]
    token = CancellationToken()
    assert asyncio.run(tool.run_json({"path": "a.md"}, token)) == "alpha"
    bad = asyncio.run(tool.run_json({"nope": 1}, token))
    assert bad == "error: bad arguments for read_file: path: Field required"
    assert [s["error"] is None for s in seen] == [True, False]
