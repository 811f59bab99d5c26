"""The options several commands share, each defined here once with one help text.

`run` and `python -m scenarios.<name>` take all the run options; `replay rerun` and
`bench-models` take the backend, runs folder and quiet flag (and rerun `--model`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from gateway.backend import CHOICES as BACKENDS
from scenarios.errors import ScenarioError

Options = argparse._ActionsContainer  # a parser or a group of its options


def add_file(parser: Options) -> None:
    """The scenario file a command reads (`run FILE`, `graph FILE`)."""
    parser.add_argument("file", type=Path, help="scenario YAML file")


def add_run_options(parser: Options) -> None:
    """The options every run command takes (`run`, `python -m scenarios.research_team`)."""
    add_framework(parser)
    add_input(parser)
    add_model(parser)
    add_backend(parser)
    add_runs_dir(parser)
    add_quiet(parser)


def add_framework(parser: Options) -> None:
    """`--framework NAME`: the framework that runs the scenario (default langgraph)."""
    parser.add_argument(
        "--framework",
        default="langgraph",
        help="langgraph (default), crewai, autogen, or all (each in turn, then a compare table)",
    )


def add_input(parser: Options) -> None:
    """`--input KEY=VALUE`, repeatable: a scenario input."""
    parser.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a scenario input, e.g. --input topic='local LLMs' (repeatable)",
    )


def add_model(parser: Options) -> None:
    """`--model PROFILE=TAG`, repeatable: another model tag for a profile."""
    parser.add_argument(
        "--model",
        "-m",
        action="append",
        default=[],
        metavar="PROFILE=TAG",
        help="use another model tag for a profile, e.g. --model default=llama3.1:8b",
    )


def add_backend(parser: Options, default: str | None = "auto") -> None:
    """`--backend auto|ollama|embedded`: which model server serves the calls."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=default,
        help="auto: Ollama if it answers and has the models, else the embedded model",
    )


def add_runs_dir(parser: Options) -> None:
    """`--runs-dir DIR`: where the traces are written (default runs)."""
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"), help="where traces go")


def add_quiet(parser: Options) -> None:
    """`--quiet`, `-q`: only the result on stdout."""
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print only the result (and, on stderr, errors and a model standing in for another)",
    )


def add_wide(parser: Options) -> None:
    """`--wide`: a table with every column, however wide the terminal."""
    parser.add_argument(
        "--wide", action="store_true", help="print every column, even past the terminal's width"
    )


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    """`["a=1", "b=2"]` → `{"a": "1", "b": "2"}`; a pair without `=` is a ScenarioError."""
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"{what} {pair!r}: expected KEY=VALUE")
        result[key.strip()] = value
    return result
