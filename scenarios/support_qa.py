"""`python -m scenarios.support_qa`: a support rep answers from the docs, QA reviews the reply.

Runs `support_qa.yaml` on the chosen framework and backend. The bundled documentation
(`data/support_qa/docs`) is copied into the run's workspace, where the agents search it
with the `retrieve` tool; prints the final reply and the trace path.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scenarios.cli import add_run_options, execute_run, guarded, parse_args
from scenarios.loader import load_file

SCENARIO_FILE = Path(__file__).with_name("support_qa.yaml")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the support team on one inquiry; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m scenarios.support_qa",
        description="A support representative answers a customer from the product docs; "
        "a QA specialist reviews and corrects the reply.",
        epilog="Exit codes: 0 ok, 1 run failed, 2 bad input, 3 model server or model missing.",
    )
    parser.add_argument("--inquiry", help="what the customer asks")
    parser.add_argument("--customer", help="the customer's name")
    add_run_options(parser)
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    extra = {k: v for k in ("inquiry", "customer") if (v := getattr(args, k))}
    return guarded(lambda: execute_run(load_file(SCENARIO_FILE), args, inputs=extra))


if __name__ == "__main__":
    sys.exit(main())
