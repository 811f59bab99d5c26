"""Unit tests of the gateway: attribution, recording, errors, backend choice (no model)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.answer import Failed
from gateway.app import parse_attribution
from gateway.backend import has_model, select_backend
from gateway.context import context_margin, is_truncated
from gateway.recording import OllamaAssembler, OpenAIAssembler
from gateway.server import Gateway
from gateway.upstreams.base import Reply, Upstream, json_reply
from gateway.wire import NDJSON, ndjson_line
from scenarios.errors import ModelServerError
from traces import recorder as trace_recorder
from traces.recorder import TraceRecorder

LLM_CALL_FIELDS = {
    "call_id",
    "agent",
    "model",
    "operation",
    "endpoint",
    "streamed",
    "request",
    "response",
    "done_reason",
    "metrics",
    "latency_ms",
    "ttft_ms",
    "upstream",
    "status",
    "error",
}
METRICS = {
    "total_duration": 900,
    "load_duration": 10,
    "prompt_eval_count": 12,
    "prompt_eval_duration": 300,
    "eval_count": 2,
    "eval_duration": 500,
}


class ScriptedUpstream(Upstream):
    """A fake Ollama upstream: two content chunks and a final one, or a broken stream."""

    kind = "ollama"

    def __init__(self, *, break_stream: bool = False, prompt_eval_count: int = 12) -> None:
        self.break_stream = break_stream
        self.metrics = {**METRICS, "prompt_eval_count": prompt_eval_count}

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        """Answer /api/version, /api/tags and /api/chat."""
        if path == "/api/version":
            return json_reply({"version": "0.0.0-fake"})
        if path == "/api/tags":
            return json_reply({"models": [{"name": "smollm2:135m"}, {"name": "qwen3:latest"}]})
        request = json.loads(body)
        if request["model"] == "missing":
            return json_reply({"error": "model 'missing' not found"}, 404)
        return Reply(200, NDJSON, self._chunks(request["model"]))

    async def _chunks(self, model: str) -> AsyncIterator[bytes]:
        for piece in ("Hel", "lo"):
            yield ndjson_line(
                {"model": model, "message": {"role": "assistant", "content": piece}, "done": False}
            )
        if self.break_stream:
            raise RuntimeError("connection reset")
        final = {
            "model": model,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            **self.metrics,
        }
        yield ndjson_line(final)


@pytest.fixture
def run_recorder(tmp_path: Path) -> Iterator[TraceRecorder]:
    """A registered run recorder, as the run harness makes one."""
    recorder = TraceRecorder(tmp_path / "run.jsonl", "run123")
    trace_recorder.register(recorder)
    yield recorder
    trace_recorder.unregister("run123")
    recorder.close()


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _chat(url: str, **extra: Any) -> httpx.Response:
    body = {"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}], **extra}
    return httpx.post(f"{url}/api/chat", json=body, timeout=10)


def test_attribution_from_path_prefix() -> None:
    """A `/r/<run>/a/<agent>` prefix names run and agent and leaves the endpoint path."""
    got = parse_attribution("/r/abc123/a/writer/api/chat", {})
    assert (got.run_id, got.agent, got.path) == ("abc123", "writer", "/api/chat")


def test_attribution_from_headers_and_none() -> None:
    """Without a prefix, X-Lab-Run/X-Lab-Agent attribute the call; without them it is anonymous."""
    got = parse_attribution("/v1/chat/completions", {"x-lab-run": "r1", "x-lab-agent": "critic"})
    assert (got.run_id, got.agent, got.path) == ("r1", "critic", "/v1/chat/completions")
    plain = parse_attribution("/api/chat", {})
    assert (plain.run_id, plain.agent, plain.path) == (None, None, "/api/chat")


def test_ollama_assembler_joins_lines_split_anywhere() -> None:
    """Streamed NDJSON cut at arbitrary byte boundaries is reassembled with its final metrics."""
    wire = b"".join(
        [
            ndjson_line({"message": {"role": "assistant", "content": "a"}, "done": False}),
            ndjson_line({"message": {"role": "assistant", "content": "b"}, "done": False}),
            ndjson_line(
                {"message": {"content": ""}, "done": True, "done_reason": "length", **METRICS}
            ),
        ]
    )
    assembler = OllamaAssembler("chat")
    for i in range(0, len(wire), 7):
        assembler.feed(wire[i : i + 7])
    assembler.finish()
    assert assembler.response() == {"message": {"role": "assistant", "content": "ab"}}
    assert (assembler.done_reason, assembler.metrics) == ("length", METRICS)


def test_openai_assembler_merges_tool_call_deltas_and_usage() -> None:
    """SSE deltas of a tool call are merged (arguments concatenated) and usage maps to counts."""
    deltas = [
        {
            "choices": [
                {
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}
                        ]
                    }
                }
            ]
        },
        {
            "choices": [
                {
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]},
                    "finish_reason": "tool_calls",
                }
            ]
        },
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}},
    ]
    assembler = OpenAIAssembler("chat")
    for delta in deltas:
        assembler.feed(f"data: {json.dumps(delta)}\n\n".encode())
    assembler.feed(b"data: [DONE]\n\n")
    call = assembler.response()["message"]["tool_calls"][0]
    assert call["function"] == {"name": "f", "arguments": '{"a": 1}'} and call["id"] == "c1"
    assert assembler.done_reason == "tool_calls"
    assert assembler.metrics == {"prompt_eval_count": 5, "eval_count": 3}


def test_llm_call_event_has_every_field(run_recorder: TraceRecorder) -> None:
    """A streamed chat through an attributed URL becomes one llm_call with all contract fields."""
    with Gateway(ScriptedUpstream()) as gateway:
        response = _chat(gateway.agent_url("run123", "writer"), options={"num_ctx": 2048})
    assert response.status_code == 200
    calls = [e for e in _events(run_recorder.path) if e["kind"] == "llm_call"]
    assert len(calls) == 1
    call = calls[0]
    assert set(call) >= LLM_CALL_FIELDS
    assert (call["agent"], call["model"], call["operation"], call["endpoint"]) == (
        "writer",
        "smollm2:135m",
        "chat",
        "/api/chat",
    )
    assert call["streamed"] is True and call["status"] == "ok" and call["error"] is None
    assert call["response"] == {"message": {"role": "assistant", "content": "Hello"}}
    assert call["metrics"] == METRICS and call["done_reason"] == "stop"
    assert call["request"]["messages"] == [{"role": "user", "content": "hi"}]
    assert 0 < call["ttft_ms"] <= call["latency_ms"] and call["upstream"] == "ollama"
    assert run_recorder.totals()["input_tokens"] == 12


def test_llm_started_signal_precedes_the_call(run_recorder: TraceRecorder) -> None:
    """Listeners hear `llm_started` (agent, model, call id) before the llm_call event."""
    heard: list[dict[str, Any]] = []
    run_recorder.subscribe(heard.append)
    with Gateway(ScriptedUpstream()) as gateway:
        _chat(gateway.agent_url("run123", "critic"))
    assert [e["kind"] for e in heard] == ["llm_started", "llm_call"]
    assert heard[0]["call_id"] == heard[1]["call_id"] and heard[0]["agent"] == "critic"


def test_record_dir_writes_a_session_trace(tmp_path: Path) -> None:
    """With record_dir, an unattributed call lands in the gateway's own session trace."""
    with Gateway(ScriptedUpstream(), record_dir=tmp_path) as gateway:
        _chat(gateway.base_url, stream=False)
    (path,) = tmp_path.glob("*-gateway-session-*.jsonl")
    (event,) = _events(path)
    assert event["kind"] == "llm_call" and event["agent"] is None and event["streamed"] is False


