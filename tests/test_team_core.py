"""The team core: framework-free, the one home of each rule, and the support matrix's source."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.loader import load_text
from scenarios.spec import TOPOLOGIES
from team import rules
from team.events import END, route
from team.plan import TaskPlan
from team.support import FRAMEWORKS, refusal, supported
from tests._adapters import REFLECTION, ROUND_ROBIN, SEQUENTIAL, SUPERVISOR

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scenarios", "team", "graphs", "agents", "tools", "prompts", "traces", "gateway")


@pytest.mark.parametrize(
    "module",
    [
        "team.plan",
        "team.rules",
        "team.turn",
        "team.support",
        "team.writer",
        "agents.crewai_runner",
        "agents.autogen_runner",
        "agents.autogen_trace",
    ],
)
def test_the_core_and_the_other_runners_never_import_langgraph(module: str) -> None:
    """Importing the core, or the CrewAI or AutoGen runner, leaves LangGraph and LangChain out."""
    names = "('langgraph', 'langchain_core')"
    code = f"import sys, {module}; print(sorted(m for m in {names} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", out


def _readme_matrix() -> dict[str, list[str]]:
    """The topology rows of the README's framework table: topology -> its three cells."""
    rows = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(\w+)` \|(.*)\|$", line)
        if match and match.group(1) in TOPOLOGIES:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_the_readme_table_says_what_the_support_matrix_says() -> None:
    """Each framework cell of the README's table is 'not supported' exactly where the matrix is."""
    rows = _readme_matrix()
    assert set(rows) == set(TOPOLOGIES)
    for topology, cells in rows.items():
        for framework, cell in zip(FRAMEWORKS, cells, strict=True):
            assert ("**not supported**" in cell) == (not supported(framework, topology)), cell


def test_a_refusal_names_the_frameworks_that_can() -> None:
    """An unsupported topology is one line naming why and where it runs instead."""
    problem = refusal(load_text(ROUND_ROBIN), "crewai")
    assert problem is not None and "\n" not in problem
    assert problem.endswith("use --framework langgraph or autogen")
    assert refusal(load_text(ROUND_ROBIN), "autogen") is None


def _code_strings() -> list[tuple[Path, str]]:
    """Every string literal of the project's code (f-string pieces too), docstrings aside."""
    found = []
    for path in (p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
            ):
                found.append((path, node.value))
    return found


@pytest.mark.parametrize(
    "text",
    [
        "team.max_turns reached",
        "raise team.max_turns to let the team finish",
        "without FINISH; raise team.max_steps",
        "did not approve after team.max_revisions",
        "team.max_rounds reached",
        "supervisor chose FINISH",
        "was still calling tools after",
        "answer did not match",
        "is not supported on",
    ],
)
def test_each_rule_text_is_written_once(text: str) -> None:
    """A route reason or warning text lives in one string of the code (tests aside)."""
    found = [(path.name, value) for path, value in _code_strings() if text in value]
    assert len(found) == 1, found


def test_a_sequential_plan_cut_by_the_turn_cap_ends_where_the_cap_says() -> None:
    """max_turns 2 of 3 tasks: write is the last task run, then the warning and END."""
    scenario = load_text(
        SEQUENTIAL.replace("topology: sequential}", "topology: sequential, max_turns: 2}")
    )
    plan = TaskPlan.of(scenario)
    assert [t.name for t in plan.tasks] == ["plan", "write"]
    assert plan.next_after("plan")[0] == "write"
    target, events = plan.next_after("write")
    assert target == END and [e["kind"] for e in events] == ["warning", "route"]
    assert "stopped before task 'edit'" in events[0]["message"]


def test_the_chat_rules_end_on_the_phrase_the_rounds_or_the_turns() -> None:
    """Round robin: the phrase ends it; so do max_rounds and max_turns, each with its warning."""
    scenario = load_text(ROUND_ROBIN)
    assert rules.next_speaker(scenario, "alice", "all DONE", 1, 0)[0] == END
    assert rules.next_speaker(scenario, "alice", "more", 1, 0)[0] == "bob"
    target, events = rules.next_speaker(scenario, "bob", "more", 6, 5)
    assert target == END and events[0]["code"] == "max_rounds_reached"
    capped = load_text(ROUND_ROBIN.replace("max_rounds: 3}", "max_rounds: 3, max_turns: 2}"))
    target, events = rules.next_speaker(capped, "bob", "more", 2, 1)
    assert target == END and events[0]["code"] == "max_turns_reached"
    assert rules.chat_turn_cap(scenario) == 6 and rules.chat_turn_cap(capped) == 2


def test_the_review_rules_approve_revise_or_stop() -> None:
    """Reflection: approval ends, a critique asks for a revision, max_revisions stops."""
    scenario = load_text(REFLECTION)
    assert rules.verdict(scenario, "APPROVED", 1, 0)[0] == END
    target, events = rules.verdict(scenario, "fix it", 1, 0)
    assert target == "author" and events[0]["reason"] == "revise (1 of 2)"
    target, events = rules.verdict(scenario, "fix it", 5, 2)
    assert target == END and events[0]["code"] == "max_revisions_reached"
    draft = route("author", "reviewer", "draft ready for review")
    assert rules.to_review(scenario, 0, 0) == ("reviewer", [draft])


def test_the_supervisor_stops_at_its_first_cap() -> None:
    """max_steps and max_turns: whichever is reached first ends the run with its warning."""
    scenario = load_text(SUPERVISOR)
    assert rules.supervisor_limits(scenario, 4, 4) is None
    stop = rules.supervisor_limits(scenario, 5, 5)
    assert stop is not None and stop[1][0]["code"] == "max_steps_reached"
    capped = load_text(SUPERVISOR.replace("max_steps: 5}", "max_steps: 5, max_turns: 3}"))
    stop = rules.supervisor_limits(capped, 3, 3)
    assert stop is not None and stop[1][0]["code"] == "max_turns_reached"
    assert rules.supervisor_step_cap(capped) == 3
