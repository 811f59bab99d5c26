"""`python -m scenarios.event_planning`: a venue coordinator and a logistics manager plan an event.

Runs `event_planning.yaml`: the plan task's answer must validate against `EventPlan`
(asked for as structured output), and the coordinator writes it to `plan.json` in the run's
workspace with the `write_file` tool. Prints the last agent's reply and the trace path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

SCENARIO_FILE = Path(__file__).with_name("event_planning.yaml")


class BudgetLine(BaseModel):
    """One line of the event budget."""

    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=60, description="What the money is for")
    amount_eur: float = Field(ge=0, description="Cost in euros")


class EventPlan(BaseModel):
    """The structured plan the logistics manager must produce."""

    model_config = ConfigDict(extra="forbid")

    venue: str = Field(min_length=1, max_length=80, description="Name of the venue")
    date: dt.date = Field(description="Day of the event, YYYY-MM-DD")
    capacity: int = Field(ge=1, le=100_000, description="How many people the venue holds")
    budget: list[BudgetLine] = Field(min_length=1, max_length=6, description="Budget lines")


def main(argv: Sequence[str] | None = None) -> int:
    """Plan the event; return the exit code."""
    from scenarios.cli import add_run_options, execute_run, guarded, parse_args
    from scenarios.loader import load_file

    parser = argparse.ArgumentParser(
        prog="python -m scenarios.event_planning",
        description="A venue coordinator and a logistics manager produce a structured event "
        "plan and save it as plan.json in the run's workspace.",
        epilog="Exit codes: 0 ok, 1 run failed, 2 bad input, 3 model server or model missing.",
    )
    for name in ("event", "city", "attendees", "budget"):
        parser.add_argument(f"--{name}", help=f"the event's {name}")
    add_run_options(parser)
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    extra = {k: v for k in ("event", "city", "attendees", "budget") if (v := getattr(args, k))}
    return guarded(lambda: execute_run(load_file(SCENARIO_FILE), args, inputs=extra))


if __name__ == "__main__":
    sys.exit(main())
