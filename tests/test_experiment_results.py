"""The experiment folder: rows survive a kill, resume knows what is done, summaries are written."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from experiments.results import (
    ResultsFile,
    done_cells,
    read_rows,
    rows_of,
    summary_csv,
    write_summary,
)
from experiments.summary import summarize
from tests.test_experiment_summary import ROWS


def test_rows_are_flushed_as_written_and_a_cut_line_is_dropped(tmp_path: Path) -> None:
    """Two rows written, then a half line (a kill mid-write): two rows read back, two done."""
    results = ResultsFile(tmp_path)
    results.append({"cell": "a", "status": "ok"})
    results.append({"cell": "b", "status": "failed"})
    assert [r["cell"] for r in read_rows(tmp_path)] == ["a", "b"]  # flushed, file still open
    results.close()
    with (tmp_path / "results.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"cell": "c", "sta')
    assert done_cells(tmp_path) == {"a", "b"}


def test_the_latest_row_of_a_cell_counts(tmp_path: Path) -> None:
    """A cell run again (resume after a timeout) is counted once, by its latest row."""
    rows = [{"cell": "a", "status": "timeout"}, {"cell": "b"}, {"cell": "a", "status": "ok"}]
    assert rows_of(rows, ["a"]) == [{"cell": "a", "status": "ok"}]


def test_the_summary_files_hold_every_cell(tmp_path: Path) -> None:
    """summary.json is the summary; summary.csv has a line per cell with its intervals."""
    summary = summarize(ROWS)
    write_summary(tmp_path, summary)
    assert json.loads((tmp_path / "summary.json").read_text())["runs"] == len(ROWS)
    lines = list(csv.DictReader(io.StringIO(summary_csv(summary))))
    assert [line["framework"] for line in lines] == ["a", "b"]
    assert float(lines[0]["score"]) == 0.9 and lines[0]["score_low"] and lines[0]["pass_high"]
    assert (tmp_path / "summary.csv").read_text() == summary_csv(summary)
