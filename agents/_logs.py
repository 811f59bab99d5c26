"""Keep a framework's internal error logs off the user's terminal unless logging is set up.

CrewAI and AutoGen log an agent's failure (with a traceback) before raising it; with no
handler configured, Python prints those records to stderr. The run already reports the
failure as one line and records it in the trace, so these loggers get a `NullHandler`:
an application that configures logging still receives the records (they propagate).
"""

from __future__ import annotations

import logging


def quiet(*names: str) -> None:
    """Give each named logger a NullHandler, once."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
