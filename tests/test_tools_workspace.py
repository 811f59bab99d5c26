"""The run's workspace: created and seeded by the harness hook, active while the run lasts."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from agents.harness import _start_models
from gateway.backend import Backend
from gateway.upstreams.replay import ReplayUpstream
from scenarios.loader import load_file
from scenarios.support_qa import SCENARIO_FILE
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


def test_retrieve_embeds_through_the_runs_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the run's gateway, retrieve uses its all-minilm; without one, the in-process model."""
    monkeypatch.delenv("LAB_EMBEDDINGS", raising=False)
    scenario = _scenario_with_data(tmp_path)
    url = "http://127.0.0.1:4321"
    with run_workspace(tmp_path / "runs", "g", scenario, "s", ["retrieve"], url) as context:
        assert context is not None and context.embeddings == f"ollama:all-minilm@{url}"
    with run_workspace(tmp_path / "runs", "n", scenario, "s", ["retrieve"]) as context:
        assert context is not None and context.embeddings == "local"
    monkeypatch.setenv("LAB_EMBEDDINGS", "local")
    with run_workspace(tmp_path / "runs", "o", scenario, "s", ["retrieve"], url) as context:
        assert context is not None and context.embeddings == "local"


@pytest.mark.parametrize(
    ("kind", "embeds"),
    [("embedded", True), ("ollama", True), ("replay", False), ("replay+embedded", False)],
)
def test_only_backends_that_embed_lend_retrieve_their_gateway(kind: str, embeds: bool) -> None:
    """The harness hands retrieve the gateway of an embedded or Ollama backend, not a replay's."""
    scenario = load_file(SCENARIO_FILE).scenario
    backend = Backend(kind, ReplayUpstream([]), {}, "note")

    def select(*_: Any) -> Backend:
        return backend

    with ExitStack() as stack:
        _, _, url = _start_models(scenario, "run", "auto", stack, select)
    assert (url or "").startswith("http://127.0.0.1:") is embeds
