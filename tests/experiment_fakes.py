"""Cell executors for worker tests: no model, no gateway, just what a worker must do."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def record(experiment: Any, cell: Any, out_dir: Path, pool: Any) -> dict[str, Any]:
    """Write a file named after the cell (proof it ran, and where) and report the process."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{cell.id}.done").write_text(str(os.getpid()), encoding="utf-8")
    return {"status": "ok", "pid": os.getpid(), "seed": cell.seed, "pool": type(pool).__name__}


def hang_on_second_input(experiment: Any, cell: Any, out_dir: Path, pool: Any) -> dict[str, Any]:
    """Hang on every cell of input row 2 (a run that never ends); record the others."""
    if cell.row.index == 2:
        time.sleep(3600)
    return record(experiment, cell, out_dir, pool)


def fail(experiment: Any, cell: Any, out_dir: Path, pool: Any) -> dict[str, Any]:
    """Raise, as a run that crashes would."""
    raise RuntimeError(f"cell {cell.id} broke")


def slow(experiment: Any, cell: Any, out_dir: Path, pool: Any) -> dict[str, Any]:
    """Record the cell after half a second (time for a kill to land mid-experiment)."""
    time.sleep(0.5)
    return record(experiment, cell, out_dir, pool)
