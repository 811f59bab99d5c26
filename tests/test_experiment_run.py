"""Running an experiment: a folder per run, rows for every cell, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from experiments.plan import load_experiment
from experiments.results import read_rows
from experiments.run import run_experiment

EXPERIMENT = """\
name: w
scenarios: [research_team]
frameworks: [langgraph, autogen]
inputs: [{topic: a}, {topic: b}]
repeats: 2
"""
ROOT = Path(__file__).resolve().parents[1]


def _experiment(tmp_path: Path) -> Path:
    path = tmp_path / "e.yaml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def _quiet() -> Console:
    return Console(file=open(os.devnull, "w"), force_terminal=False)


def test_every_cell_gets_a_row_and_the_summary_is_written(tmp_path: Path) -> None:
    """8 cells: 8 rows naming their cell, frameworks and seeds; summary.json and csv."""
    experiment = load_experiment(_experiment(tmp_path))
    outcome = run_experiment(
        experiment,
        tmp_path / "runs",
        workers=2,
        console=_quiet(),
        executor="tests.experiment_fakes:record",
    )
    assert outcome.folder.parent == tmp_path / "runs" / "experiments"
    assert sorted(r["cell"] for r in outcome.rows) == sorted(c.id for c in experiment.cells())
    assert {r["framework"] for r in outcome.rows} == {"langgraph", "autogen"}
    assert (outcome.folder / "experiment.yaml").read_text() == EXPERIMENT
    assert json.loads((outcome.folder / "summary.json").read_text())["runs"] == 8
    assert outcome.summary.runs == 8 and not outcome.interrupted


def test_resume_runs_only_the_cells_without_a_row(tmp_path: Path) -> None:
    """Rows for 3 cells already there: --resume runs the other 5, and each cell has one row."""
    experiment = load_experiment(_experiment(tmp_path))
    first = run_experiment(
        experiment, tmp_path / "runs", console=_quiet(), executor="tests.experiment_fakes:record"
    )
    kept = (first.folder / "results.jsonl").read_text().splitlines()[:3]
    (first.folder / "results.jsonl").write_text("\n".join(kept) + "\n")
    for done in (first.folder).glob("*.done"):
        done.unlink()
    again = run_experiment(
        experiment,
        tmp_path / "runs",
        resume=True,
        console=_quiet(),
        executor="tests.experiment_fakes:record",
    )
    assert again.folder == first.folder and again.skipped == 3
    assert len(list(first.folder.glob("*.done"))) == 5
    assert sorted(r["cell"] for r in read_rows(first.folder)) == sorted(
        c.id for c in experiment.cells()
    )


def test_resume_without_an_earlier_run_is_bad_input(tmp_path: Path) -> None:
    """--resume with nothing to resume: a one-line error naming the experiment."""
    from scenarios.errors import ScenarioError

    with pytest.raises(ScenarioError, match="no earlier run of experiment 'w'"):
        run_experiment(load_experiment(_experiment(tmp_path)), tmp_path / "runs", resume=True)


def test_a_kill_mid_experiment_loses_no_finished_cell(tmp_path: Path) -> None:
    """Kill -9 of the whole experiment mid-way: every row written survives, resume finishes."""
    path = _experiment(tmp_path)
    runs = tmp_path / "runs"
    code = (
        "import os; from pathlib import Path; from experiments.plan import load_experiment; "
        "from experiments.run import run_experiment; from rich.console import Console; "
        f"run_experiment(load_experiment({str(path)!r}), Path({str(runs)!r}), "
        "console=Console(file=open(os.devnull, 'w')), executor='tests.experiment_fakes:slow')"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, start_new_session=True)
    folder = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = list((runs / "experiments").glob("w-*/results.jsonl")) if runs.exists() else []
        if found and len(found[0].read_text().splitlines()) >= 2:
            folder = found[0].parent
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert folder is not None, "the experiment wrote no rows in time"
    before = {r["cell"] for r in read_rows(folder)}
    assert 2 <= len(before) < 8
    outcome = run_experiment(
        load_experiment(path),
        runs,
        resume=True,
        console=_quiet(),
        executor="tests.experiment_fakes:record",
    )
    rows = read_rows(folder)
    assert len(rows) == 8 and len({r["cell"] for r in rows}) == 8
    assert before <= {r["cell"] for r in rows} and outcome.skipped == len(before)