@pytest.mark.parametrize(
    "run",
    ["..%252F..%252F..%252Fescaped", "..%2F..%2F..%2Fescaped", "a.b", "x" * 65],
)
def test_record_dir_refuses_unsafe_run_ids_as_file_names(tmp_path: Path, run: str) -> None:
    """A run id that is not a plain name (traversal, dots, too long) goes to the session trace."""
    record_dir = tmp_path / "a" / "b" / "rec"
    with Gateway(ScriptedUpstream(), record_dir=record_dir) as gateway:
        url = f"{gateway.base_url}/r/{run}/a/writer"
        response = _chat(url, stream=False)
        with_header = httpx.post(
            f"{gateway.base_url}/api/chat",
            json={"model": "m", "messages": [], "stream": False},
            headers={"X-Lab-Run": "../../../escaped-header"},
            timeout=10,
        )
    assert response.status_code == 200 and with_header.status_code == 200
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.parent == record_dir for p in written), written
    assert [p.name.split("-gateway-")[1][:8] for p in written] == ["session-"]


def test_record_dir_names_a_trace_by_a_safe_run_id(tmp_path: Path) -> None:
    """A plain run id (as `new_run_id` makes) gets the gateway's own run trace in record_dir."""
    with Gateway(ScriptedUpstream(), record_dir=tmp_path) as gateway:
        _chat(gateway.agent_url("Run_1-a", "writer"), stream=False)
    (path,) = tmp_path.glob("*-gateway-run-Run_1-a.jsonl")
    (event,) = _events(path)
    assert event["kind"] == "llm_call" and event["agent"] == "writer"


