"""The events a team writes as it works, as the trace will hold them.

Every framework's translation builds its `route`, `warning` and `agent_message` events
with these constructors, so the same situation writes the same fields on each.
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]
END = "END"  # where a route goes when the run ends
AGENT_STARTED = "agent_started"  # the transient signal that an agent's turn begins


def route(source: str, target: str, reason: str, **extra: Any) -> Event:
    """A `route` event: who handed over to whom (or END), and why."""
    return {"kind": "route", "from": source, "to": target, "reason": reason, **extra}


def warning(code: str, message: str, **numbers: Any) -> Event:
    """A `warning` event."""
    return {"kind": "warning", "code": code, "message": message, **numbers}


def message(agent: str, task: str | None, text: str, **extra: Any) -> Event:
    """An `agent_message` event (its turn number is given when it is written)."""
    return {"kind": "agent_message", "agent": agent, "task": task, "content": text, **extra}
