"""What every finished trace promises on the real model, on any framework and any CPU.

The 135M model decides how long its answers are and which tools it calls, so these checks
never pin its words or counts: they pin that the status tells the truth about them.
"""

from __future__ import annotations

from typing import Any

from traces.health import reasons_of
from traces.schema import totals_of


def check_honest_status(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The run finished ok or degraded, and its reasons are exactly what its events show."""
    assert events[0]["kind"] == "run_started" and events[-1]["kind"] == "run_finished"
    finished = events[-1]
    assert finished["status"] in ("ok", "degraded"), finished.get("error")
    assert finished["reasons"] == reasons_of(events)
    assert (finished["status"] == "degraded") == bool(finished["reasons"])
    calls = [e for e in events if e["kind"] == "llm_call"]
    cut = sum(c["done_reason"] == "length" for c in calls)
    assert finished["reasons"].get("answer_truncated", 0) == cut
    failed = sum(bool(e["error"]) for e in events if e["kind"] == "tool_call")
    assert finished["reasons"].get("tool_failed", 0) == failed
    if not finished["final_output"].strip():
        assert finished["reasons"].get("empty_output", 0) >= 1
    return finished


def check_research_team_trace(events: list[dict[str, Any]]) -> None:
    """The common promises of a finished research_team trace."""
    finished = check_honest_status(events)
    turns = [e["agent"] for e in events if e["kind"] == "agent_message"]
    assert turns == ["planner", "writer", "editor"]
    calls = [e for e in events if e["kind"] == "llm_call"]
    assert [c["agent"] for c in calls] == ["planner", "writer", "editor"]
    for call in calls:
        assert call["request"]["options"]["num_ctx"] == 2048
        assert call["metrics"]["eval_count"] > 0 and call["metrics"]["total_duration"] > 0
    totals = {k: v for k, v in finished["totals"].items() if k != "wall_time_s"}
    assert totals == totals_of(events)
