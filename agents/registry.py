"""Which frameworks can run a scenario, imported lazily so LangGraph runs never pay for others.

`get_runner` imports a framework's adapter module only when that framework is asked for;
CrewAI's telemetry switches are set before its adapter (and so crewai) is imported.
"""

from __future__ import annotations

from agents.base import Runner
from scenarios.errors import ScenarioError

FRAMEWORKS: tuple[str, ...] = ("langgraph", "crewai", "autogen")


def get_runner(framework: str) -> Runner:
    """The runner for `framework`; a ScenarioError naming the known ones otherwise."""
    if framework == "langgraph":
        from agents.langgraph_runner import LangGraphRunner  # lazy: only its run pays LangChain

        return LangGraphRunner()
    if framework == "crewai":
        return _crewai()
    if framework == "autogen":
        return _autogen()
    raise ScenarioError(
        f"framework {framework!r} is not available (available: {', '.join(FRAMEWORKS)})"
    )


def _crewai() -> Runner:
    from agents import _crewai_env  # the switches must be set before crewai is imported

    _crewai_env.switch_off_telemetry()
    try:
        from agents.crewai_runner import CrewAIRunner  # lazy: crewai is an optional extra
    except ImportError as exc:
        raise ScenarioError(_install_hint("crewai", exc)) from None
    return CrewAIRunner()


def _autogen() -> Runner:
    try:
        from agents.autogen_runner import AutoGenRunner  # lazy: autogen is an optional extra
    except ImportError as exc:
        raise ScenarioError(_install_hint("autogen-agentchat autogen-ext[ollama]", exc)) from None
    return AutoGenRunner()


def _install_hint(packages: str, exc: ImportError) -> str:
    return f"{exc}: install it with: pip install {packages}"
