"""Run an experiment: every cell not yet done, in workers, with a progress bar, then summarise.

Each experiment run writes its own folder, `runs/experiments/<name>-<UTC time>/`: the
experiment file as it was, a trace per run under `traces/`, `results.jsonl`, and the
summary. `--resume` continues the latest folder of the same experiment, skipping the cells
that have a row. Ctrl-C stops the workers; what finished is kept and summarised.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from experiments.plan import Cell, Experiment
from experiments.results import ResultsFile, done_cells, read_rows, rows_of, write_summary
from experiments.summary import Summary, run_passed, summarize
from experiments.workers import Pool, WorkerSetup, threads_per_worker
from scenarios.errors import ScenarioError

EXECUTOR = "experiments.cell:run_cell"  # what a worker calls for each cell
FOLDER = "experiments"
COPY = "experiment.yaml"


@dataclass(frozen=True)
class Outcome:
    """What an experiment run ended with."""

    folder: Path
    rows: list[dict[str, Any]]
    summary: Summary
    interrupted: bool
    skipped: int  # cells done before (--resume)


def experiment_folder(experiment: Experiment, runs_dir: Path, resume: bool) -> Path:
    """A new folder for this run, or with `resume` the latest one of the same experiment."""
    root = runs_dir / FOLDER
    if resume:
        earlier = sorted(root.glob(f"{experiment.spec.name}-*/{COPY}"))
        if not earlier:
            raise ScenarioError(
                f"--resume: no earlier run of experiment {experiment.spec.name!r} under {root}: "
                "run it without --resume first"
            )
        return earlier[-1].parent
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return root / f"{experiment.spec.name}-{stamp}"


def run_experiment(
    experiment: Experiment,
    runs_dir: Path,
    *,
    workers: int = 1,
    resume: bool = False,
    console: Console | None = None,
    executor: str = EXECUTOR,
) -> Outcome:
    """Run the cells not done yet; write results and summary; return what happened."""
    console = console or Console(stderr=True)
    folder = experiment_folder(experiment, runs_dir, resume)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(experiment.path, folder / COPY)
    cells = experiment.cells()
    done = done_cells(folder) if resume else set()
    todo = [c for c in cells if c.id not in done]
    setup = WorkerSetup(experiment.path, folder, executor, threads_per_worker(workers))
    pool = Pool(setup, max(1, workers), experiment.spec.timeout)
    interrupted = _run_cells(pool, todo, len(cells), len(done), folder, console)
    rows = rows_of(read_rows(folder), [c.id for c in cells])
    summary = summarize(rows)
    write_summary(folder, summary)
    return Outcome(folder, rows, summary, interrupted, len(done))


def _run_cells(
    pool: Pool, todo: list[Cell], total: int, done: int, folder: Path, console: Console
) -> bool:
    """Run `todo`, a row each as it finishes; whether Ctrl-C stopped it."""
    by_id = {c.id: c for c in todo}
    results = ResultsFile(folder)
    failures = 0
    with _progress(console) as progress:
        task = progress.add_task("", total=total, completed=done, failures=0, cell="starting")
        try:
            for cell_id, result in pool.run(list(by_id)):
                row = {**cell_row(by_id[cell_id]), **result}
                results.append(row)
                failures += not run_passed(row)
                progress.update(task, advance=1, failures=failures, cell=cell_id)
        except KeyboardInterrupt:
            return True
        finally:
            results.close()
    return False


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]experiment"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failures]} not passed"),
        TimeRemainingColumn(),
        TextColumn("[dim]{task.fields[cell]}"),
        console=console,
        transient=False,
    )


def cell_row(cell: Cell) -> dict[str, Any]:
    """What a result row says about its cell."""
    return {
        "cell": cell.id,
        "scenario": cell.scenario,
        "framework": cell.framework,
        "model_set": cell.model_set.name,
        "models": cell.model_set.tags,
        "input": cell.row.index,
        "inputs": cell.row.values,
        "expected": cell.row.expected,
        "repeat": cell.repeat,
        "seed": cell.seed,
    }
