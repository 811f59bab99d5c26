"""One conformance suite for every framework: same scenario, same scripted replies, same trace.

Each run goes through the real harness and gateway to `FakeOllama`, so the `llm_call`
events are the gateway's for all three frameworks. A topology a framework cannot express
must fail with exit 2 and a message naming the frameworks that can, before any model call.
The supervisor's routing protocol is each framework's own (LangGraph: JSON; CrewAI: the
manager's delegation tool; AutoGen: the selector names the next speaker), so its script
differs per framework while the routing decisions it encodes are the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from team.support import FRAMEWORKS, supported
from tests._adapters import (
    PARALLEL,
    REFLECTION,
    ROUND_ROBIN,
    SCHEMA,
    SEQUENTIAL,
    SUPERVISOR,
    TOOLS,
    Outcome,
    replay_on,
    run_on,
    tool_call,
)


def assert_refused(outcome: Outcome, framework: str, topology: str) -> None:
    """Exit 2, one line naming the topology and where it runs, and no model call made."""
    assert outcome.code == 2
    assert f"topology {topology!r} is not supported on {framework}" in outcome.error
    assert "use --framework langgraph" in outcome.error and "\n" not in outcome.error
    assert outcome.requests == []


def assert_every_call_carries_the_options(outcome: Outcome) -> None:
    """Every recorded model call went to /api/chat with the scenario's options and keep_alive."""
    calls = outcome.kinds("llm_call")
    assert calls and len(calls) == len(outcome.requests)
    for call in calls:
        assert call["endpoint"] == "/api/chat"
        assert call["request"]["options"]["num_ctx"] == 2048
        assert call["request"]["options"]["seed"] == 7
        assert call["request"]["keep_alive"] == "5m"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_sequential_turns_follow_the_task_order(framework: str, tmp_path: Path) -> None:
    """Sequential: the same turns, hand-offs, model-call attribution and final output."""
    outcome = run_on(framework, SEQUENTIAL, ["OUTLINE", "ARTICLE", "FINAL"], tmp_path)
    assert outcome.code == 0, outcome.error
    assert outcome.turns() == ["planner", "writer", "editor"]
    assert [e["content"] for e in outcome.kinds("agent_message")] == ["OUTLINE", "ARTICLE", "FINAL"]
    assert [e["turn"] for e in outcome.kinds("agent_message")] == [1, 2, 3]
    assert [e["task"] for e in outcome.kinds("agent_message")] == ["plan", "write", "edit"]
    assert outcome.routes() == [("planner", "writer"), ("writer", "editor"), ("editor", "END")]
    assert [c["agent"] for c in outcome.kinds("llm_call")] == ["planner", "writer", "editor"]
    assert_every_call_carries_the_options(outcome)
    assert outcome.final == "FINAL" and outcome.events[-1]["status"] == "ok"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_sequential_tasks_read_their_context(framework: str, tmp_path: Path) -> None:
    """A task's request carries the output of the task in its context, not before it ran."""
    outcome = run_on(framework, SEQUENTIAL, ["OUTLINE-X", "ARTICLE-Y", "FINAL"], tmp_path)
    prompts = [json.dumps(r["messages"]) for r in outcome.requests]
    assert "OUTLINE-X" not in prompts[0]
    assert "OUTLINE-X" in prompts[1] and "ARTICLE-Y" in prompts[2]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_failed_model_call_fails_the_run_and_keeps_earlier_turns(
    framework: str, tmp_path: Path
) -> None:
    """A model error mid-run: exit 1, one line, and the trace keeps the turn before it."""
    outcome = run_on(framework, SEQUENTIAL, ["OUTLINE", "x", "y"], tmp_path, fail_after=1)
    assert outcome.code == 1
    assert outcome.error.startswith("run failed:") and "\n" not in outcome.error
    assert "scripted failure" in outcome.error, outcome.error
    assert outcome.turns() == ["planner"]
    assert [e["kind"] for e in outcome.events[-2:]] == ["error", "run_finished"]
    assert outcome.events[-1]["status"] == "failed"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_round_robin_ends_on_the_termination_phrase(framework: str, tmp_path: Path) -> None:
    """Round robin: speakers alternate until one says the phrase, which ends the chat."""
    outcome = run_on(framework, ROUND_ROBIN, ["a1", "b1", "a2 DONE", "unused"], tmp_path)
    if not supported(framework, "round_robin"):
        assert_refused(outcome, framework, "round_robin")
        return
    assert outcome.code == 0, outcome.error
    assert outcome.turns() == ["alice", "bob", "alice"]
    assert outcome.routes() == [("alice", "bob"), ("bob", "alice"), ("alice", "END")]
    assert "termination phrase 'DONE'" in outcome.kinds("route")[-1]["reason"]
    assert outcome.final == "a2"
    assert_every_call_carries_the_options(outcome)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_round_robin_stops_after_max_rounds(framework: str, tmp_path: Path) -> None:
    """Round robin without the phrase: max_rounds rounds, then a max_rounds_reached warning."""
    outcome = run_on(framework, ROUND_ROBIN, [f"m{i}" for i in range(8)], tmp_path)
    if not supported(framework, "round_robin"):
        assert_refused(outcome, framework, "round_robin")
        return
    assert outcome.code == 0, outcome.error
    assert outcome.turns() == ["alice", "bob"] * 3
    assert [w["code"] for w in outcome.kinds("warning")] == ["max_rounds_reached"]
    assert outcome.routes()[-1] == ("bob", "END") and len(outcome.requests) == 6


