"""The CrewAI adapter: its native-Ollama model, how agents are mapped, what it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agents.base import AgentModel
from scenarios.errors import ScenarioError
from scenarios.loader import load_text
from tests._adapters import REFLECTION, ROUND_ROBIN, SEQUENTIAL, SUPERVISOR, run_on
from tests.fake_ollama import FakeOllama

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = {"num_ctx": 4096, "temperature": 0.0, "seed": 3, "num_predict": 32}


def _spec(url: str) -> AgentModel:
    return AgentModel("planner", "ollama", "smollm2:135m", url, dict(OPTIONS), keep_alive="1m")


def test_native_llm_sends_the_scenario_options_and_keep_alive() -> None:
    """The BaseLLM posts to /api/chat, unstreamed, with every option and keep_alive as given."""
    from agents.crewai_llm import OllamaNativeLLM

    with FakeOllama(["hello"]) as server:
        llm = OllamaNativeLLM.from_agent_model(_spec(server.url))
        reply = llm.call([{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}])
    (request,) = server.requests
    assert reply == "hello"
    assert request["options"] == OPTIONS and request["keep_alive"] == "1m"
    assert request["stream"] is False
    assert request["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
    ]


def test_native_llm_applies_stop_words_to_the_reply_not_the_wire() -> None:
    """CrewAI's ReAct stop words cut the reply; the wire options stay the scenario's."""
    from agents.crewai_llm import OllamaNativeLLM

    with FakeOllama(["Thought: look\nAction: x\nObservation: made up"]) as server:
        llm = OllamaNativeLLM.from_agent_model(_spec(server.url))
        llm.stop = ["\nObservation:"]
        reply = llm.call("go")
    assert reply == "Thought: look\nAction: x"
    assert "stop" not in server.requests[0]["options"]


def test_context_window_is_the_usable_part_of_num_ctx() -> None:
    """CrewAI sizes its context checks from the num_ctx the calls are sent with."""
    from agents.crewai_llm import OllamaNativeLLM

    llm = OllamaNativeLLM.from_agent_model(_spec("http://127.0.0.1:9"))
    assert llm.get_context_window_size() == int(4096 * 0.85)
    assert llm.supports_function_calling() is False


def test_role_goal_backstory_are_rendered_and_a_system_prompt_becomes_the_backstory() -> None:
    """Inputs fill role, goal and backstory; an inline system_prompt is the backstory."""
    from agents.crewai_runner import agent_texts

    text = SEQUENTIAL.replace("backstory: You plan.", "backstory: 'You plan {topic}.'")
    scenario = load_text(text + "inputs: {topic: tea}\n")
    assert agent_texts(scenario.agent("planner"), {"topic": "tea"}) == (
        "Planner",
        "Plan the article.",
        "You plan tea.",
    )
    prompted = scenario.agent("writer").model_copy(
        update={"system_prompt": "You write about {topic}.", "role": "", "backstory": ""}
    )
    assert agent_texts(prompted, {"topic": "tea"}) == (
        "writer",
        "Write the article.",
        "You write about tea.",
    )


@pytest.mark.parametrize(
    ("text", "topology"), [(ROUND_ROBIN, "round_robin"), (REFLECTION, "reflection")]
)
def test_check_refuses_what_crewai_cannot_express(text: str, topology: str) -> None:
    """round_robin and reflection are refused by check(), with the frameworks that can."""
    from agents.crewai_runner import CrewAIRunner

    with pytest.raises(ScenarioError, match=f"topology '{topology}' is not supported on crewai"):
        CrewAIRunner().check(load_text(text))


def test_check_accepts_sequential_parallel_and_supervisor() -> None:
    """The three topologies CrewAI maps pass check()."""
    from agents.crewai_runner import CrewAIRunner
    from tests._adapters import PARALLEL

    for text in (SEQUENTIAL, PARALLEL, SUPERVISOR):
        CrewAIRunner().check(load_text(text))


def test_supervisor_members_need_distinct_roles() -> None:
    """CrewAI delegates by role, so two members with one role are refused."""
    from agents.crewai_runner import CrewAIRunner

    text = SUPERVISOR.replace("role: Editor", "role: Writer")
    with pytest.raises(ScenarioError, match="share the role 'Writer'"):
        CrewAIRunner().check(load_text(text))


def test_crewai_storage_goes_beside_the_trace(tmp_path: Path) -> None:
    """CrewAI's files land in the runs folder's .crewai, not in the user's home."""
    outcome = run_on("crewai", SEQUENTIAL, ["a", "b", "c"], tmp_path)
    assert outcome.code == 0, outcome.error
    storage = tmp_path / "runs" / ".crewai"
    assert os.environ["CREWAI_STORAGE_DIR"] == str(storage.resolve())
    assert any(storage.iterdir())


_NO_SWITCHES_SCRIPT = textwrap.dedent("""
    import json, socket, sys, time
    tried = []
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo
    def connect(self, address):
        if isinstance(address, tuple) and not str(address[0]).startswith("127."):
            tried.append(str(address)); raise ConnectionRefusedError("guard")
        return real_connect(self, address)
    def lookup(host, *args, **kwargs):
        if host not in ("localhost", "127.0.0.1", "::1", None):
            tried.append(str(host)); raise socket.gaierror("guard")
        return real_lookup(host, *args, **kwargs)
    socket.socket.connect, socket.getaddrinfo = connect, lookup
    from pathlib import Path
    from tests._adapters import SEQUENTIAL, run_on
    outcome = run_on("crewai", SEQUENTIAL, ["a", "b", "c"], Path(sys.argv[1]))
    print(json.dumps({"code": outcome.code, "tried": tried, "ended": time.time()}))
""")


def test_crewai_run_stays_on_loopback_and_exits_promptly_with_no_switches_set(
    tmp_path: Path,
) -> None:
    """With no CREWAI_* variables set by the user, a run tries no network and exits at once."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CREWAI_", "OTEL_")) and k != "OLLAMA_HOST"
    }
    done = subprocess.run(
        [sys.executable, "-c", _NO_SWITCHES_SCRIPT, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    exited = time.time()
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0 and result["tried"] == []
    assert exited - result["ended"] < 5, "crewai delayed the process exit (telemetry?)"


def test_a_manager_with_tools_is_refused() -> None:
    """CrewAI's manager agent only delegates, so a supervisor with tools is refused."""
    from agents.crewai_runner import CrewAIRunner

    manager = "backstory: You manage."
    text = SUPERVISOR.replace(f"{manager}}}", f"{manager}, tools: [calculator]}}")
    with pytest.raises(ScenarioError, match="CrewAI's manager agent only delegates"):
        CrewAIRunner().check(load_text(text))
