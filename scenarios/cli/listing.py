"""`python -m scenarios list`: the shipped scenarios with their topology and description."""

from __future__ import annotations

import argparse
from pathlib import Path

from scenarios import SHIPPED_DIR
from scenarios.cli.commands import subcommand
from scenarios.errors import EXIT_OK
from scenarios.loader import load_file


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `list`."""
    return subcommand(sub, "list", cmd_list)


def cmd_list(_args: argparse.Namespace) -> int:
    """List the shipped scenarios with their topology and description."""
    for path in shipped_scenarios():
        scenario = load_file(path).scenario
        description = " ".join(scenario.description.split())
        print(f"{scenario.name:<18} {scenario.team.topology:<12} {description}")
    return EXIT_OK


def shipped_scenarios() -> list[Path]:
    """The scenario files that ship with the lab."""
    return sorted(SHIPPED_DIR.glob("*.yaml"))
