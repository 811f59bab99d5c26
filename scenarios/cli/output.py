"""What every command ends with: its output, one line per error, and an exit code.

A user's mistake is one line on stderr and an exit code (2 bad input, 3 model server,
1 run failed), never a traceback: `parse_args` returns argparse's exit code instead of
raising it, and `guarded` turns a LabError into its line and code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from scenarios.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, LabError

EXIT_CODES = "Exit codes: 0 ok, 1 run failed, 2 bad input, 3 model server or model missing."
DASH_VALUES = ("--sort",)  # options whose value may start with "-" (`--sort -wall_time_s`)


def parse_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code argparse chose (0 for --help, 2 for misuse)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return parser.parse_args(join_dash_values(args))
    except SystemExit as exc:
        return int(exc.code or 0)


def join_dash_values(argv: Sequence[str]) -> list[str]:
    """`--sort -x` as `--sort=-x`: argparse would take a value starting with '-' for an option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in DASH_VALUES and arg.startswith("-") and arg != "--":
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def guarded(action: Callable[[], int]) -> int:
    """Run a command; a LabError becomes its one-line message and exit code.

    A reader that stops reading (`... | head`) ends the command quietly with 141, as a Unix
    tool killed by SIGPIPE does: no traceback, and none when Python flushes at exit.
    """
    try:
        return action()
    except LabError as exc:
        print_error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit cannot fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no file (a test's capture): nothing to flush
        pass
    finally:
        os.close(devnull)


def say_note(line: str) -> None:
    """Print a note on stderr, also under --quiet: a model standing in is never hidden."""
    print(line, file=sys.stderr)


def print_error(message: str) -> None:
    """Print `error: ...` on stderr, once for each line of the message."""
    for line in message.splitlines() or [message]:
        print(f"error: {line}", file=sys.stderr)
