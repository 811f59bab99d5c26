"""What every finished research_team trace promises, on any framework."""

from __future__ import annotations

from typing import Any

from traces.schema import totals_of


def check_research_team_trace(events: list[dict[str, Any]]) -> None:
    """The common promises of a finished research_team trace."""
    assert events[0]["kind"] == "run_started" and events[-1]["kind"] == "run_finished"
    assert events[-1]["status"] == "ok" and events[-1]["final_output"].strip()
    turns = [e["agent"] for e in events if e["kind"] == "agent_message"]
    assert turns == ["planner", "writer", "editor"]
    calls = [e for e in events if e["kind"] == "llm_call"]
    assert [c["agent"] for c in calls] == ["planner", "writer", "editor"]
    for call in calls:
        assert call["request"]["options"]["num_ctx"] == 2048
        assert call["metrics"]["eval_count"] > 0 and call["metrics"]["total_duration"] > 0
    totals = {k: v for k, v in events[-1]["totals"].items() if k != "wall_time_s"}
    assert totals == totals_of(events)
