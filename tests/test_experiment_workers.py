"""Experiment workers: separate processes, every cell once, timeouts, crashes as results."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.workers import Pool, WorkerSetup, threads_per_worker

EXPERIMENT = """\
name: w
scenarios: [research_team]
frameworks: [langgraph]
inputs: [{topic: a}, {topic: b}]
repeats: 2
timeout: 1
"""


def _pool(tmp_path: Path, execute: str, workers: int = 2) -> tuple[Pool, list[str]]:
    from experiments.plan import load_experiment

    path = tmp_path / "e.yaml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    cells = [c.id for c in load_experiment(path).cells()]
    setup = WorkerSetup(path, tmp_path / "out", f"tests.experiment_fakes:{execute}", 1)
    return Pool(setup, workers, timeout_s=1.0), cells


def test_every_cell_runs_once_in_worker_processes(tmp_path: Path) -> None:
    """4 cells, 2 workers: each cell's result once, from processes other than this one."""
    import os

    pool, cells = _pool(tmp_path, "record")
    results = dict(pool.run(cells))
    assert sorted(results) == sorted(cells)
    assert all(r["status"] == "ok" and r["pid"] != os.getpid() for r in results.values())
    assert {r["pool"] for r in results.values()} == {"GatewayPool"}
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.done")) == sorted(cells)


def test_a_run_past_its_timeout_is_stopped_and_the_rest_go_on(tmp_path: Path) -> None:
    """The hanging cells become timeouts; the worker is replaced; the others finish."""
    pool, cells = _pool(tmp_path, "hang_on_second_input")
    results = dict(pool.run(cells))
    assert sorted(results) == sorted(cells)
    hung = {c for c in cells if ".in2." in c}
    assert {c for c, r in results.items() if r["status"] == "timeout"} == hung
    assert all(results[c]["status"] == "ok" for c in set(cells) - hung)


def test_a_crash_is_a_result_not_a_dead_worker(tmp_path: Path) -> None:
    """An exception in a run is its result (failed, with the error); every cell reports."""
    pool, cells = _pool(tmp_path, "fail", workers=1)
    results = dict(pool.run(cells))
    assert sorted(results) == sorted(cells)
    assert all(r["status"] == "failed" and "broke" in r["error"] for r in results.values())


@pytest.mark.parametrize(("workers", "cores"), [(1, 2), (2, 2), (4, 2), (3, 16)])
def test_threads_per_worker_never_oversubscribe(
    workers: int, cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers x threads stays within the cores, and each worker has at least one."""
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    threads = threads_per_worker(workers)
    assert threads >= 1 and (workers * threads <= cores or threads == 1)
