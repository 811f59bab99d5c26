"""End to end: support_qa and event_planning on the embedded model, tools and schema included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scenarios.event_planning import EventPlan
from scenarios.event_planning import main as event_planning
from scenarios.support_qa import main as support_qa
from tests.e2e.checks import check_honest_status
from tests.fakes import run_events

pytestmark = pytest.mark.e2e
ARGS = ["--backend", "embedded", "-q"]


def _workspace(runs_dir: Path, events: list[dict[str, Any]]) -> Path:
    return runs_dir / f"{events[0]['run_id']}-workspace"


def _indexes(workspace: Path) -> list[str]:
    """The names of the chromadb collections retrieve built in the workspace."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=str(workspace / ".lab-index" / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    return sorted(c.name for c in client.list_collections())


def test_support_qa_retrieves_through_the_gateway_and_says_how_it_went(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rep and QA run on llama.cpp; retrieve embeds via the gateway; the status is honest.

    Whether the 135M model calls retrieve, and with which arguments, differs between CPUs:
    every call it makes either finds passages of the bundled docs or is a tool error that
    the status counts.
    """
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing there; embedded must not need it
    monkeypatch.delenv("LAB_EMBEDDINGS", raising=False)
    assert support_qa([*ARGS, "--runs-dir", str(tmp_path)]) == 0
    events = run_events(tmp_path)
    check_honest_status(events)
    turns = [e["agent"] for e in events if e["kind"] == "agent_message"]
    assert turns == ["support_rep", "qa_specialist"]
    calls = [e for e in events if e["kind"] == "tool_call"]
    assert {c["tool"] for c in calls} <= {"retrieve"}
    for call in calls:
        assert call["error"] or call["result"].startswith("[1] docs/"), call
        assert call["duration_ms"] >= 0 and call["agent"] in turns
    assert (_workspace(tmp_path, events) / "docs" / "returns.md").is_file()
    if any(c["error"] is None for c in calls):
        assert _indexes(_workspace(tmp_path, events)) == ["docs-all-minilm"]  # the gateway's


def test_event_planning_gives_a_valid_plan_and_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's structured output validates as EventPlan; each write_file it makes lands."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    assert event_planning([*ARGS, "--runs-dir", str(tmp_path)]) == 0
    events = run_events(tmp_path)
    check_honest_status(events)
    (plan,) = [e for e in events if e["kind"] == "agent_message" and e["task"] == "plan"]
    assert plan["output_schema"] == "EventPlan"
    EventPlan.model_validate(plan["structured_output"])
    assert json.loads(plan["content"]) == plan["structured_output"]
    formats = [e["request"].get("format") for e in events if e["kind"] == "llm_call"]
    assert EventPlan.model_json_schema() in formats
    writes = [e for e in events if e["kind"] == "tool_call" and e["tool"] == "write_file"]
    for write in writes:  # whether the model writes, and where, is the model's choice
        if write["error"] is None:
            assert (_workspace(tmp_path, events) / write["arguments"]["path"]).is_file()