def test_broken_stream_ends_with_an_error_line(run_recorder: TraceRecorder) -> None:
    """A stream that breaks mid-way ends with an `{"error": ...}` NDJSON line and an error call."""
    with Gateway(ScriptedUpstream(break_stream=True)) as gateway:
        response = _chat(gateway.agent_url("run123", "writer"))
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert response.status_code == 200 and "connection reset" in lines[-1]["error"]
    (call,) = [e for e in _events(run_recorder.path) if e["kind"] == "llm_call"]
    assert call["status"] == "error" and "connection reset" in call["error"]
    assert call["response"]["message"]["content"] == "Hello"


def test_unknown_model_is_recorded_as_error(run_recorder: TraceRecorder) -> None:
    """A 404 from the upstream reaches the client as is and is recorded with its message."""
    with Gateway(ScriptedUpstream()) as gateway:
        response = _chat(gateway.agent_url("run123", "writer"), model="missing")
    assert response.status_code == 404 and response.json() == {"error": "model 'missing' not found"}
    (call,) = [e for e in _events(run_recorder.path) if e["kind"] == "llm_call"]
    assert call["status"] == "error" and call["error"] == "model 'missing' not found"


@pytest.mark.parametrize(("count", "warned"), [(1015, True), (1013, False)])
def test_context_truncated_warning(run_recorder: TraceRecorder, count: int, warned: bool) -> None:
    """A prompt reaching num_ctx less the margin yields one context_truncated warning, else none."""
    with Gateway(ScriptedUpstream(prompt_eval_count=count)) as gateway:
        _chat(gateway.agent_url("run123", "writer"), options={"num_ctx": 1024})
    warnings = [e for e in _events(run_recorder.path) if e["kind"] == "warning"]
    assert bool(warnings) is warned
    if warned:
        assert warnings[0]["code"] == "context_truncated"
        assert (warnings[0]["prompt_eval_count"], warnings[0]["num_ctx"]) == (1015, 1024)


def test_context_margin_rule() -> None:
    """The margin is max(8, 1% of num_ctx); a prompt at the limit counts as truncated."""
    assert (context_margin(512), context_margin(8192)) == (8, 81)
    assert is_truncated(504, 512) and not is_truncated(503, 512) and not is_truncated(None, 512)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_backend_ollama_unreachable_names_the_host() -> None:
    """--backend ollama with nothing listening fails with one line naming the host and the fix."""
    host = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ModelServerError) as info:
        select_backend("ollama", host, [("ollama", "smollm2:135m")])
    message = str(info.value)
    assert host in message and "connection refused" in message and "ollama serve" in message
    assert "\n" not in message


