"""`python -m scenarios ...`: the lab's command line.

Every command is `main(argv) -> int` and lives in its own module (`commands.COMMANDS` says
which); the options several commands share are defined once in `options`, the exit and
error helpers in `output`. Only the module of the command typed is imported: the others
are listed by name and help text, so that `validate` does not pay for the runners, the
gateway or LangGraph.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from scenarios.cli.commands import COMMANDS, subcommand
from scenarios.cli.output import EXIT_CODES, guarded, parse_args

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; return its exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(build_parser(words), words)
    if isinstance(args, int):
        return args
    return guarded(lambda: int(args.handler(args)))


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser of `python -m scenarios`, with the options of the command in argv."""
    parser = argparse.ArgumentParser(
        prog="python -m scenarios",
        description="Run declarative multi-agent scenarios on local models, traced.",
        epilog=EXIT_CODES,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    typed = typed_command(argv)
    for command in COMMANDS:
        if command.name == typed:
            # the typed command's module only: all of them would import the runners and LangGraph
            import_module(command.module).add_parser(sub)
        else:
            subcommand(sub, command.name)
    return parser


def typed_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names: its first word that is no option (the top level has only -h)."""
    return next((word for word in argv if not word.startswith("-")), None)
