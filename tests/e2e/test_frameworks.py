"""End to end: research_team on CrewAI and on AutoGen, on the embedded model via the gateway."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.research_team import main as research_team
from traces.schema import totals_of

pytestmark = pytest.mark.e2e


def _events(runs_dir: Path) -> list[dict]:
    (trace,) = runs_dir.glob("*.jsonl")
    return [json.loads(line) for line in trace.read_text().splitlines()]


@pytest.mark.parametrize("framework", ["crewai", "autogen"])
def test_research_team_completes_with_num_ctx_on_the_wire(
    framework: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run completes on the embedded model; every llm_call carried num_ctx 2048."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing there; embedded must not need it
    args = ["--framework", framework, "--backend", "embedded", "--runs-dir", str(tmp_path), "-q"]
    assert research_team(args) == 0
    events = _events(tmp_path)
    assert events[0]["framework"] == framework
    assert events[-1]["status"] == "ok" and events[-1]["final_output"].strip()
    turns = [e["agent"] for e in events if e["kind"] == "agent_message"]
    assert turns == ["planner", "writer", "editor"]
    calls = [e for e in events if e["kind"] == "llm_call"]
    assert [c["agent"] for c in calls] == ["planner", "writer", "editor"]
    for call in calls:
        assert call["request"]["options"]["num_ctx"] == 2048
        assert call["request"]["keep_alive"] == "5m"
        assert call["metrics"]["eval_count"] > 0
    totals = {k: v for k, v in events[-1]["totals"].items() if k != "wall_time_s"}
    assert totals == totals_of(events)
