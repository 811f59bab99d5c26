"""`python -m scenarios.research_team`: planner → writer → editor write an article on a topic.

Runs `research_team.yaml` on the chosen framework and backend (by default the local Ollama
if it has the model, else the embedded SmolLM2), prints the article and the trace path.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scenarios.cli import add_run_options, execute_run, guarded, parse_args
from scenarios.loader import load_file

SCENARIO_FILE = Path(__file__).with_name("research_team.yaml")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the research team; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m scenarios.research_team",
        description="A planner, a writer and an editor write a short article on a topic.",
        epilog="Exit codes: 0 ok, 1 run failed, 2 bad input, 3 model server or model missing.",
    )
    parser.add_argument("--topic", help="what the article is about")
    add_run_options(parser)
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    extra = {"topic": args.topic} if args.topic else {}
    return guarded(lambda: execute_run(load_file(SCENARIO_FILE), args, inputs=extra))


if __name__ == "__main__":
    sys.exit(main())
