"""The parallel topology: independent tasks fan out concurrently and fan in to one task."""

from __future__ import annotations

import threading
from pathlib import Path

from graphs import mermaid
from scenarios.loader import load_text
from tests.fakes import Team, barrier_reply, run_scenario

YAML = """\
name: t
models:
  default: {model: smollm2:135m}
agents:
  - {name: researcher, role: Researcher}
  - {name: checker, role: Fact checker}
  - {name: writer, role: Writer}
tasks:
  - {name: research, description: Find sources., agent: researcher}
  - {name: facts, description: Check facts., agent: checker}
  - name: report
    description: Merge the findings.
    agent: writer
    context: [research, facts]
team:
  topology: parallel
  max_turns: 6
"""


def team(both_at_once: bool = True) -> Team:
    """Branch models that only answer once both are in a call at the same time."""
    barrier = threading.Barrier(2, timeout=10)
    research = barrier_reply(barrier, "SOURCES") if both_at_once else "SOURCES"
    facts = barrier_reply(barrier, "FACTS") if both_at_once else "FACTS"
    return Team(researcher=[research], checker=[facts], writer=["REPORT"])


def test_branches_run_concurrently_then_fan_in(tmp_path: Path) -> None:
    """Both branches are in their model call at once (a 2-party barrier), then the fan-in runs."""
    scripted = team()
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert sorted(scripted.log[:2]) == ["checker", "researcher"]
    assert scripted.log[2:] == ["writer"]
    assert outcome.final == "REPORT"


def test_fan_in_task_sees_every_branch_output(tmp_path: Path) -> None:
    """The fan-in task's prompt carries both branch outputs, labelled by task."""
    scripted = team()
    run_scenario(YAML, scripted, tmp_path)
    prompt = scripted.models["writer"].prompt()
    assert "### Output of task 'research'\nSOURCES" in prompt
    assert "### Output of task 'facts'\nFACTS" in prompt


def test_final_task_sees_all_branches_without_context(tmp_path: Path) -> None:
    """With team.final_task set, the fan-in sees every branch even with no context listed."""
    text = YAML.replace("    context: [research, facts]\n", "").replace(
        "  topology: parallel\n", "  topology: parallel\n  final_task: report\n"
    )
    scripted = team()
    run_scenario(text, scripted, tmp_path)
    prompt = scripted.models["writer"].prompt()
    assert "SOURCES" in prompt
    assert "FACTS" in prompt


def test_trace_has_branch_turns_then_the_fan_in(tmp_path: Path) -> None:
    """Branch turns (either order) route to the fan-in agent; the fan-in turn is last."""
    outcome = run_scenario(YAML, team(), tmp_path)
    branch_events = outcome.events[:4]
    messages = [e for e in branch_events if e["kind"] == "agent_message"]
    assert sorted((m["agent"], m["content"], m["task"]) for m in messages) == [
        ("checker", "FACTS", "facts"),
        ("researcher", "SOURCES", "research"),
    ]
    assert sorted(m["turn"] for m in messages) == [1, 2]
    routes = [e for e in branch_events if e["kind"] == "route"]
    assert sorted((r["from"], r["to"]) for r in routes) == [
        ("checker", "writer"),
        ("researcher", "writer"),
    ]
    assert outcome.events[4:] == [
        {
            "kind": "agent_message",
            "agent": "writer",
            "role": "assistant",
            "content": "REPORT",
            "turn": 3,
            "task": "report",
        },
        {"kind": "route", "from": "writer", "to": "END", "reason": "fan-in task 'report' done"},
    ]


def test_max_turns_skips_the_fan_in(tmp_path: Path) -> None:
    """With max_turns 2 only the branches run; a warning says so; the last branch output wins."""
    scripted = team()
    outcome = run_scenario(YAML.replace("max_turns: 6", "max_turns: 2"), scripted, tmp_path)
    assert "writer" not in scripted.log
    assert outcome.final == "FACTS"
    warning = outcome.events[-1]
    assert warning["code"] == "max_turns_reached"
    assert (warning["branches_run"], warning["branches"]) == (2, 2)


def test_max_turns_limits_the_fan_out(tmp_path: Path) -> None:
    """With max_turns 1 only the first branch is sent."""
    scripted = team(both_at_once=False)
    outcome = run_scenario(YAML.replace("max_turns: 6", "max_turns: 1"), scripted, tmp_path)
    assert scripted.log == ["researcher"]
    assert outcome.final == "SOURCES"
    assert outcome.kinds("warning")[0]["branches_run"] == 1


def test_mermaid_labels_branches_and_fan_in() -> None:
    """The drawing names every task with its agent."""
    drawing = mermaid(load_text(YAML, source="t.yaml"))
    for label in ("research (researcher)", "facts (checker)", "report (writer)"):
        assert f'"{label}"' in drawing
