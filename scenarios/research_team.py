"""`python -m scenarios.research_team`: planner → writer → editor write an article on a topic.

Runs `research_team.yaml` on the chosen framework and backend (by default the local Ollama
if it has the model, else the embedded SmolLM2), prints the article and the trace path.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from scenarios.cli.run import run_shipped

SCENARIO_FILE = Path(__file__).with_name("research_team.yaml")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the research team; return the exit code."""
    return run_shipped(
        SCENARIO_FILE,
        "A planner, a writer and an editor write a short article on a topic.",
        {"topic": "what the article is about"},
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
