"""`python -m scenarios.event_planning`: a venue coordinator and a logistics manager plan an event.

Runs `event_planning.yaml`: the plan task's answer must validate against `EventPlan`
(asked for as structured output), and the coordinator writes it to `plan.json` in the run's
workspace with the `write_file` tool. Prints the last agent's reply and the trace path.
"""

from __future__ import annotations

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
    # not at import: validating the YAML imports EventPlan from here, and the run command
    # would bring the runners and the gateway into `python -m scenarios validate`
    from scenarios.cli.run import run_shipped

    return run_shipped(
        SCENARIO_FILE,
        "A venue coordinator and a logistics manager produce a structured event plan and "
        "save it as plan.json in the run's workspace.",
        {name: f"the event's {name}" for name in ("event", "city", "attendees", "budget")},
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
