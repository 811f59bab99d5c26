"""End to end: a research_team run recorded on the embedded model, then replayed and forked."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.upstreams.embedded import EmbeddedUpstream
from scenarios.cli.replay import main as replay
from scenarios.research_team import SCENARIO_FILE
from scenarios.research_team import main as research_team
from tests.e2e.checks import check_honest_status

pytestmark = pytest.mark.e2e


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _trace(runs_dir: Path) -> Path:
    (trace,) = runs_dir.glob("*.jsonl")
    return trace


def _turns(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["agent"], e["content"]) for e in events if e["kind"] == "agent_message"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One research_team run on the embedded model, recorded once for the module."""
    runs = tmp_path_factory.mktemp("recorded")
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(err):
        patch.setenv("OLLAMA_HOST", "127.0.0.1:9")
        code = research_team(["--backend", "embedded", "--runs-dir", str(runs), "-q"])
    assert code == 0, err.getvalue()
    return _trace(runs)


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every request that reaches the embedded engine's upstream, by path."""
    calls: list[str] = []
    original = EmbeddedUpstream.request

    async def counting(self: EmbeddedUpstream, method: str, path: str, *rest: Any) -> Any:
        calls.append(path)
        return await original(self, method, path, *rest)

    monkeypatch.setattr(EmbeddedUpstream, "request", counting)
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    yield calls


def test_rerun_verify_gives_the_same_run_with_no_engine_call(
    recorded: Path, engine_calls: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rerun --verify: exit 0, same final output and turns, and the engine is never asked."""
    assert replay(["rerun", str(recorded), "--verify", "--runs-dir", str(tmp_path)]) == 0
    old, new = _events(recorded), _events(_trace(tmp_path))
    assert engine_calls == []
    assert new[-1]["final_output"] == old[-1]["final_output"]
    assert _turns(new) == _turns(old) and len(_turns(new)) == 3
    assert {e["upstream"] for e in new if e["kind"] == "llm_call"} == {"replay"}
    assert new[0]["run_kind"] == "replay" and new[-1]["status"] == old[-1]["status"]
    assert "verify: same final output" in capsys.readouterr().err


def test_an_edited_prompt_fails_naming_the_first_diverging_call_and_agent(
    recorded: Path, engine_calls: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The writer's task reworded: exit 1, one line naming call 2 and the writer, no engine."""
    edited = tmp_path / "research_team.yaml"
    text = SCENARIO_FILE.read_text()
    edited.write_text(text.replace("following the outline.", "in the form of a poem."))
    args = ["rerun", str(recorded), "--scenario", str(edited), "--runs-dir", str(tmp_path), "-q"]
    assert replay(args) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: replay diverged at call 2 (agent writer, /api/chat)")
    assert engine_calls == []


def test_from_n_serves_n_recorded_calls_then_goes_live(
    recorded: Path, engine_calls: list[str], tmp_path: Path
) -> None:
    """--from 2 --backend embedded: planner and writer replayed, the editor runs on the engine."""
    args = ["rerun", str(recorded), "--from", "2", "--backend", "embedded"]
    assert replay([*args, "--runs-dir", str(tmp_path), "-q"]) == 0
    new = _events(_trace(tmp_path))
    calls = [(e["agent"], e["upstream"]) for e in new if e["kind"] == "llm_call"]
    assert calls == [("planner", "replay"), ("writer", "replay"), ("editor", "embedded")]
    assert engine_calls == ["/api/chat"]
    assert new[0]["replay_of"]["from"] == 2 and new[0]["run_kind"] == "fork"
    check_honest_status(new)
