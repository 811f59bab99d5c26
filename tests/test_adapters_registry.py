"""The framework registry: names, lazy imports, CrewAI's switches set before its import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agents.registry import FRAMEWORKS, get_runner
from scenarios.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]


def _python(script: str, env: dict[str, str] | None = None) -> dict:
    """Run `script` in a fresh interpreter at the repo root; its last stdout line as JSON."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_three_frameworks_are_registered() -> None:
    """langgraph, crewai and autogen are offered, each with a runner of that name."""
    assert FRAMEWORKS == ("langgraph", "crewai", "autogen")
    assert [get_runner(name).framework for name in FRAMEWORKS] == list(FRAMEWORKS)


def test_an_unknown_framework_names_the_known_ones() -> None:
    """A typo is bad input (exit 2) listing every framework."""
    with pytest.raises(ScenarioError, match="available: langgraph, crewai, autogen") as info:
        get_runner("crew")
    assert info.value.exit_code == 2


def test_a_langgraph_run_imports_neither_crewai_nor_autogen() -> None:
    """The LangGraph path, CLI included, never pays for the other frameworks' imports."""
    result = _python("""
        import json, sys
        from tests.fake_ollama import FakeOllama
        from tests._adapters import ollama_host
        from scenarios.research_team import main
        import tempfile
        with FakeOllama(["a", "b", "c"]) as server, ollama_host(server.url):
            code = main(["--framework", "langgraph", "--backend", "ollama", "-q",
                         "--runs-dir", tempfile.mkdtemp()])
        loaded = sorted({m.split(".")[0] for m in sys.modules
                         if m.split(".")[0] in ("crewai", "autogen_agentchat", "autogen_core",
                                                "autogen_ext")})
        print(json.dumps({"code": code, "loaded": loaded}))
    """)
    assert result == {"code": 0, "loaded": []}


def test_asking_for_crewai_switches_its_telemetry_off_before_importing_it() -> None:
    """get_runner('crewai') sets CrewAI's opt-outs and still has not imported crewai."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREWAI_")}
    result = _python(
        """
        import json, os, sys
        from agents.registry import get_runner
        get_runner("crewai")
        print(json.dumps({"imported": "crewai" in sys.modules,
                          "env": {k: v for k, v in os.environ.items()
                                  if k.startswith("CREWAI_")}}))
    """,
        env=env,
    )
    assert result["imported"] is False
    assert result["env"]["CREWAI_DISABLE_TELEMETRY"] == "true"
    assert result["env"]["CREWAI_TRACING_ENABLED"] == "false"


def test_openai_profiles_sample_the_same_on_every_framework() -> None:
    """Each framework's OpenAI client gets the profile's temperature, seed, max_tokens, top_p."""
    from agents.autogen_team import model_client
    from agents.base import AgentModel
    from agents.crewai_runner import crewai_llm
    from agents.models import chat_model

    options = {"num_ctx": 4096, "temperature": 0.3, "seed": 7, "num_predict": 99, "top_p": 0.9}
    spec = AgentModel("a", "openai", "m", "http://127.0.0.1:1/v1", options)
    expected = {"temperature": 0.3, "seed": 7, "max_tokens": 99, "top_p": 0.9}
    assert spec.openai_params() == expected
    langchain = chat_model(spec)
    assert (langchain.temperature, langchain.seed, langchain.max_tokens, langchain.top_p) == (
        0.3,
        7,
        99,
        0.9,
    )
    crew = crewai_llm(spec)
    assert (crew.temperature, crew.seed, crew.max_tokens, crew.top_p) == (0.3, 7, 99, 0.9)
    create_args = model_client(spec)._create_args
    assert {k: create_args[k] for k in expected} == expected
