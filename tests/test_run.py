"""Runs through the CLI against a scripted Ollama-API server, via the in-process gateway."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from scenarios.research_team import main as research_team
from tests.fake_ollama import FakeOllama
from tests.fakes import run_events
from traces.schema import totals_of

REPLIES = ["OUTLINE: three points", "ARTICLE: three paragraphs", "FINAL: the edited article"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake_ollama(monkeypatch: pytest.MonkeyPatch) -> FakeOllama:
    """A scripted Ollama that OLLAMA_HOST points at."""
    with FakeOllama(REPLIES) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        yield server


def test_research_team_runs_in_order_and_traces_every_call(
    fake_ollama: FakeOllama, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The three agents call the model once each, in order; all is traced, totals add up."""
    code = research_team(["--backend", "ollama", "--runs-dir", str(tmp_path), "--quiet"])
    assert code == 0
    assert capsys.readouterr().out.strip() == REPLIES[2]
    events = run_events(tmp_path)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    turns = [e["agent"] for e in events if e["kind"] == "agent_message"]
    assert turns == ["planner", "writer", "editor"]
    calls = [e for e in events if e["kind"] == "llm_call"]
    assert [c["agent"] for c in calls] == ["planner", "writer", "editor"]
    assert all(c["request"]["options"]["num_ctx"] == 2048 for c in calls)
    finished = events[-1]
    assert finished["status"] == "ok" and finished["final_output"] == REPLIES[2]
    totals = {k: v for k, v in finished["totals"].items() if k != "wall_time_s"}
    assert totals == totals_of(events) and totals["llm_calls"] == 3


def test_each_task_sees_the_output_it_depends_on(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """The writer's request carries the planner's outline; the editor's carries the article."""
    assert research_team(["--backend", "ollama", "--runs-dir", str(tmp_path), "-q"]) == 0
    prompts = [json.dumps(r["messages"]) for r in fake_ollama.requests]
    assert REPLIES[0] in prompts[1] and REPLIES[1] in prompts[2]
    assert REPLIES[0] not in prompts[0]


def test_topic_reaches_the_prompts(fake_ollama: FakeOllama, tmp_path: Path) -> None:
    """--topic fills {topic} in the agents' and tasks' texts."""
    args = ["--topic", "zebra migration", "--backend", "ollama", "--runs-dir", str(tmp_path), "-q"]
    assert research_team(args) == 0
    assert "zebra migration" in json.dumps(fake_ollama.requests[0]["messages"])


def test_unreachable_ollama_is_exit_3_with_the_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--backend ollama with nothing listening: exit 3, one line naming the host tried."""
    port = _closed_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    assert research_team(["--backend", "ollama", "--runs-dir", str(tmp_path), "-q"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"127.0.0.1:{port}" in err[0]
    assert run_events(tmp_path)[-1]["status"] == "failed"


def test_missing_model_is_exit_3_with_the_pull_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Ollama without the model: exit 3 and the `ollama pull` line to fix it."""
    with FakeOllama(REPLIES, models=["llama3.2:latest"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        assert research_team(["--backend", "ollama", "--runs-dir", str(tmp_path), "-q"]) == 3
    assert "ollama pull smollm2:135m" in capsys.readouterr().err


def test_failed_run_leaves_its_trace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model error mid-run: exit 1, one line, and the trace keeps the turns before it."""
    with FakeOllama(REPLIES, fail_after=1) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        code = research_team(["--backend", "ollama", "--runs-dir", str(tmp_path), "-q"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: run failed:")
    events = run_events(tmp_path)
    assert [e["agent"] for e in events if e["kind"] == "agent_message"] == ["planner"]
    assert [e["kind"] for e in events[-2:]] == ["error", "run_finished"]
    assert events[-1]["status"] == "failed"


def test_unknown_input_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An --input the scenario does not declare is bad input: exit 2, naming the known inputs."""
    code = research_team(["--input", "topik=x", "--runs-dir", str(tmp_path), "-q"])
    assert code == 2
    assert "unknown input 'topik' (known: topic)" in capsys.readouterr().err


def test_framework_all_runs_each_framework_and_prints_the_compare_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--framework all runs langgraph, crewai and autogen in turn, then one row each in a table."""
    with FakeOllama(REPLIES * 3) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        monkeypatch.setenv("COLUMNS", "200")
        args = ["--framework", "all", "--backend", "ollama", "--runs-dir", str(tmp_path), "-q"]
        assert research_team(args) == 0
    traces = sorted(p.name.split("-")[2] for p in tmp_path.glob("*.jsonl"))
    assert traces == ["autogen", "crewai", "langgraph"]
    table = capsys.readouterr().out.split("runs compared", 1)[1]
    rows = [line for line in table.splitlines() if "research_team" in line]
    frameworks = sorted(re.split(r"\s{2,}", row.strip())[1] for row in rows)
    assert frameworks == ["autogen", "crewai", "langgraph"]


def test_quiet_still_reports_a_degraded_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under -q a cut answer is not reported by silence: one status line with the reason."""
    from tests._adapters import ToolFakeOllama, cut

    with ToolFakeOllama([REPLIES[0], cut(REPLIES[1]), REPLIES[2]]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        code = research_team(["--backend", "ollama", "--runs-dir", str(tmp_path), "-q"])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == REPLIES[2]
    (line,) = [x for x in captured.err.splitlines() if x.startswith("status:")]
    assert line.startswith("status: degraded (1 truncated) (trace: ")


def test_a_stand_in_model_is_announced_even_when_notes_are_quiet(tmp_path: Path) -> None:
    """A backend serving another tag than the one asked for goes to `announce`, not `say`."""
    from agents.harness import RunOptions, run_scenario
    from gateway.backend import Backend
    from gateway.upstreams.ollama import OllamaUpstream
    from scenarios.loader import load_file
    from scenarios.research_team import SCENARIO_FILE

    quiet: list[str] = []
    loud: list[str] = []
    with FakeOllama(REPLIES, models=("tiny:1b",)) as server:
        note = "backend: test tiny:1b in place of smollm2:135m"
        backend = Backend("ollama", OllamaUpstream(server.url), {"smollm2:135m": "tiny:1b"}, note)
        options = RunOptions(runs_dir=tmp_path, backend_factory=lambda *_: backend)
        result = run_scenario(
            load_file(SCENARIO_FILE), options, say=quiet.append, announce=loud.append
        )
    assert loud == [note] and quiet == []
    (selected,) = [e for e in run_events(tmp_path) if e["kind"] == "backend_selected"]
    assert selected["backends"][0]["stand_ins"] == {"smollm2:135m": "tiny:1b"}
    assert result.status == "ok"