def test_backend_missing_model_gives_the_pull_hint() -> None:
    """A reachable Ollama without the model fails with `ollama pull`, also under auto."""
    with Gateway(ScriptedUpstream()) as gateway:
        with pytest.raises(ModelServerError, match=r"run 'ollama pull llama3.1:8b'"):
            select_backend("ollama", gateway.base_url, [("ollama", "llama3.1:8b")])
        with pytest.raises(ModelServerError, match=r"run 'ollama pull llama3.1:8b'"):
            select_backend("auto", gateway.base_url, [("ollama", "llama3.1:8b")])
        backend = select_backend("auto", gateway.base_url, [("ollama", "qwen3")])
    assert backend.kind == "ollama" and backend.model_map == {"qwen3": "qwen3"}


def test_backend_auto_falls_back_to_embedded_for_the_models_it_serves() -> None:
    """Auto with no Ollama uses the embedded model it has, and says what it tried, in one line."""
    pytest.importorskip("llama_cpp")
    host = f"http://127.0.0.1:{_closed_port()}"
    backend = select_backend("auto", host, [("ollama", "smollm2:135m")])
    assert backend.kind == "embedded" and backend.model_map == {"smollm2:135m": "smollm2:135m"}
    assert f"Ollama at {host} not reachable (connection refused)" in backend.note
    assert "using the embedded model smollm2:135m" in backend.note and "\n" not in backend.note
    assert "in place of" not in backend.note


def test_backend_auto_never_replaces_a_named_model() -> None:
    """Auto with no Ollama and a tag the engine lacks is exit 3, naming both fixes."""
    pytest.importorskip("llama_cpp")
    host = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ModelServerError) as info:
        select_backend("auto", host, [("ollama", "llama3.1:8b")])
    message = str(info.value)
    assert info.value.exit_code == 3 and "\n" not in message
    assert "'ollama pull llama3.1:8b'" in message and "--backend embedded" in message


def test_backend_embedded_stands_in_and_says_so() -> None:
    """--backend embedded serves a tag it lacks with smollm2:135m, and its note says so."""
    pytest.importorskip("llama_cpp")
    from gateway.backend import substitutions

    backend = select_backend("embedded", "http://127.0.0.1:9", [("ollama", "llama3.1:8b")])
    assert backend.model_map == {"llama3.1:8b": "smollm2:135m"}
    assert substitutions(backend.model_map) == {"llama3.1:8b": "smollm2:135m"}
    assert "smollm2:135m in place of llama3.1:8b" in backend.note


def test_backend_embedded_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """--backend embedded without llama-cpp-python fails with the install command."""
    monkeypatch.setattr("gateway.backend.engine_installed", lambda: False)
    with pytest.raises(ModelServerError, match=r"pip install -e '\.\[embedded\]'"):
        select_backend("embedded", "http://127.0.0.1:9", [("ollama", "smollm2:135m")])


def test_tag_without_colon_matches_latest() -> None:
    """A tag without ':' matches ':latest', as Ollama resolves names."""
    assert has_model(["qwen3:latest"], "qwen3") and not has_model(["qwen3:8b"], "qwen3")


