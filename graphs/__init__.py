"""Scenario -> LangGraph compiler: one module per topology, validated before compiling."""

from graphs.compiler import compile_scenario
from graphs.mermaid import mermaid

__all__ = ["compile_scenario", "mermaid"]
