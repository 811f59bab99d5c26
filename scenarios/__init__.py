"""Declarative multi-agent scenarios.

The kernel every package may import: the spec (`spec`), its errors and exit codes
(`errors`), the loader (`loader`) and text files (`textfile`), beside the shipped
scenarios, their JSON Schema and data. The command line is `scenarios.cli`, which only
the entry points import.
"""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent  # the shipped scenarios, schema, data, prompts
