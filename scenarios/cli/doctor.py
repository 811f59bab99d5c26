"""`python -m scenarios doctor [FILE]`: Ollama, the models a scenario needs, the embedded engine."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from gateway.doctor import run_doctor
from scenarios.cli.commands import subcommand
from scenarios.loader import load_file


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `doctor [FILE]`."""
    parser = subcommand(sub, "doctor", cmd_doctor)
    parser.add_argument("file", nargs="?", type=Path, help="a scenario file (optional)")
    return parser


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check Ollama, the models a scenario needs, and the embedded engine."""
    scenario = load_file(args.file).scenario if args.file else None
    return run_doctor(scenario, Console())
