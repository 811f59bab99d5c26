"""Replay: normalization, matching, divergences, the replay upstream, `replay show|rerun`.

The re-runs here replay the checked-in trace of the shipped research_team scenario, so a
change to its prompts or control flow fails them as a divergence. No model runs.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from gateway.recording import assembler_for
from gateway.upstreams.base import Reply, Upstream
from gateway.upstreams.embedded import EmbeddedUpstream
from gateway.upstreams.replay import ReplayUpstream, pieces, recorded_events
from scenarios.cli.replay import main as replay
from tests.fake_ollama import FakeOllama
from traces.reader import read_trace
from traces.replay import DivergedError, Matcher, RecordedCall, normalize_request, verify

FIXTURES = Path(__file__).parent / "fixtures" / "traces"
RECORDED = FIXTURES / "research_team_langgraph.jsonl"
SHIPPED = Path(__file__).parents[1] / "scenarios" / "research_team.yaml"
CHAT = "/api/chat"


def _body(agent: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "smollm2:135m",
        "messages": [
            {"role": "system", "content": f"You are {agent}."},
            {"role": "user", "content": text},
        ],
        "options": {"num_ctx": 2048, "seed": 42},
        **extra,
    }


def _call(number: int, agent: str, text: str, answer: str = "ok", **extra: Any) -> RecordedCall:
    event = {
        "kind": "llm_call",
        "agent": agent,
        "model": "smollm2:135m",
        "endpoint": CHAT,
        "request": _body(agent, text, **extra),
        "response": {"message": {"role": "assistant", "content": answer}},
        "done_reason": "stop",
        "metrics": {"total_duration": 5, "prompt_eval_count": 7, "eval_count": 3},
        "status": "ok",
        "error": None,
    }
    return RecordedCall(number, event)


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _new_trace(runs_dir: Path) -> Path:
    (trace,) = runs_dir.glob("*.jsonl")
    return trace


def _collect(reply: Any) -> bytes:
    async def read() -> bytes:
        return b"".join([chunk async for chunk in reply.chunks])

    return asyncio.run(read())


def _ask(upstream: ReplayUpstream, path: str, body: dict[str, Any], agent: str | None = None):
    headers = {"x-lab-agent": agent} if agent else {}
    reply = asyncio.run(upstream.request("POST", path, json.dumps(body).encode(), headers))
    return reply, _collect(reply)


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to pick or build a live backend fails the test."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a replay must not pick or build a live backend")

    monkeypatch.setattr("gateway.backend.select_backend", refuse)
    monkeypatch.setattr("gateway.backend.embedded_upstream", refuse)
    monkeypatch.setattr("gateway.upstreams.embedded.EmbeddedUpstream.__init__", refuse)


# -- normalization and matching --------------------------------------------------------------


def test_normalization_ignores_key_order_transport_and_empty_tools() -> None:
    """Key order, stream, keep_alive and an empty tools list do not change a request's identity."""
    a = _body("planner", "outline", stream=True, keep_alive="5m", tools=[])
    b = {k: a[k] for k in reversed(list(a)) if k not in ("stream", "keep_alive", "tools")}
    b["options"] = {"seed": 42, "num_ctx": 2048}
    assert normalize_request(a) == normalize_request(b)


def test_normalization_keeps_what_changes_the_answer() -> None:
    """A different option, message or format is a different request."""
    base = normalize_request(_body("planner", "outline"))
    assert normalize_request(_body("planner", "outline!")) != base
    assert normalize_request({**_body("planner", "outline"), "format": "json"}) != base
    changed = _body("planner", "outline")
    changed["options"]["seed"] = 43
    assert normalize_request(changed) != base


def test_parallel_branches_are_served_in_whatever_order_they_ask() -> None:
    """Two branches asking in the reverse of the recorded order each get their own answer."""
    matcher = Matcher([_call(1, "a", "left", "L"), _call(2, "b", "right", "R")])
    assert matcher.match(CHAT, "b", _body("b", "right")).number == 2
    assert matcher.match(CHAT, "a", _body("a", "left")).number == 1
    assert matcher.served == 2 and matcher.unserved() == []


def test_repeated_identical_requests_are_served_in_recorded_order() -> None:
    """The same request asked twice gets the first recorded answer, then the second."""
    matcher = Matcher([_call(1, "a", "again", "first"), _call(2, "a", "again", "second")])
    answers = [matcher.match(CHAT, "a", _body("a", "again")).number for _ in range(2)]
    assert answers == [1, 2]


