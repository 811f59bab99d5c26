"""`python -m scenarios schema [-o FILE]`: the JSON Schema of a scenario file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scenarios import SHIPPED_DIR
from scenarios.cli.commands import subcommand
from scenarios.errors import EXIT_OK, ScenarioError
from scenarios.spec import Scenario

SCHEMA_FILE = SHIPPED_DIR / "scenario.schema.json"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `schema [--output FILE]`."""
    parser = subcommand(sub, "schema", cmd_schema)
    parser.add_argument("--output", "-o", type=Path, help="file to write (default: stdout)")
    return parser


def schema_text() -> str:
    """The JSON Schema of a scenario file, as shipped in `scenario.schema.json`."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Multi-agent scenario"
    return json.dumps(schema, indent=2) + "\n"


def cmd_schema(args: argparse.Namespace) -> int:
    """Write the JSON Schema to a file or stdout."""
    if args.output:
        try:
            args.output.write_text(schema_text(), encoding="utf-8")
        except OSError as exc:
            message = f"{args.output}: cannot write the schema ({exc.strerror})"
            raise ScenarioError(message) from None
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(schema_text())
    return EXIT_OK
