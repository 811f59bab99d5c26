"""Scenario -> LangGraph compiler: one module per topology, validated before compiling.

`compile_scenario` and `mermaid` are imported on first use: importing `graphs` alone does
not pay LangGraph's import time.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphs.compiler import compile_scenario
    from graphs.drawing import mermaid

__all__ = ["compile_scenario", "mermaid"]
_HOMES = {"compile_scenario": "graphs.compiler", "mermaid": "graphs.drawing"}


def __getattr__(name: str) -> Any:
    """Import `compile_scenario` and `mermaid` lazily."""
    if name not in _HOMES:
        raise AttributeError(f"module 'graphs' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