def test_a_request_from_another_agent_does_not_take_a_recorded_answer() -> None:
    """The same content asked by a different agent is a divergence (attribution is matched)."""
    matcher = Matcher([_call(1, "a", "same")])
    with pytest.raises(DivergedError):
        matcher.match(CHAT, "b", _body("a", "same"))


def test_a_divergence_names_the_call_the_agent_and_diffs_the_closest_request() -> None:
    """An unmatched request: one line with call number and agent, a diff of the changed line."""
    matcher = Matcher([_call(1, "planner", "outline"), _call(2, "editor", "edit the draft")])
    matcher.match(CHAT, "planner", _body("planner", "outline"))
    with pytest.raises(DivergedError) as caught:
        matcher.match(CHAT, "editor", _body("editor", "edit the draft in French"))
    divergence = caught.value.divergence
    assert divergence.message.startswith("replay diverged at call 2 (agent editor, /api/chat)")
    assert "\n" not in divergence.message and divergence.closest == 2
    assert (
        "-  edit the draft" in divergence.diff and "+  edit the draft in French" in divergence.diff
    )
    with pytest.raises(DivergedError, match="replay stopped earlier"):
        matcher.match(CHAT, "planner", _body("planner", "outline"))


# -- the replay upstream on the wire ---------------------------------------------------------


def test_pieces_join_back_to_the_exact_text() -> None:
    """Streamed pieces of a text, whitespace included, concatenate to the text."""
    text = "  Hello,  world!\n\nNext line.  "
    assert "".join(pieces(text)) == text and len(pieces(text)) > 3


def test_a_streaming_client_gets_ndjson_that_reassembles_to_the_recording() -> None:
    """Streaming client:  several NDJSON lines, the last done with the recorded metrics."""
    upstream = ReplayUpstream([_call(1, "a", "hi", "three little words")])
    reply, raw = _ask(upstream, CHAT, {**_body("a", "hi"), "stream": True}, "a")
    lines = [json.loads(line) for line in raw.splitlines()]
    assert reply.media_type == "application/x-ndjson" and len(lines) >= 4
    assert lines[-1]["done"] is True and lines[-1]["eval_count"] == 3
    assembler = assembler_for(CHAT)
    assembler.feed(raw)
    assert assembler.response()["message"]["content"] == "three little words"


def test_a_non_streaming_client_gets_one_json_object() -> None:
    """Non-streaming client:  one object with the whole answer, done_reason and metrics."""
    upstream = ReplayUpstream([_call(1, "a", "hi", "whole answer")])
    reply, raw = _ask(upstream, CHAT, {**_body("a", "hi"), "stream": False}, "a")
    obj = json.loads(raw)
    assert reply.media_type == "application/json"
    assert obj["message"]["content"] == "whole answer" and obj["done_reason"] == "stop"


def test_openai_clients_get_sse_when_streaming_and_a_completion_otherwise() -> None:
    """/v1: SSE chunks ending in [DONE] when streamed, one chat.completion when not."""
    call = _call(1, "a", "hi", "from v1")
    call.event["endpoint"] = "/v1/chat/completions"
    upstream = ReplayUpstream([call, RecordedCall(2, dict(call.event))])
    body = _body("a", "hi")
    reply, raw = _ask(upstream, "/v1/chat/completions", {**body, "stream": True}, "a")
    assert reply.media_type == "text/event-stream" and raw.endswith(b"data: [DONE]\n\n")
    assembler = assembler_for("/v1/chat/completions")
    assembler.feed(raw)
    assert assembler.response()["message"]["content"] == "from v1"
    _, whole = _ask(upstream, "/v1/chat/completions", body, "a")
    assert json.loads(whole)["choices"][0]["message"]["content"] == "from v1"


class _Worker:
    """A stand-in for the engine: runs each job on a thread; its model loads in no time."""

    def __init__(self) -> None:
        self.keep_alive: dict[str, float] = {}

    def submit(self, tag: str, work: Callable[[], Any]) -> Future[Any]:
        """Run `work` on a new thread."""
        future: Future[Any] = Future()
        threading.Thread(target=lambda: future.set_result(work())).start()
        return future

    def model(self, *_args: Any, **_kwargs: Any) -> tuple[object, int]:
        """A model that cost no load time."""
        return object(), 0


