"""End to end: research_team on CrewAI and on AutoGen, on the embedded model via the gateway."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.research_team import main as research_team
from tests.e2e.checks import check_research_team_trace
from tests.fakes import run_events

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("framework", ["crewai", "autogen"])
def test_research_team_completes_with_num_ctx_on_the_wire(
    framework: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run completes on the embedded model; every llm_call carried num_ctx 2048."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing there; embedded must not need it
    args = ["--framework", framework, "--backend", "embedded", "--runs-dir", str(tmp_path), "-q"]
    assert research_team(args) == 0
    events = run_events(tmp_path)
    assert events[0]["framework"] == framework
    check_research_team_trace(events)
    calls = [e for e in events if e["kind"] == "llm_call"]
    assert all(call["request"]["keep_alive"] == "5m" for call in calls)
