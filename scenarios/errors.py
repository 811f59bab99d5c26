"""The errors a user can act on, each with its documented exit code.

Exit codes: 0 ok (a run that finished, `ok` or `degraded`: its status line says which),
1 the run failed, 2 bad input (scenario, arguments), 3 model server unreachable or model
missing, 130 interrupted (Ctrl-C), 141 the output pipe was closed (`... | head`).
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_MODEL_SERVER = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it


class LabError(Exception):
    """Base of every error the CLI turns into one line and an exit code."""

    exit_code = EXIT_RUN_FAILED
    trace_path: Path | None = None  # set once a run has written a trace


class ScenarioError(LabError):
    """The scenario (or a CLI argument about it) is wrong: the user must edit it."""

    exit_code = EXIT_BAD_INPUT


class ModelServerError(LabError):
    """The model server cannot be reached or lacks the model: the message says the fix."""

    exit_code = EXIT_MODEL_SERVER


class RunFailedError(LabError):
    """The run started but failed; its trace is on disk."""

    exit_code = EXIT_RUN_FAILED
