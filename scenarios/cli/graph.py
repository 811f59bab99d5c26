"""`python -m scenarios graph FILE`: the scenario's compiled LangGraph, as Mermaid.

Importing this module imports LangGraph (`graphs.mermaid` compiles the graph), which is
why `scenarios.cli` imports it only when `graph` is the command typed.
"""

from __future__ import annotations

import argparse

from graphs import mermaid
from scenarios.cli.commands import subcommand
from scenarios.cli.options import add_file
from scenarios.errors import EXIT_OK
from scenarios.loader import load_file


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `graph FILE`."""
    parser = subcommand(sub, "graph", cmd_graph)
    add_file(parser)
    return parser


def cmd_graph(args: argparse.Namespace) -> int:
    """Print the scenario's compiled LangGraph as Mermaid."""
    print(mermaid(load_file(args.file).scenario))
    return EXIT_OK
