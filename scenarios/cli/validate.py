"""`python -m scenarios validate FILE...`: check scenario files, every problem on its line."""

from __future__ import annotations

import argparse
from pathlib import Path

from scenarios.cli.commands import subcommand
from scenarios.cli.output import print_error
from scenarios.errors import EXIT_BAD_INPUT, EXIT_OK, ScenarioError
from scenarios.loader import load_file


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `validate FILE...`."""
    parser = subcommand(sub, "validate", cmd_validate)
    parser.add_argument("files", nargs="+", type=Path, help="scenario YAML files")
    return parser


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate each file; print every problem as `file:line: field: message`."""
    worst = EXIT_OK
    for path in args.files:
        try:
            load_file(path)
            print(f"{path}: ok")
        except ScenarioError as exc:
            print_error(str(exc))
            worst = EXIT_BAD_INPUT
    return worst
