"""Tools agents can call, each defined once and bound to every framework by its adapter.

The registry is filled by the tools issue; scenarios name tools from it.
"""

from __future__ import annotations

from typing import Any

REGISTRY: dict[str, Any] = {}


def names() -> list[str]:
    """The names of the tools a scenario may list."""
    return sorted(REGISTRY)