SUPERVISOR_SCRIPTS = {
    "langgraph": [
        '{"next": "writer", "reason": "draft first", "instruction": "Write a draft."}',
        "draft",
        '{"next": "editor", "reason": "then edit", "instruction": "Edit the draft."}',
        "edited",
        '{"next": "FINISH", "reason": "done", "instruction": ""}',
    ],
    "crewai": [
        "Thought: the writer first\nAction: Delegate work to coworker\nAction Input: "
        '{"task": "Write a draft.", "context": "a short article", "coworker": "Writer"}',
        "draft",
        "Thought: now the editor\nAction: Delegate work to coworker\nAction Input: "
        '{"task": "Edit the draft.", "context": "draft", "coworker": "Editor"}',
        "edited",
        "Thought: the work is done\nFinal Answer: edited",
    ],
    "autogen": ["writer", "draft", "editor", "edited", "boss"],
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_supervisor_routes_to_members_then_finishes(framework: str, tmp_path: Path) -> None:
    """Supervisor: two routing decisions to members, their turns in order, then the end."""
    outcome = run_on(framework, SUPERVISOR, SUPERVISOR_SCRIPTS[framework], tmp_path)
    assert outcome.code == 0, outcome.error
    members = [name for name in outcome.turns() if name != "boss"]
    assert members == ["writer", "editor"]
    assert outcome.routes() == [("boss", "writer"), ("boss", "editor"), ("boss", "END")]
    assert [c["agent"] for c in outcome.kinds("llm_call")] == [
        "boss",
        "writer",
        "boss",
        "editor",
        "boss",
    ]
    assert outcome.final == "edited"
    assert_every_call_carries_the_options(outcome)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_parallel_branches_fan_in(framework: str, tmp_path: Path) -> None:
    """Parallel: both branches run, each hands off to the fan-in task, which reads both."""
    outcome = run_on(framework, PARALLEL, ["BRANCH-1", "BRANCH-2", "merged"], tmp_path)
    assert outcome.code == 0, outcome.error
    turns = outcome.turns()
    assert sorted(turns[:2]) == ["con", "pro"] and turns[2:] == ["judge"]
    assert sorted(outcome.routes()[:2]) == [("con", "judge"), ("pro", "judge")]
    assert outcome.routes()[2:] == [("judge", "END")]
    fan_in = json.dumps(outcome.requests[2]["messages"])
    assert "BRANCH-1" in fan_in and "BRANCH-2" in fan_in
    assert outcome.final == "merged"
    assert_every_call_carries_the_options(outcome)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_reflection_revises_until_approved(framework: str, tmp_path: Path) -> None:
    """Reflection: draft, critique, revision, approval; the last draft is the output."""
    replies = ["draft1", "fix the rhyme", "draft2", "APPROVED"]
    outcome = run_on(framework, REFLECTION, replies, tmp_path)
    if not supported(framework, "reflection"):
        assert_refused(outcome, framework, "reflection")
        return
    assert outcome.code == 0, outcome.error
    assert outcome.turns() == ["author", "reviewer", "author", "reviewer"]
    assert outcome.routes() == [
        ("author", "reviewer"),
        ("reviewer", "author"),
        ("author", "reviewer"),
        ("reviewer", "END"),
    ]
    assert outcome.final == "draft2"
    assert_every_call_carries_the_options(outcome)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_reflection_stops_at_max_revisions(framework: str, tmp_path: Path) -> None:
    """Reflection never approved: max_revisions revisions, then max_revisions_reached."""
    replies = ["d1", "no", "d2", "no", "d3", "no", "unused"]
    outcome = run_on(framework, REFLECTION, replies, tmp_path)
    if not supported(framework, "reflection"):
        assert_refused(outcome, framework, "reflection")
        return
    assert outcome.code == 0, outcome.error
    assert outcome.turns() == ["author", "reviewer"] * 3
    assert [w["code"] for w in outcome.kinds("warning")] == ["max_revisions_reached"]
    assert outcome.final == "d3" and len(outcome.requests) == 6


# Parallel is left out: its branches finish in either order, and verify() compares turn order.
REPLAYED = {"sequential": SEQUENTIAL, "supervisor": SUPERVISOR}


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("topology", list(REPLAYED))
def test_a_recorded_run_replays_with_the_same_requests_and_turns(
    framework: str, topology: str, tmp_path: Path
) -> None:
    """Re-run from its trace, every model request matches the recording and verify() is clean."""
    from traces.reader import read_trace
    from traces.replay import verify

    text = REPLAYED[topology]
    replies = SUPERVISOR_SCRIPTS[framework] if topology == "supervisor" else ["A", "B", "C"]
    recorded = run_on(framework, text, replies, tmp_path)
    assert recorded.code == 0, recorded.error
    (trace,) = (tmp_path / "runs").glob("*.jsonl")
    replayed, upstream = replay_on(framework, text, trace, tmp_path)
    assert replayed.code == 0, replayed.error
    assert upstream.divergence is None and upstream.served == len(recorded.requests)
    (again,) = (tmp_path / "replayed").glob("*.jsonl")
    assert verify(read_trace(trace), read_trace(again)) == []


TOOL_SCRIPTS = {  # CrewAI calls tools with its text protocol; the others natively
    "langgraph": [tool_call("calculator", expression="6*7"), "42"],
    "autogen": [tool_call("calculator", expression="6*7"), "42"],
    "crewai": [
        'Thought: I compute it\nAction: calculator\nAction Input: {"expression": "6*7"}',
        "Thought: I know it now\nFinal Answer: 42",
    ],
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_tool_call_is_run_traced_and_answered(framework: str, tmp_path: Path) -> None:
    """The agent's tool runs once with its arguments, is traced, and its result is answered."""
    outcome = run_on(framework, TOOLS, TOOL_SCRIPTS[framework], tmp_path)
    assert outcome.code == 0, outcome.error
    (call,) = outcome.kinds("tool_call")
    assert (call["agent"], call["tool"], call["task"]) == ("counter", "calculator", "count")
    assert call["arguments"] == {"expression": "6*7"}
    assert call["result"] == "6*7 = 42" and call["error"] is None
    assert [e["kind"] for e in outcome.kinds("tool_call", "agent_message")] == [
        "tool_call",
        "agent_message",
    ]
    assert outcome.final == "42" and len(outcome.requests) == 2
    assert "6*7 = 42" in json.dumps(outcome.requests[1]["messages"])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_output_schema_is_asked_for_and_validated(framework: str, tmp_path: Path) -> None:
    """The schema goes out as Ollama's format; a bad answer is retried once, then accepted."""
    outcome = run_on(framework, SCHEMA, ["forty-two", '{"answer": 42}'], tmp_path)
    assert outcome.code == 0, outcome.error
    assert [r["format"]["title"] for r in outcome.requests] == ["Answer", "Answer"]
    assert [w["code"] for w in outcome.kinds("warning")] == ["output_schema_retry"]
    (message,) = outcome.kinds("agent_message")
    assert message["structured_output"] == {"answer": 42}
    assert message["output_schema"] == "Answer"
    assert json.loads(outcome.final) == {"answer": 42}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_answer_that_never_matches_the_schema_fails_the_run(
    framework: str, tmp_path: Path
) -> None:
    """Two answers off the schema: exit 1 naming the schema and the retry, and no turn."""
    outcome = run_on(framework, SCHEMA, ["forty-two", "still forty-two", "unused"], tmp_path)
    assert outcome.code == 1
    assert "does not match output_schema Answer after one retry" in outcome.error
    assert outcome.turns() == [] and len(outcome.requests) == 2
