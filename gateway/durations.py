"""Ollama's `keep_alive`: a number of seconds, or a Go duration such as "1h30m" or "-1".

A negative value keeps a model loaded for ever; an empty or unreadable one means Ollama's
default of five minutes.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_KEEP_ALIVE_S = 300.0
DURATION_PART = re.compile(r"(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration_seconds(text: str) -> float | None:
    """Seconds of a Go duration ("1h30m", "500ms"), or None when the text holds none."""
    parts = DURATION_PART.findall(text)
    if not parts:
        return None
    return sum(float(n) * UNIT_S[u] for n, u in parts)


def keep_alive_seconds(value: Any) -> float | None:
    """Seconds from Ollama's keep_alive (number or Go duration); None means forever."""
    if value is None or value == "":
        return DEFAULT_KEEP_ALIVE_S
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            parsed = go_duration_seconds(text)
            if parsed is None:
                return DEFAULT_KEEP_ALIVE_S
            seconds = parsed
    return None if seconds < 0 else seconds