def test_cli_port_taken_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m gateway` on a taken port says so in one line and exits 2, no traceback."""
    from gateway.__main__ import main

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        code = main(["--upstream", "ollama", "--port", str(sock.getsockname()[1])])
    err = capsys.readouterr().err
    assert (
        code == 2 and err.startswith("error: cannot listen on 127.0.0.1:") and err.count("\n") == 1
    )


def test_cli_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown upstream is a usage error: exit code 2."""
    from gateway.__main__ import main

    assert main(["--upstream", "vllm"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_doctor_reports_the_host_tried_and_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Doctor names the Ollama it tried, gives the container hint, and finds the embedded engine."""
    pytest.importorskip("llama_cpp")
    from rich.console import Console

    from gateway.doctor import run_doctor

    host = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("OLLAMA_HOST", host)
    console = Console(record=True, width=200)
    code = run_doctor(None, console)
    text = console.export_text()
    assert code == 0 and f"tried at {host}: not reachable (connection refused)" in text
    assert "host.docker.internal" in text and "serving smollm2:135m" in text
    assert "--backend auto: backend: Ollama at" in text
    assert "using the embedded model smollm2:135m" in text


def test_openai_request_maps_to_an_ollama_job() -> None:
    """OpenAI messages, limits and response_format become Ollama shapes (arguments parsed)."""
    from gateway.openai_compat import chat_job

    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
    job = chat_job(
        {
            "messages": [
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "42"},
            ],
            "max_tokens": 9,
            "stop": ["\n"],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"schema": {"type": "object"}},
            },
        }
    )
    assert job.messages[0]["tool_calls"] == [{"function": {"name": "f", "arguments": {"x": 1}}}]
    assert job.messages[1]["tool_name"] == "f"
    assert job.options == {"num_predict": 9, "stop": ["\n"]}
    assert job.format == {"type": "object"}


def test_keep_alive_parsing() -> None:
    """keep_alive accepts Go durations and seconds; negative means forever, default 5 minutes."""
    from gateway.durations import keep_alive_seconds

    assert keep_alive_seconds("1h30m") == 5400 and keep_alive_seconds(0) == 0
    assert keep_alive_seconds("-1") is None and keep_alive_seconds(None) == 300


def test_stop_sequences_are_held_back_then_cut() -> None:
    """Text that may begin a stop sequence is withheld; a completed one cuts the text."""
    from gateway.generation import _held_back, _stop_index

    assert _held_back("Hello wor", ("world",)) == 3 and _held_back("Hello", ("xyz",)) == 0
    assert _stop_index("say END now", ("END",)) == 4 and _stop_index("fine", ("END",)) is None


def test_over_long_prompt_keeps_its_tail() -> None:
    """A prompt over num_ctx keeps its last num_ctx - margin tokens, as Ollama cuts the front."""
    from gateway.generation import fit_to_context

    assert fit_to_context(list(range(600)), 512) == list(range(96, 600))
    assert fit_to_context([1, 2, 3], 512) == [1, 2, 3]


class FailingUpstream(Upstream):
    """An upstream whose every request raises; counts `aclose` calls and their event loops."""

    kind = "ollama"

    def __init__(self) -> None:
        self.closed_on: list[asyncio.AbstractEventLoop] = []

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        """Fail."""
        raise RuntimeError("upstream exploded")

    async def aclose(self) -> None:
        """Note the loop the gateway closed us on."""
        self.closed_on.append(asyncio.get_running_loop())


def test_unrecorded_request_failure_is_a_502() -> None:
    """An upstream exception on an unrecorded request is a 502 `{"error": ...}`, as on recorded."""
    with Gateway(FailingUpstream()) as gateway:
        version = httpx.get(f"{gateway.base_url}/api/version", timeout=10)
        chat = _chat(gateway.base_url)
    for response in (version, chat):
        assert response.status_code == 502
        assert response.json() == {"error": "upstream failed: upstream exploded"}


def test_stop_closes_the_upstream_on_the_server_loop() -> None:
    """Stopping a gateway closes its upstream's connections once, on the server's own loop."""
    upstream = FailingUpstream()
    with Gateway(upstream):
        pass
    with Gateway(upstream):
        pass
    assert len(upstream.closed_on) == 2 and upstream.closed_on[0] is not upstream.closed_on[1]
    assert all(loop.is_closed() for loop in upstream.closed_on)


def test_shared_ollama_upstream_drops_each_loop_client() -> None:
    """One OllamaUpstream serves gateway after gateway; each stop drops its loop's client."""
    from gateway.upstreams.ollama import OllamaUpstream

    with Gateway(ScriptedUpstream()) as ollama:
        upstream = OllamaUpstream(ollama.base_url)
        for _ in range(2):
            with Gateway(upstream) as gateway:
                assert _chat(gateway.base_url, stream=False).status_code == 200
                assert len(upstream._clients) == 1
            assert upstream._clients == {}


def _capture_socket(monkeypatch: pytest.MonkeyPatch) -> list[socket.socket]:
    bound: list[socket.socket] = []
    original = Gateway._bind

    def bind(self: Gateway) -> socket.socket:
        bound.append(original(self))
        return bound[-1]

    monkeypatch.setattr(Gateway, "_bind", bind)
    return bound


def test_start_failure_cleans_up_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server thread that dies before serving: GatewayError (exit 1), socket closed."""
    import uvicorn

    from gateway.server import GatewayError

    bound = _capture_socket(monkeypatch)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    gateway = Gateway(ScriptedUpstream())
    with pytest.raises(GatewayError) as info:
        gateway.start()
    assert info.value.exit_code == 1 and "--port" not in str(info.value)
    assert bound[0].fileno() == -1 and gateway._thread is None and gateway._server is None


def test_start_timeout_stops_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that never comes up in time is told to exit and joined; its socket is closed."""
    import threading
    import time

    import uvicorn

    from gateway.server import GatewayError

    def hang(self: uvicorn.Server, sockets: Any = None) -> None:
        while not self.should_exit:
            time.sleep(0.01)

    bound = _capture_socket(monkeypatch)
    monkeypatch.setattr(uvicorn.Server, "run", hang)
    monkeypatch.setattr("gateway.server.START_TIMEOUT_S", 0.2)
    before = set(threading.enumerate())  # other tests' gateways may be running
    with pytest.raises(GatewayError) as info:
        Gateway(ScriptedUpstream()).start()
    assert info.value.exit_code == 1 and bound[0].fileno() == -1
    left = [t for t in set(threading.enumerate()) - before if t.name.startswith("gateway-")]
    assert not [t for t in left if t.is_alive()]


def test_port_taken_is_bad_input() -> None:
    """A port another server holds is the user's choice to change: exit 2, the --port hint."""
    from gateway.server import GatewayError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(GatewayError) as info:
            Gateway(ScriptedUpstream(), port=sock.getsockname()[1]).start()
    assert info.value.exit_code == 2 and str(info.value).endswith("choose another --port")


@pytest.mark.parametrize(
    ("error", "message"),
    [(RuntimeError(), "RuntimeError"), (RuntimeError("boom"), "RuntimeError: boom")],
)
def test_engine_error_names_its_type(error: Exception, message: str) -> None:
    """A failing generation reports `Type: message`, or the type alone when there is no message."""
    import threading

    from gateway.job import ChatJob
    from gateway.upstreams.bridge import generation_events

    class BrokenEngine:
        def submit(self, tag: str, work: Any) -> None:
            threading.Thread(target=work).start()

        def model(self, *args: Any) -> Any:
            raise error

    async def first() -> Any:
        engine: Any = BrokenEngine()
        events = generation_events(engine, "t:1", Path("t.gguf"), ChatJob(messages=[]))
        try:
            return await anext(events)
        finally:
            await events.aclose()

    assert asyncio.run(first()) == Failed(message)


def test_unusable_schema_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """A JSON schema llama.cpp cannot turn into a grammar falls back to any JSON, with a warning."""
    pytest.importorskip("llama_cpp")
    from gateway.generation import _grammar, format_grammar

    schema = {"type": "object", "properties": {"a": {"$ref": "http://example.invalid/s"}}}
    with caplog.at_level("WARNING", logger="gateway"):
        assert format_grammar(schema) is not None
        _grammar.cache_clear()
        format_grammar(dict(schema))
    warned = [r for r in caplog.records if "cannot become a grammar" in r.getMessage()]
    assert len(warned) == 1 and "Unsupported ref" in warned[0].getMessage()


def test_ctrl_c_in_serve_forever_still_waits_for_shutdown() -> None:
    """After Ctrl-C in serve_forever, stop() waits for the server: the upstream gets closed."""
    import _thread
    import threading
    import time

    upstream = FailingUpstream()
    gateway = Gateway(upstream)
    gateway.start()
    thread = gateway._thread
    assert thread is not None

    def interrupt() -> None:
        time.sleep(0.3)
        _thread.interrupt_main()

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        gateway.serve_forever()
    gateway.stop()
    assert len(upstream.closed_on) == 1
    thread.join(5)
    assert not thread.is_alive()
