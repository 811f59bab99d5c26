"""Cells run in worker processes; results come back to the one process that writes them.

Each worker is a process of its own (the `spawn` start method: no state shared with the
parent), loads the experiment once, keeps its gateways for all its cells, and runs one
cell at a time. The parent hands out cells, gathers each result as it comes, and owns the
timeouts: a cell that outlasts its limit gets its worker killed (its trace, cut, stays on
disk), is reported as a timeout, and a fresh worker takes its place. Ctrl-C stops every
worker; what finished is kept.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

from experiments.plan import load_experiment
from gateway.pool import GatewayPool

Result = dict[str, Any]
POLL_S = 0.2  # how often the parent looks at its workers
GRACE_S = 5.0  # added to a cell's timeout before its worker is killed


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs, all picklable: where the experiment is and how to run a cell."""

    experiment: Path
    out_dir: Path
    execute: str  # "module:function", called as function(experiment, cell, out_dir, context)
    threads: int  # llama.cpp threads for the embedded engine in this worker


def threads_per_worker(workers: int) -> int:
    """llama.cpp threads each worker may use so that workers x threads <= cores."""
    return max(1, (os.cpu_count() or 1) // workers)


def worker_main(setup: WorkerSetup, inbox: Any, outbox: Any) -> None:
    """A worker's loop: take a cell id, run it, send its result; stop on None.

    Ctrl-C is the parent's to handle (it stops the workers): a worker ignores SIGINT.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["LAB_LLAMA_THREADS"] = str(setup.threads)
    experiment = load_experiment(setup.experiment)
    cells = {cell.id: cell for cell in experiment.cells()}
    module, _, name = setup.execute.partition(":")
    execute: Callable[..., Result] = getattr(import_module(module), name)
    with GatewayPool() as pool:
        while (cell_id := inbox.get()) is not None:
            try:
                result = execute(experiment, cells[cell_id], setup.out_dir, pool)
            except BaseException as exc:  # a result, not a crashed worker
                result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            outbox.put((cell_id, result))


@dataclass
class _Worker:
    process: Any
    inbox: Any
    cell: str | None = None
    started: float = 0.0


@dataclass
class Pool:
    """The parent's side: workers, the cells left, and the results as they arrive."""

    setup: WorkerSetup
    workers: int
    timeout_s: float
    _context: Any = field(default_factory=lambda: mp.get_context("spawn"))
    _outbox: Any = None
    _running: list[_Worker] = field(default_factory=list)

    def run(self, cell_ids: list[str]) -> Iterator[tuple[str, Result]]:
        """Run the cells; yield (cell id, result) as each finishes (a timeout too)."""
        self._outbox = self._context.Queue()
        pending = list(cell_ids)
        self._running = [self._start() for _ in range(min(self.workers, len(pending)))]
        try:
            yield from self._loop(pending)
        finally:
            self._stop_all()

    def _loop(self, pending: list[str]) -> Iterator[tuple[str, Result]]:
        busy = 0
        for worker in self._running:
            busy += self._assign(worker, pending)
        while busy:
            try:
                cell_id, result = self._outbox.get(timeout=POLL_S)
            except queue.Empty:
                for worker in self._timed_out():
                    yield worker.cell or "", _timeout_result(self.timeout_s)
                    busy -= 1
                    busy += self._replace(worker, pending)
                continue
            worker = next(w for w in self._running if w.cell == cell_id)
            worker.cell = None
            yield cell_id, result
            busy -= 1
            busy += self._assign(worker, pending)

    def _start(self) -> _Worker:
        inbox = self._context.Queue()
        process = self._context.Process(
            target=worker_main, args=(self.setup, inbox, self._outbox), daemon=True
        )
        process.start()
        return _Worker(process, inbox)

    def _assign(self, worker: _Worker, pending: list[str]) -> int:
        """Give the worker the next cell (1), or nothing is left (0)."""
        if not pending:
            return 0
        worker.cell, worker.started = pending.pop(0), time.monotonic()
        worker.inbox.put(worker.cell)
        return 1

    def _timed_out(self) -> list[_Worker]:
        limit = self.timeout_s + GRACE_S
        now = time.monotonic()
        return [w for w in self._running if w.cell is not None and now - w.started > limit]

    def _replace(self, worker: _Worker, pending: list[str]) -> int:
        """Kill a timed-out worker and start another in its place with the next cell."""
        worker.process.kill()
        worker.process.join(timeout=10)
        self._running.remove(worker)
        if not pending:
            return 0
        fresh = self._start()
        self._running.append(fresh)
        return self._assign(fresh, pending)

    def _stop_all(self) -> None:
        """Tell idle workers to stop; kill the ones still running a cell (Ctrl-C, an error)."""
        for worker in self._running:
            if worker.cell is None:
                worker.inbox.put(None)
            else:
                worker.process.kill()
        for worker in self._running:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.kill()
        self._running.clear()


def _timeout_result(timeout_s: float) -> Result:
    return {"status": "timeout", "error": f"the run took longer than its timeout ({timeout_s:g} s)"}
