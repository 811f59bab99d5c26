"""End to end: the research team on the real embedded model, directly and as an Ollama server."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.research_team import main as research_team
from tests.e2e.checks import check_research_team_trace
from tests.fakes import run_events

pytestmark = pytest.mark.e2e


def test_research_team_on_the_embedded_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--backend embedded runs the three agents on llama.cpp and traces one llm_call each."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")  # nothing there; embedded must not need it
    assert research_team(["--backend", "embedded", "--runs-dir", str(tmp_path), "-q"]) == 0
    events = run_events(tmp_path)
    check_research_team_trace(events)
    assert capsys.readouterr().out.strip() == events[-1]["final_output"].strip()
    assert events[1]["kind"] == "backend_selected"
    assert events[1]["backends"][0]["kind"] == "embedded"


def test_auto_falls_back_to_embedded_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--backend auto with no Ollama listening uses the embedded model and says what it tried."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    assert research_team(["--runs-dir", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "127.0.0.1:9" in err and "embedded" in err
    check_research_team_trace(run_events(tmp_path))


def test_research_team_against_an_ollama_api_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--backend ollama against a standalone gateway (embedded) proxies and records every call."""
    from gateway.server import Gateway
    from gateway.upstreams.embedded import EmbeddedUpstream

    with Gateway(EmbeddedUpstream()) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.base_url)
        assert research_team(["--backend", "ollama", "--runs-dir", str(tmp_path), "-q"]) == 0
    events = run_events(tmp_path)
    check_research_team_trace(events)
    assert {c["upstream"] for c in events if c["kind"] == "llm_call"} == {"ollama"}
