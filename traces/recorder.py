"""The trace recorder: JSON lines through structlog, one flushed line per event.

A recorder is shared by the run's framework code and the in-process gateway, which write
from different threads; a lock keeps `seq` and the lines in one order. Listeners (the live
console) see every event, and also transient signals (`llm_started`) that are not written.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

import structlog

from traces.schema import LLM_CALL, SCHEMA_VERSION, WARNING, add_call, empty_totals

Listener = Callable[[dict[str, Any]], None]


class Watcher(Protocol):
    """Derives warnings from the events written (e.g. `traces.health.RunHealth`)."""

    def after(self, kind: str, fields: dict[str, Any]) -> list[dict[str, Any]]:
        """The `warning` fields an event just written calls for (written right after it)."""
        ...


log = logging.getLogger("traces")


def new_run_id() -> str:
    """A short random run id, unique enough for a folder of traces."""
    return uuid.uuid4().hex[:12]


def utc_now() -> str:
    """The current UTC time, ISO 8601 with microseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def trace_path(runs_dir: Path, scenario: str, framework: str, run_id: str) -> Path:
    """`runs/<UTC time>-<scenario>-<framework>-<run id>.jsonl`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return runs_dir / f"{stamp}-{scenario}-{framework}-{run_id}.jsonl"


class TraceRecorder:
    """Writes one run's events to a JSON-lines file, flushed line by line."""

    def __init__(self, path: Path, run_id: str | None = None) -> None:
        self.path = Path(path)
        self.run_id = run_id or new_run_id()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = self.path.open("a", encoding="utf-8")
        self._logger = structlog.wrap_logger(
            structlog.WriteLogger(self._file),
            processors=[
                self._envelope,
                structlog.processors.JSONRenderer(serializer=json.dumps, ensure_ascii=False),
            ],
            cache_logger_on_first_use=True,
        )
        self._lock = threading.RLock()
        self._seq = 0
        self._listeners: list[Listener] = []
        self._watchers: list[Watcher] = []
        self._totals = empty_totals()
        self.closed = False

    def _envelope(self, _logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        kind = event_dict.pop("event")
        return {
            "schema": SCHEMA_VERSION,
            "ts": utc_now(),
            "run_id": self.run_id,
            "seq": self._seq,
            "kind": kind,
            **event_dict,
        }

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(event)` for every event and signal from now on."""
        self._listeners.append(listener)

    def watch(self, watcher: Watcher) -> None:
        """Let `watcher` derive warnings from every event from now on."""
        self._watchers.append(watcher)

    def emit(self, kind: str, **fields: Any) -> None:
        """Write one event line (flushed at once), pass it to the listeners, then its warnings.

        The warnings the watchers derive from it follow it at once, so the trace and the
        live console show a cut answer or a failed tool right where it happened.
        """
        with self._lock:
            if self.closed:
                return
            self._seq += 1
            if kind == LLM_CALL:
                add_call(self._totals, fields)
            self._logger.msg(kind, **fields)
            self._notify({"kind": kind, "run_id": self.run_id, **fields})
            for watcher in list(self._watchers):
                for warning in watcher.after(kind, fields):
                    self.emit(WARNING, **warning)

    def signal(self, kind: str, **fields: Any) -> None:
        """Tell the listeners something transient (not written), e.g. a model call began."""
        with self._lock:
            self._notify({"kind": kind, "run_id": self.run_id, **fields})

    def _notify(self, event: dict[str, Any]) -> None:
        """Pass an event to each listener in `seq` order; a failing listener never stops a run.

        A listener is a display: its failure is logged and the trace goes on being written.
        """
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception as exc:
                log.warning(
                    "display failed on a %s event (%s: %s)", event["kind"], type(exc).__name__, exc
                )

    def totals(self) -> dict[str, Any]:
        """Sums over the `llm_call` events written so far."""
        with self._lock:
            totals = dict(self._totals)
        totals["model_time_s"] = round(totals["model_time_s"], 6)
        return totals

    def close(self) -> None:
        """Stop writing and close the file (idempotent)."""
        with self._lock:
            if not self.closed:
                self.closed = True
                self._file.close()


_registry: dict[str, TraceRecorder] = {}
_registry_lock = threading.Lock()


def register(recorder: TraceRecorder) -> None:
    """Make a run's recorder findable by run id (the gateway attributes calls this way)."""
    with _registry_lock:
        _registry[recorder.run_id] = recorder


def unregister(run_id: str) -> None:
    """Forget a run's recorder once the run is over."""
    with _registry_lock:
        _registry.pop(run_id, None)


def lookup(run_id: str | None) -> TraceRecorder | None:
    """The recorder of a live run, or None."""
    if not run_id:
        return None
    with _registry_lock:
        return _registry.get(run_id)
