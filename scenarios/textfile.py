"""Reading a user's text file (a scenario, a trace) with a one-line error for every failure."""

from __future__ import annotations

from pathlib import Path

from scenarios.errors import LabError, ScenarioError


def read_text(path: Path, what: str, error: type[LabError] = ScenarioError) -> str:
    """The file's UTF-8 text; `error` naming the file and the problem if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise error(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {what} file") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not a {what} (not UTF-8 text at byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
