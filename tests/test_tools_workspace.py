"""The run's workspace: created and seeded by the harness hook, active while the run lasts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.support_qa import main as support_qa
from tests.fake_ollama import FakeOllama
from tools.base import ToolError
from tools.workspace import current, run_workspace


def _scenario_with_data(tmp_path: Path) -> Path:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\n")
    data = tmp_path / "data" / "s"
    (data / "docs").mkdir(parents=True)
    (data / "docs" / "faq.md").write_text("# FAQ")
    (tmp_path / "outside.txt").write_text("secret")
    (data / "link.txt").symlink_to(tmp_path / "outside.txt")
    return scenario


def test_the_workspace_is_seeded_and_active_during_the_run(tmp_path: Path) -> None:
    """With tools listed, runs/<id>-workspace gets the data folder (no symlinks) and is active."""
    scenario = _scenario_with_data(tmp_path)
    runs = tmp_path / "runs"
    with run_workspace(runs, "abc", scenario, "s", ["read_file"]) as context:
        assert context is not None and current() == context
        assert context.workspace == (runs / "abc-workspace").resolve()
        assert (context.workspace / "docs" / "faq.md").read_text() == "# FAQ"
        assert not (context.workspace / "link.txt").exists()
    with pytest.raises(ToolError, match="no workspace is active"):
        current()


def test_no_tools_means_no_workspace(tmp_path: Path) -> None:
    """A scenario whose agents list no tools leaves no workspace folder behind."""
    scenario = _scenario_with_data(tmp_path)
    with run_workspace(tmp_path / "runs", "abc", scenario, "s", []) as context:
        assert context is None
    assert not (tmp_path / "runs").exists()


def test_the_harness_gives_support_qa_its_docs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A support_qa run gets a workspace holding the bundled docs, and its agents get the tools."""
    with FakeOllama(["The reply.", "The reviewed reply."]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        args = ["--backend", "ollama", "--runs-dir", str(tmp_path), "-q"]
        assert support_qa(args) == 0
        offered = [[t["function"]["name"] for t in r.get("tools", [])] for r in server.requests]
    assert offered == [["retrieve"], ["retrieve"]]
    (trace,) = tmp_path.glob("*.jsonl")
    run_id = json.loads(trace.read_text().splitlines()[0])["run_id"]
    docs = tmp_path / f"{run_id}-workspace" / "docs"
    assert sorted(p.name for p in docs.iterdir()) == [
        "account.md",
        "billing.md",
        "returns.md",
        "shipping.md",
        "warranty.md",
        "wifi_setup.md",
    ]