LIVE_METRICS = {
    "total_duration": 900,
    "load_duration": 0,
    "prompt_eval_count": 12,
    "prompt_eval_duration": 300,
    "eval_count": 4,
    "eval_duration": 500,
}


def _answered(endpoint: str, body: dict[str, Any]) -> RecordedCall:
    """A recorded call on `endpoint` whose answer has text and, on chat, a tool call."""
    text = "  Hello,  replayed world.\n"
    if endpoint == "/api/generate":
        response: dict[str, Any] = {"response": text}
    else:
        call: dict[str, Any] = {"function": {"name": "f", "arguments": {"x": 1}}}
        if endpoint.startswith("/v1/"):
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": "f", "arguments": "{}"},
            }
        response = {"message": {"role": "assistant", "content": text, "tool_calls": [call]}}
    event = _call(1, "a", "hi").event
    event.update(endpoint=endpoint, request=body, response=response, metrics=LIVE_METRICS)
    return RecordedCall(1, event)


async def _exchange(upstream: Upstream, path: str, body: dict[str, Any]) -> tuple[Reply, bytes]:
    """Ask agent a's request and read the whole reply, on one event loop."""
    reply = await upstream.request("POST", path, json.dumps(body).encode(), {"x-lab-agent": "a"})
    try:
        return reply, b"".join([chunk async for chunk in reply.chunks])
    finally:
        await reply.aclose()


