"""Which frameworks can run a scenario, imported lazily so LangGraph runs never pay for others."""

from __future__ import annotations

from agents.base import Runner
from scenarios.errors import ScenarioError

FRAMEWORKS: tuple[str, ...] = ("langgraph",)


def get_runner(framework: str) -> Runner:
    """The runner for `framework`; a ScenarioError naming the known ones otherwise."""
    if framework == "langgraph":
        from agents.langgraph_runner import LangGraphRunner

        return LangGraphRunner()
    raise ScenarioError(
        f"framework {framework!r} is not available (available: {', '.join(FRAMEWORKS)})"
    )
