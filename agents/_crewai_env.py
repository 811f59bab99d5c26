"""CrewAI's switches, set before crewai is first imported: no telemetry, no cloud tracing.

CrewAI reads these at import and at kickoff. Unset, its telemetry delays every process exit
by ~10 s and its first-run tracing prompt stalls each agent; both try to reach the
internet. Its storage goes under the run's folder instead of `~/.local/share`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SWITCHES: dict[str, str] = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_DISABLE_VERSION_CHECK": "true",
}


def switch_off_telemetry() -> None:
    """Turn CrewAI's telemetry, cloud tracing and version check off for this process."""
    for name, value in SWITCHES.items():
        os.environ[name] = value


def prepare(storage_dir: Path) -> None:
    """Switch telemetry off and point CrewAI's storage at `storage_dir` (created)."""
    switch_off_telemetry()
    storage_dir.mkdir(parents=True, exist_ok=True)
    os.environ["CREWAI_STORAGE_DIR"] = str(storage_dir.resolve())


def imported() -> bool:
    """Whether crewai is already imported in this process."""
    return "crewai" in sys.modules
