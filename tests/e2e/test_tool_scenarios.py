"""End to end: support_qa and event_planning on the embedded model, tools and schema included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scenarios.event_planning import EventPlan
from scenarios.event_planning import main as event_planning
from scenarios.support_qa import main as support_qa
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


def test_support_qa_answers_from_the_retrieved_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rep and QA run on llama.cpp; retrieve embeds via the gateway and finds the docs."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing there; embedded must not need it
    monkeypatch.delenv("LAB_EMBEDDINGS", raising=False)
    assert support_qa([*ARGS, "--runs-dir", str(tmp_path)]) == 0
    events = run_events(tmp_path)
    assert events[-1]["status"] == "ok" and events[-1]["final_output"].strip()
    turns = [e["agent"] for e in events if e["kind"] == "agent_message"]
    assert turns == ["support_rep", "qa_specialist"]
    calls = [e for e in events if e["kind"] == "tool_call"]
    assert calls and {c["tool"] for c in calls} == {"retrieve"}
    found = [c for c in calls if c["error"] is None]
    assert found and all(c["result"].startswith("[1] docs/") for c in found)
    assert all(c["duration_ms"] >= 0 and c["agent"] in turns for c in calls)
    assert (_workspace(tmp_path, events) / "docs" / "returns.md").is_file()
    assert _indexes(_workspace(tmp_path, events)) == ["docs-all-minilm"]  # the gateway's model


def test_event_planning_gives_a_valid_plan_and_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan task's structured output validates as EventPlan; write_file saves plan.json."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    assert event_planning([*ARGS, "--runs-dir", str(tmp_path)]) == 0
    events = run_events(tmp_path)
    assert events[-1]["status"] == "ok"
    (plan,) = [e for e in events if e["kind"] == "agent_message" and e["task"] == "plan"]
    assert plan["output_schema"] == "EventPlan"
    EventPlan.model_validate(plan["structured_output"])
    assert json.loads(plan["content"]) == plan["structured_output"]
    formats = [e["request"].get("format") for e in events if e["kind"] == "llm_call"]
    assert EventPlan.model_json_schema() in formats
    writes = [e for e in events if e["kind"] == "tool_call" and e["tool"] == "write_file"]
    assert writes and writes[-1]["error"] is None
    path = writes[-1]["arguments"]["path"]
    assert (_workspace(tmp_path, events) / path).is_file()
