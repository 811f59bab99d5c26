"""The commands of `python -m scenarios`: each one's name, module and help text.

The table is what `python -m scenarios --help` lists, in its order; a command's module
(`scenarios.cli.<module>`) defines the command's options in `add_parser(sub)` and runs it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    """One command: what the user types, the module that runs it, its one-line help."""

    name: str
    module: str
    help: str


COMMANDS = (
    Command("run", "scenarios.cli.run", "run a scenario"),
    Command("validate", "scenarios.cli.validate", "check scenario files"),
    Command("list", "scenarios.cli.listing", "list the shipped scenarios"),
    Command("graph", "scenarios.cli.graph", "print the compiled graph as Mermaid"),
    Command("schema", "scenarios.cli.schema", "write the scenario JSON Schema"),
    Command("doctor", "scenarios.cli.doctor", "check the model servers a scenario needs"),
    Command(
        "compare",
        "scenarios.cli.compare",
        "compare runs from their traces: a table, CSV, JSON or an HTML report",
    ),
    Command(
        "bench-models",
        "scenarios.cli.bench_models",
        "run a fixed prompt set on each model and print the tokens/s table",
    ),
    Command("replay", "scenarios.cli.replay", "read a run back, or re-run it from its trace"),
)
_BY_NAME = {command.name: command for command in COMMANDS}


def subcommand(
    sub: argparse._SubParsersAction,
    name: str,
    handler: Handler | None = None,
    *,
    description: str | None = None,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    """Add the command `name` to `sub` with its help text; `handler(args)` runs it."""
    help_text = _BY_NAME[name].help
    parser = sub.add_parser(
        name, help=help_text, description=description or help_text, epilog=epilog
    )
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser
