"""`python -m scenarios.support_qa`: a support rep answers from the docs, QA reviews the reply.

Runs `support_qa.yaml` on the chosen framework and backend. The bundled documentation
(`data/support_qa/docs`) is copied into the run's workspace, where the agents search it
with the `retrieve` tool; prints the final reply and the trace path.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from scenarios.cli.run import run_shipped

SCENARIO_FILE = Path(__file__).with_name("support_qa.yaml")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the support team on one inquiry; return the exit code."""
    return run_shipped(
        SCENARIO_FILE,
        "A support representative answers a customer from the product docs; "
        "a QA specialist reviews and corrects the reply.",
        {"inquiry": "what the customer asks", "customer": "the customer's name"},
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
