"""An experiment's summary from result rows with known outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from experiments.summary import run_passed, run_score, summarize


def _row(framework: str, repeat: int, score: float, wall: float, **extra: Any) -> dict[str, Any]:
    check = {"name": "c", "target": "final", "passed": score >= 0.5, "score": score, "detail": ""}
    return {
        "scenario": "s",
        "framework": framework,
        "model_set": "m",
        "input": 1,
        "repeat": repeat,
        "status": "ok",
        "checks": [check],
        "wall_time_s": wall,
        "model_time_s": wall / 2,
        "overhead_s": wall / 2,
        "llm_calls": 3,
        "output_tokens": 100,
        **extra,
    }


ROWS = [
    *(_row("a", r, 0.9, 10.0 + r) for r in range(1, 6)),
    *(_row("b", r, 0.4, 10.0 + r + 0.01 * (-1) ** r) for r in range(1, 6)),
]


def test_a_cell_counts_passes_and_scores_over_its_repeats() -> None:
    """Framework a passes 5 of 5 with mean 0.9; b passes 0 of 5 with mean 0.4."""
    cells = {c.framework: c for c in summarize(ROWS).cells}
    assert cells["a"].n == 5 and cells["a"].pass_rate.mean == 1.0
    assert cells["a"].score.mean == pytest.approx(0.9) and cells["b"].pass_rate.mean == 0.0
    assert cells["a"].measures["wall_time_s"].median == pytest.approx(13.0)
    assert cells["a"].statuses == {"ok": 5}


def test_a_clear_score_gap_is_distinguishable_and_equal_speed_is_not() -> None:
    """A beats b on score on every pair; their wall times swing both ways around zero."""
    (comparison,) = [c for c in summarize(ROWS).comparisons if c.factor == "framework"]
    assert comparison.score.mean == pytest.approx(0.5) and comparison.score.distinguishable
    assert comparison.score.pairs == 5
    assert not comparison.wall_time_s.distinguishable


def test_the_ranking_puts_the_clear_winner_first_and_ties_noise() -> None:
    """A ranks 1 and b 2; with identical scores both share rank 1."""
    (ranking,) = [r for r in summarize(ROWS).rankings if r.factor == "framework"]
    assert ranking.ranks == [(1, "a"), (2, "b")]
    same = [_row("a", r, 0.5 + 0.1 * (-1) ** r, 1) for r in range(1, 5)]
    same += [_row("b", r, 0.5 - 0.1 * (-1) ** r, 1) for r in range(1, 5)]
    (tied,) = [r for r in summarize(same).rankings if r.factor == "framework"]
    assert tied.ranks == [(1, "a"), (1, "b")]


def test_failed_and_timed_out_runs_score_zero_and_do_not_pass() -> None:
    """A run that did not finish scores 0 and fails, whatever its checks said."""
    for status in ("failed", "timeout"):
        row = _row("a", 1, 1.0, 1.0, status=status)
        assert run_score(row) == 0.0 and not run_passed(row)
    assert (
        run_passed(_row("a", 1, 0.9, 1.0, checks=[]))
        and run_score(_row("a", 1, 0, 1, checks=[])) == 1.0
    )


def test_one_level_is_no_ranking_and_the_summary_is_plain_data() -> None:
    """A single framework gives no ranking; the summary turns into JSON-able data."""
    import json

    summary = summarize([r for r in ROWS if r["framework"] == "a"])
    assert [r for r in summary.rankings if r.factor == "framework"] == []
    assert json.loads(json.dumps(summary.as_dict()))["runs"] == 5
