"""One gateway per model server for many runs (an experiment worker), not one per run.

A single run starts its gateways and stops them at its end (about 0.2 s of uvicorn start
and stop each). An experiment worker runs many cells: its pool chooses each server's
backend once and keeps that gateway running for every later run, which the gateway can
serve because each run's calls carry their run id in the URL.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from gateway.backend import Backend, select_backend
from gateway.server import Gateway


class GatewayPool:
    """Backends chosen once per (backend choice, host, models), gateways started once each."""

    def __init__(self) -> None:
        self._backends: dict[tuple[str, str, tuple[tuple[str, str], ...]], Backend] = {}
        self._gateways: dict[int, Gateway] = {}
        self._stack = ExitStack()

    def select(self, choice: str, host: str, wanted: list[tuple[str, str]]) -> Backend:
        """The backend for these models on this server (chosen on first use)."""
        key = (choice, host, tuple(sorted(wanted)))
        if key not in self._backends:
            self._backends[key] = select_backend(choice, host, wanted)
        return self._backends[key]

    def gateway(self, backend: Backend) -> Gateway:
        """The running gateway in front of the backend's upstream (started on first use)."""
        key = id(backend.upstream)
        if key not in self._gateways:
            self._gateways[key] = self._stack.enter_context(Gateway(backend.upstream))
        return self._gateways[key]

    def close(self) -> None:
        """Stop every gateway the pool started."""
        self._stack.close()
        self._gateways.clear()

    def __enter__(self) -> GatewayPool:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