@pytest.mark.parametrize("endpoint", [CHAT, "/api/generate", "/v1/chat/completions"])
@pytest.mark.parametrize("stream", [True, False])
def test_a_replayed_answer_is_sent_byte_for_byte_as_the_live_one(
    endpoint: str, stream: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events a recorded answer replays as, made live by the engine, give the same bytes."""
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.25)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=7))
    body = {**_body("a", "hi"), "prompt": "hi", "stream": stream}
    body["stream_options"] = {"include_usage": True}
    recorded = _answered(endpoint, body)
    events = recorded_events(recorded.event, endpoint)

    def run_chat(_model: Any, _job: Any, sink: Callable[[Any], None], _cancel: Any) -> Any:
        for event in events[:-1]:
            sink(event)
        return events[-1]

    monkeypatch.setattr("gateway.upstreams.bridge.run_chat", run_chat)
    live = EmbeddedUpstream()
    live.engine = _Worker()  # type: ignore[assignment]
    monkeypatch.setattr(live, "models", lambda: {"smollm2:135m": tmp_path / "unread.gguf"})
    live_reply, live_bytes = asyncio.run(_exchange(live, endpoint, body))
    replay_reply, replay_bytes = asyncio.run(_exchange(ReplayUpstream([recorded]), endpoint, body))
    assert (live_reply.status, live_reply.media_type) == (
        replay_reply.status,
        replay_reply.media_type,
    )
    assert replay_bytes == live_bytes
    assembler = assembler_for(endpoint)
    assembler.feed(live_bytes)
    assembler.finish()
    assert "replayed world" in json.dumps(assembler.response())
    assert len(events) > 3 and (endpoint == "/api/generate") != bool(assembler.tool_calls)


def test_a_diverging_request_is_an_error_the_client_sees() -> None:
    """An unmatched model request is answered 400 with Ollama's error shape and the diff."""
    upstream = ReplayUpstream([_call(1, "a", "hi")])
    reply, raw = _ask(upstream, CHAT, _body("a", "bye"), "a")
    error = json.loads(raw)["error"]
    assert reply.status == 400 and error.startswith("replay diverged at call 1 (agent a")
    assert "+  bye" in error and upstream.divergence is not None


def test_model_listing_endpoints_answer_for_the_recorded_models() -> None:
    """/api/version, /api/tags and /api/show answer; /api/show of an unknown model is 404."""
    upstream = ReplayUpstream([_call(1, "a", "hi")])
    tags = json.loads(_collect(asyncio.run(upstream.request("GET", "/api/tags", b"", {}))))
    assert [m["name"] for m in tags["models"]] == ["smollm2:135m"]
    version = asyncio.run(upstream.request("GET", "/api/version", b"", {}))
    assert "version" in json.loads(_collect(version))
    shown, _ = _ask(upstream, "/api/show", {"model": "smollm2:135m"})
    missing, _ = _ask(upstream, "/api/show", {"model": "llama3:8b"})
    assert shown.status == 200 and missing.status == 404


# -- replay show -----------------------------------------------------------------------------


def test_show_prints_turns_calls_routes_and_the_final_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The transcript has every agent, every model call line, each route and the final output."""
    assert replay(["show", str(RECORDED)]) == 0
    out = capsys.readouterr().out
    final = read_trace(RECORDED).run_finished["final_output"].split()[0]
    for text in ("planner", "writer", "editor", "call 3", "tok/s", "→ writer → editor", final):
        assert text in out
    assert "did not finish" not in out


def test_show_on_a_cut_trace_says_the_run_did_not_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trace whose last line is cut is shown up to there and said not to have finished."""
    text = RECORDED.read_text()
    cut = tmp_path / "cut.jsonl"
    cut.write_text(text[: text.rindex('{"schema"') + 40])
    assert replay(["show", str(cut)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "the run did not finish: its last line is cut" in out and "turn 3" in out


def test_show_call_prints_one_calls_wire_request_and_response(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--call 2 shows the writer's full request messages and the response it got."""
    assert replay(["show", str(RECORDED), "--call", "2"]) == 0
    out = capsys.readouterr().out
    writer = read_trace(RECORDED).of_kind("llm_call")[1]
    assert "call 2 · writer" in out and '"messages"' in out and '"response"' not in out[:10]
    assert writer["response"]["message"]["content"].split()[0] in out


def test_show_call_json_is_the_event(capsys: pytest.CaptureFixture[str]) -> None:
    """--call 1 --json prints exactly the first llm_call event."""
    assert replay(["show", str(RECORDED), "--call", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == read_trace(RECORDED).of_kind("llm_call")[0]


def test_show_call_out_of_range_is_exit_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """--call 9 on a three-call trace: exit 2 and one line saying how many calls there are."""
    assert replay(["show", str(RECORDED), "--call", "9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no model call 9 (the trace has 3)" in err[0]


def test_show_json_gives_the_events_and_the_status(capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints one document with status, cut flag and every event."""
    assert replay(["show", str(RECORDED), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "ok" and document["cut"] is False
    assert len(document["events"]) == len(_events(RECORDED))


def test_an_unreadable_trace_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not a trace: exit 2 with one line naming it."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\nat all\n")
    assert replay(["show", str(bad)]) == 2
    assert replay(["rerun", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "bad.jsonl:1" in err[0] and "missing.jsonl" in err[1]


# -- replay rerun against the checked-in recording -------------------------------------------


@pytest.mark.parametrize("recorded", sorted(FIXTURES.glob("*.jsonl")), ids=lambda p: p.stem)
def test_each_recorded_shipped_scenario_replays_identically_with_no_model(
    recorded: Path, no_engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each checked-in trace, re-run on today's shipped scenario file: same run, no backend."""
    trace = read_trace(recorded)
    shipped = SHIPPED.parent / f"{trace.run_started['scenario']}.yaml"
    args = ["rerun", str(recorded), "--scenario", str(shipped), "--verify"]
    assert replay([*args, "--runs-dir", str(tmp_path), "-q"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == trace.run_finished["final_output"].strip()
    new = _events(_new_trace(tmp_path))
    calls = [e for e in new if e["kind"] == "llm_call"]
    assert [c["upstream"] for c in calls] == ["replay"] * len(trace.of_kind("llm_call"))
    assert new[0]["replay_of"]["run_id"] == trace.run_id


def test_an_edited_prompt_diverges_at_the_first_changed_call(
    no_engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The editor's task reworded: exit 1, one error line naming call 3 and the editor."""
    edited = tmp_path / "edited.yaml"
    edited.write_text(SHIPPED.read_text().replace("Return only the final article.", "Be brief."))
    args = ["rerun", str(RECORDED), "--scenario", str(edited), "--runs-dir", str(tmp_path), "-q"]
    assert replay(args) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: replay diverged at call 3 (agent editor, /api/chat): the request matches no "
        "recorded call (closest: recorded call 3)"
    ]
    assert "+  Edit the article" in err and "Be brief." in err
    last = [e for e in _events(_new_trace(tmp_path)) if e["kind"] == "llm_call"][-1]
    assert last["status"] == "error" and "--- recorded call 3" in last["error"]


def test_a_changed_agent_goal_diverges_at_the_first_call(
    no_engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The planner's goal reworded changes its system prompt: divergence at call 1."""
    edited = tmp_path / "edited.yaml"
    edited.write_text(SHIPPED.read_text().replace("Plan an engaging", "Plan a dull"))
    args = ["rerun", str(RECORDED), "--scenario", str(edited), "--runs-dir", str(tmp_path), "-q"]
    assert replay(args) == 1
    assert "replay diverged at call 1 (agent planner" in capsys.readouterr().err


def test_recorded_calls_never_asked_for_fail_the_rerun(
    no_engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recording with one more call than the run makes: exit 1 naming the call left over."""
    events = _events(RECORDED)
    extra = {**[e for e in events if e["kind"] == "llm_call"][-1], "agent": "critic"}
    longer = tmp_path / "longer.jsonl"
    longer.write_text("".join(json.dumps(e) + "\n" for e in [*events[:-1], extra, events[-1]]))
    args = ["rerun", str(longer), "--runs-dir", str(tmp_path / "runs"), "-q"]
    assert replay(args) == 1
    assert "without asking 1 recorded model call(s) (first: call 4, agent critic)" in (
        capsys.readouterr().err
    )


def test_verify_reports_a_different_final_output_and_turns(tmp_path: Path) -> None:
    """verify() names the first differing turn and the final output difference."""
    events = _events(RECORDED)
    events[-1] = {**events[-1], "final_output": "something else"}
    for event in events:
        if event["kind"] == "agent_message" and event["agent"] == "editor":
            event["content"] = "something else"
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps(e) + "\n" for e in events))
    problems = verify(read_trace(RECORDED), read_trace(other))
    assert problems[0].startswith("turn 3 (editor/edit): content differs")
    assert problems[1].startswith("final output differs")
    assert verify(read_trace(RECORDED), read_trace(RECORDED)) == []


def test_fork_serves_n_recorded_calls_then_goes_live(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--from 2 --backend ollama: calls 1-2 replayed, call 3 sent to the live server."""
    with FakeOllama(["LIVE EDIT"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        args = ["rerun", str(RECORDED), "--from", "2", "--backend", "ollama"]
        assert replay([*args, "--runs-dir", str(tmp_path), "-q"]) == 0
        asked = list(server.requests)
    new = _events(_new_trace(tmp_path))
    calls = [e for e in new if e["kind"] == "llm_call"]
    assert [(c["agent"], c["upstream"]) for c in calls] == [
        ("planner", "replay"),
        ("writer", "replay"),
        ("editor", "ollama"),
    ]
    assert len(asked) == 1 and new[-1]["final_output"] == "LIVE EDIT"
    assert new[0]["replay_of"]["from"] == 2


def test_fork_with_another_model_still_replays_the_calls_before_the_fork(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--from 1 --model default=llama3.2:1b: call 1 replayed despite the new tag, then live."""
    with FakeOllama(["W", "E"], models=["llama3.2:1b"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        args = ["rerun", str(RECORDED), "--from", "1", "--backend", "ollama"]
        args += ["--model", "default=llama3.2:1b", "--runs-dir", str(tmp_path), "-q"]
        assert replay(args) == 0
        assert [r["model"] for r in server.requests] == ["llama3.2:1b"] * 2
    calls = [e for e in _events(_new_trace(tmp_path)) if e["kind"] == "llm_call"]
    assert [c["upstream"] for c in calls] == ["replay", "ollama", "ollama"]


def test_fork_to_a_model_the_server_lacks_is_exit_3_not_a_stand_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--from 1 --model default=X with auto, X not on the Ollama: exit 3 and the pull, no run."""
    with FakeOllama(["W", "E"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        args = ["rerun", str(RECORDED), "--from", "1", "--model", "default=nosuch:7b"]
        assert replay([*args, "--runs-dir", str(tmp_path), "-q"]) == 3
        assert server.requests == []
    assert "run 'ollama pull nosuch:7b'" in capsys.readouterr().err


def test_backend_without_from_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    """--backend only chooses the live side of a fork: alone it is exit 2."""
    assert replay(["rerun", str(RECORDED), "--backend", "embedded"]) == 2
    assert "--from N" in capsys.readouterr().err


def test_a_trace_without_run_started_cannot_be_rerun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gateway's own recording (no run_started) is refused with exit 2."""
    events = [e for e in _events(RECORDED) if e["kind"] == "llm_call"]
    gateway_only = tmp_path / "gateway.jsonl"
    gateway_only.write_text("".join(json.dumps(e) + "\n" for e in events))
    assert replay(["rerun", str(gateway_only), "--runs-dir", str(tmp_path)]) == 2
    assert "no run_started" in capsys.readouterr().err


PARALLEL = """\
name: par
models:
  default: {model: smollm2:135m}
agents:
  - {name: researcher, role: Researcher}
  - {name: checker, role: Fact checker}
  - {name: writer, role: Writer}
tasks:
  - {name: research, description: Find sources., agent: researcher}
  - {name: facts, description: Check facts., agent: checker}
  - {name: report, description: Merge the findings., agent: writer, context: [research, facts]}
team:
  topology: parallel
  max_turns: 6
"""


def _record_parallel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    from scenarios.cli import main as cli

    scenario = tmp_path / "par.yaml"
    scenario.write_text(PARALLEL)
    with FakeOllama(["ONE", "TWO", "REPORT"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        args = ["run", str(scenario), "--backend", "ollama", "--runs-dir", str(tmp_path / "rec")]
        assert cli([*args, "-q"]) == 0
    return _new_trace(tmp_path / "rec")


def _swap_branch_calls(trace: Path, out: Path) -> Path:
    events = _events(trace)
    first, second = [i for i, e in enumerate(events) if e["kind"] == "llm_call"][:2]
    events[first], events[second] = events[second], events[first]
    out.write_text("".join(json.dumps(e) + "\n" for e in events))
    return out


def test_parallel_branches_replay_whatever_order_they_were_recorded_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A parallel run, its two branch calls swapped in the file, still replays and verifies."""
    recorded = _record_parallel(monkeypatch, tmp_path)
    swapped = _swap_branch_calls(recorded, tmp_path / "swapped.jsonl")
    monkeypatch.setattr("gateway.backend.select_backend", None)  # a replay never selects one
    for trace, runs in ((recorded, "a"), (swapped, "b")):
        args = ["rerun", str(trace), "--verify", "--runs-dir", str(tmp_path / runs), "-q"]
        assert replay(args) == 0
        calls = [e for e in _events(_new_trace(tmp_path / runs)) if e["kind"] == "llm_call"]
        answers = {c["agent"]: c["response"]["message"]["content"] for c in calls}
        recorded_answers = {
            c["agent"]: c["response"]["message"]["content"]
            for c in _events(recorded)
            if c["kind"] == "llm_call"
        }
        assert answers == recorded_answers


def test_verify_accepts_concurrent_turns_finishing_in_another_order(tmp_path: Path) -> None:
    """Two agents' turns swapped is not a difference; one agent's turn changed still is."""
    events = _events(RECORDED)
    at = [i for i, e in enumerate(events) if e["kind"] == "agent_message"]
    swapped = list(events)
    swapped[at[0]], swapped[at[1]] = events[at[1]], events[at[0]]
    other = tmp_path / "swapped.jsonl"
    other.write_text("".join(json.dumps(e) + "\n" for e in swapped))
    assert verify(read_trace(RECORDED), read_trace(other)) == []
    swapped[at[0]] = {**swapped[at[0]], "agent": "planner"}
    other.write_text("".join(json.dumps(e) + "\n" for e in swapped))
    assert verify(read_trace(RECORDED), read_trace(other))[0].startswith("turn 1:")


def test_a_call_beyond_the_end_of_the_recording_says_it_is_used_up() -> None:
    """Once every recorded call is served, one more is a divergence saying how many there were."""
    matcher = Matcher([_call(1, "a", "hi")])
    matcher.match(CHAT, "a", _body("a", "hi"))
    with pytest.raises(DivergedError) as caught:
        matcher.match(CHAT, "a", _body("a", "hi"))
    assert caught.value.divergence.message.endswith("holds only 1 model calls, all served")


def test_a_long_changed_line_is_shown_where_it_changes() -> None:
    """A word changed deep inside a long paragraph is visible in the clipped diff."""
    long = "word " * 100
    recorded, new = _body("a", long + "old ending"), _body("a", long + "new ending")
    matcher = Matcher([RecordedCall(1, {**_call(1, "a", "").event, "request": recorded})])
    with pytest.raises(DivergedError) as caught:
        matcher.match(CHAT, "a", new)
    diff = caught.value.divergence.diff
    assert "old ending" in diff and "new ending" in diff
    assert all(len(line) <= 160 for line in diff.splitlines())
