"""An experiment's results summarised: per cell, and compared across frameworks and model sets.

Input: the result rows (`results.jsonl`, one per run). A *cell* here is one scenario ×
framework × model set × input row, over its repeats. Its pass rate and mean score carry
95 % intervals; its times, calls and tokens their median and quartiles. Two frameworks (or
two model sets) are compared on the runs they share the same scenario, input, repeat and
other factor for, by the paired difference of their scores and of their wall times; a
difference is called out only when its interval excludes zero.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from experiments.stats import (
    Difference,
    Estimate,
    Spread,
    mean_score,
    paired_difference,
    pass_rate,
    rank_with_ties,
    spread,
)

Row = dict[str, Any]
CELL_KEYS = ("scenario", "framework", "model_set", "input")
FACTORS = ("framework", "model_set")  # what an experiment compares
MEASURES = ("wall_time_s", "model_time_s", "overhead_s", "llm_calls", "output_tokens")


def run_score(row: Row) -> float:
    """A run's score: the mean of its checks' scores; without checks 1 if it ran ok, else 0."""
    checks = row.get("checks") or []
    if row.get("status") in ("failed", "timeout"):
        return 0.0
    if checks:
        return sum(float(c["score"]) for c in checks) / len(checks)
    return 1.0 if row.get("status") == "ok" else 0.0


def run_passed(row: Row) -> bool:
    """Whether a run passed: it finished and every check passed (no checks: it ran ok)."""
    checks = row.get("checks") or []
    if row.get("status") in ("failed", "timeout"):
        return False
    return all(c["passed"] for c in checks) if checks else row.get("status") == "ok"


@dataclass(frozen=True)
class CellSummary:
    """One cell over its repeats."""

    scenario: str
    framework: str
    model_set: str
    input: int
    n: int
    statuses: dict[str, int]
    pass_rate: Estimate
    score: Estimate
    measures: dict[str, Spread]


@dataclass(frozen=True)
class Comparison:
    """Two levels of a factor compared on matched runs, for one scenario."""

    factor: str
    scenario: str
    score: Difference
    wall_time_s: Difference


@dataclass(frozen=True)
class Ranking:
    """The levels of a factor ranked by mean score (ties where they cannot be told apart)."""

    factor: str
    scenario: str
    ranks: list[tuple[int, str]]
    means: dict[str, float]


@dataclass(frozen=True)
class Summary:
    """Everything the experiment's summary says."""

    runs: int
    cells: list[CellSummary]
    comparisons: list[Comparison]
    rankings: list[Ranking]

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain data (summary.json)."""
        return asdict(self)


def summarize(rows: Sequence[Row]) -> Summary:
    """The summary of an experiment's result rows."""
    return Summary(len(rows), cell_summaries(rows), comparisons(rows), rankings(rows))


def cell_summaries(rows: Iterable[Row]) -> list[CellSummary]:
    """One summary per cell, in a stable order."""
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in CELL_KEYS)].append(row)
    return [_cell(key, group) for key, group in sorted(groups.items(), key=lambda kv: str(kv[0]))]


def _cell(key: tuple[Any, ...], rows: list[Row]) -> CellSummary:
    statuses: dict[str, int] = defaultdict(int)
    for row in rows:
        statuses[str(row.get("status"))] += 1
    measures = {m: spread([float(r[m]) for r in rows if r.get(m) is not None]) for m in MEASURES}
    return CellSummary(
        *key,
        n=len(rows),
        statuses=dict(statuses),
        pass_rate=pass_rate([run_passed(r) for r in rows]),
        score=mean_score([run_score(r) for r in rows]),
        measures=measures,
    )


def _matched(rows: Iterable[Row], factor: str) -> dict[tuple[Any, ...], dict[str, Row]]:
    """Runs grouped by everything but `factor`: match key -> {level: row}."""
    other = [k for k in ("scenario", *FACTORS, "input", "repeat") if k != factor]
    matched: dict[tuple[Any, ...], dict[str, Row]] = defaultdict(dict)
    for row in rows:
        matched[tuple(row[k] for k in other)][str(row[factor])] = row
    return matched


def _pairs(
    matched: dict[tuple[Any, ...], dict[str, Row]], a: str, b: str, scenario: str, measure: Any
) -> list[tuple[float, float]]:
    return [
        (measure(levels[a]), measure(levels[b]))
        for key, levels in matched.items()
        if key[0] == scenario and a in levels and b in levels
    ]


def _levels(rows: Sequence[Row], factor: str) -> list[str]:
    return sorted({str(r[factor]) for r in rows})


def comparisons(rows: Sequence[Row]) -> list[Comparison]:
    """Every pair of levels of each factor that has more than one, per scenario."""
    found = []
    for factor in FACTORS:
        matched = _matched(rows, factor)
        for scenario in sorted({r["scenario"] for r in rows}):
            for a, b in itertools.combinations(_levels(rows, factor), 2):
                score = paired_difference(a, b, _pairs(matched, a, b, scenario, run_score))
                wall = paired_difference(a, b, _pairs(matched, a, b, scenario, _wall))
                found.append(Comparison(factor, scenario, score, wall))
    return found


def rankings(rows: Sequence[Row]) -> list[Ranking]:
    """Per factor with several levels and per scenario: levels by mean score, ties kept."""
    found = []
    for factor in FACTORS:
        levels = _levels(rows, factor)
        if len(levels) < 2:
            continue
        matched = _matched(rows, factor)
        for scenario in sorted({r["scenario"] for r in rows}):
            scores = {
                level: [
                    run_score(r) for r in rows if r[factor] == level and r["scenario"] == scenario
                ]
                for level in levels
            }
            means = {level: sum(s) / len(s) for level, s in scores.items() if s}

            def differ(a: str, b: str, m: Any = matched, s: str = scenario) -> Difference:
                return paired_difference(a, b, _pairs(m, a, b, s, run_score))

            found.append(Ranking(factor, scenario, rank_with_ties(means, differ), means))
    return found


def _wall(row: Row) -> float:
    return float(row.get("wall_time_s") or 0.0)
