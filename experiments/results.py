"""An experiment's folder: `results.jsonl` (a row a run), `summary.json`, `summary.csv`.

Rows are appended and flushed one by one by the parent process only, so a killed
experiment loses at most the runs in flight, and `--resume` knows which cells are done:
those with a row. A cut last line (a kill mid-write) is dropped, as the trace reader does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from experiments.summary import Summary

RESULTS = "results.jsonl"
SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"
CSV_FIELDS = (
    "scenario",
    "framework",
    "model_set",
    "input",
    "n",
    "pass_rate",
    "pass_low",
    "pass_high",
    "score",
    "score_low",
    "score_high",
    "wall_time_s_median",
    "model_time_s_median",
    "overhead_s_median",
    "llm_calls_median",
    "output_tokens_median",
    "statuses",
)


def read_rows(folder: Path) -> list[dict[str, Any]]:
    """The rows written so far (a cut last line dropped)."""
    path = folder / RESULTS
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill mid-write: that run is run again
        if isinstance(row, dict) and "cell" in row:
            rows.append(row)
    return rows


def done_cells(folder: Path) -> set[str]:
    """The cells that have a row: what `--resume` skips."""
    return {str(row["cell"]) for row in read_rows(folder)}


class ResultsFile:
    """Appends rows to results.jsonl, one flushed line each."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._file = (folder / RESULTS).open("a", encoding="utf-8")

    def append(self, row: dict[str, Any]) -> None:
        """Write one row and flush it to disk."""
        self._file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def write_summary(folder: Path, summary: Summary) -> None:
    """summary.json (everything) and summary.csv (a line per cell)."""
    (folder / SUMMARY_JSON).write_text(
        json.dumps(summary.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / SUMMARY_CSV).write_text(summary_csv(summary), encoding="utf-8")


def summary_csv(summary: Summary) -> str:
    """A CSV line per cell: its estimates with their intervals and its medians."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for cell in summary.cells:
        writer.writerow(_csv_row(cell))
    return out.getvalue()


def _csv_row(cell: Any) -> dict[str, Any]:
    row = {k: getattr(cell, k) for k in ("scenario", "framework", "model_set", "input", "n")}
    for name, estimate in (("pass", cell.pass_rate), ("score", cell.score)):
        key = "pass_rate" if name == "pass" else "score"
        row[key] = _num(estimate.mean)
        row[f"{name}_low"] = _num(estimate.ci.low if estimate.ci else None)
        row[f"{name}_high"] = _num(estimate.ci.high if estimate.ci else None)
    for measure, spread in cell.measures.items():
        row[f"{measure}_median"] = _num(spread.median)
    row["statuses"] = json.dumps(cell.statuses, sort_keys=True)
    return row


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def rows_of(rows: Iterable[dict[str, Any]], cells: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of the given cells (the latest row of a cell that was run twice)."""
    wanted = set(cells)
    latest = {str(r["cell"]): r for r in rows if str(r["cell"]) in wanted}
    return list(latest.values())
