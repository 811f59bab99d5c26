"""Read a trace back: one JSON object a line, as `traces.recorder` writes it.

The reader is tolerant where a trace can honestly be incomplete and strict where reading on
would mean misreading:

- a last line cut by a killed run (no newline after it, not valid JSON) is dropped and the
  trace is marked `cut`; any other line that is not a JSON object is an error;
- event kinds it does not know (from a newer minor addition) are kept as they are and
  listed in `unknown_kinds`; readers of known kinds simply skip them;
- a `schema` newer than `SCHEMA_VERSION` is refused with a message saying to upgrade; an
  older one is read through an upgrade step when there is one, else refused by name.

Errors are `TraceError` (exit code 2): one line naming the file, the line and the problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scenarios.errors import ScenarioError
from scenarios.textfile import read_text
from traces.schema import KINDS, RUN_FINISHED, RUN_STARTED, SCHEMA_VERSION

STATUS_UNFINISHED = "unfinished"
ENVELOPE = ("schema", "kind")

Event = dict[str, Any]
Upgrade = Callable[[Event], Event]

# schema version -> function turning one event of that version into the next version's form.
# Empty while only version 1 exists; a version absent here and below SCHEMA_VERSION is refused.
UPGRADES: dict[int, Upgrade] = {}


class TraceError(ScenarioError):
    """A file is not a trace this lab can read (the message names the file and the fix)."""


@dataclass(frozen=True)
class Trace:
    """One run read back: its events in file order and the facts a reader asks first."""

    path: Path
    events: tuple[Event, ...]
    schema: int  # the version the file was written in (events are in the current form)
    cut: bool = False
    unknown_kinds: tuple[str, ...] = field(default=())

    @property
    def run_started(self) -> Event | None:
        """The `run_started` event, or None (a gateway's own recording has none)."""
        return self.first(RUN_STARTED)

    @property
    def run_finished(self) -> Event | None:
        """The `run_finished` event, or None when the run did not finish."""
        return self.first(RUN_FINISHED)

    @property
    def finished(self) -> bool:
        """Whether the trace ends with the run's `run_finished`."""
        return self.run_finished is not None

    @property
    def status(self) -> str:
        """`ok`, `degraded`, `failed`, `interrupted` as the run recorded it, or `unfinished`.

        `degraded`: the run finished but fell short (`run_finished.reasons` says how; see
        `traces.health`). Traces written before it existed say `ok` for such runs.
        """
        finished = self.run_finished
        if finished is None:
            return STATUS_UNFINISHED
        return str(finished.get("status") or STATUS_UNFINISHED)

    @property
    def run_id(self) -> str | None:
        """The run id the events carry."""
        return self.events[0].get("run_id") if self.events else None

    def first(self, kind: str) -> Event | None:
        """The first event of a kind, or None."""
        return next((e for e in self.events if e.get("kind") == kind), None)

    def of_kind(self, kind: str) -> list[Event]:
        """All events of a kind, in order."""
        return [e for e in self.events if e.get("kind") == kind]


def read_trace(path: Path | str) -> Trace:
    """Read one trace file (TraceError with a one-line reason when it cannot be read)."""
    path = Path(path)
    text = read_text(path, "trace", TraceError)
    lines = text.split("\n")
    ends_with_newline = text.endswith("\n")
    events: list[Event] = []
    cut = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        is_last = number == len(lines) and not ends_with_newline
        event = _parse(path, number, line, tolerate_cut=is_last)
        if event is None:
            cut = True
            continue
        events.append(event)
    if not events:
        raise TraceError(f"{path}: no events (an empty or cut trace)")
    schema = _schema_of(path, events)
    events = [_upgrade(e, schema) for e in events]
    unknown = tuple(sorted({str(e["kind"]) for e in events} - set(KINDS)))
    return Trace(path, tuple(events), schema, cut, unknown)


def _parse(path: Path, number: int, line: str, *, tolerate_cut: bool) -> Event | None:
    """One line as an event; None for a tolerated cut last line."""
    try:
        event = json.loads(line)
    except ValueError:
        if tolerate_cut:
            return None
        raise TraceError(f"{path}:{number}: not a JSON object (the trace is damaged)") from None
    if not isinstance(event, dict) or any(key not in event for key in ENVELOPE):
        raise TraceError(f"{path}:{number}: not a trace event (no 'schema' and 'kind')")
    return event


def _schema_of(path: Path, events: list[Event]) -> int:
    """The one schema version of a trace, checked readable."""
    for event in events:
        version = event["schema"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise TraceError(f"{path}: schema {version!r} is not a version number")
    versions = {e["schema"] for e in events}
    if len(versions) > 1:
        raise TraceError(f"{path}: mixes schema versions {sorted(versions)}")
    (version,) = versions
    if version > SCHEMA_VERSION:
        raise TraceError(
            f"{path}: trace schema {version} is newer than this lab reads "
            f"(up to {SCHEMA_VERSION}): upgrade scenario-lab to read it"
        )
    if version < SCHEMA_VERSION and not _upgradable(version):
        raise TraceError(
            f"{path}: trace schema {version} is older than this lab reads "
            f"({SCHEMA_VERSION}) and cannot be converted: re-record the run"
        )
    return version


def _upgradable(version: int) -> bool:
    return all(v in UPGRADES for v in range(version, SCHEMA_VERSION))


def _upgrade(event: Event, version: int) -> Event:
    for step in range(version, SCHEMA_VERSION):
        event = {**UPGRADES[step](event), "schema": step + 1}
    return event


def trace_files(paths: Iterable[Path | str]) -> list[Path]:
    """Trace files named by paths: each file as given, each folder's `*.jsonl` sorted."""
    found: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            found.extend(sorted(item.glob("*.jsonl")))
        elif item.exists():
            found.append(item)
        else:
            raise TraceError(f"{item}: no such trace file or folder")
    return found


def read_traces(paths: Iterable[Path | str]) -> list[Trace]:
    """Every trace named by paths (files or folders); TraceError when there are none."""
    paths = list(paths)
    files = trace_files(paths)
    if not files:
        where = ", ".join(map(str, paths)) or "(nothing given)"
        raise TraceError(f"{where}: no traces (*.jsonl) found")
    return [read_trace(path) for path in files]


def event_time(event: Event) -> datetime | None:
    """An event's `ts` as an aware datetime, or None when it has none or it is unreadable."""
    ts = event.get("ts")
    if not isinstance(ts, str):
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
