"""Conformance of the gateway (embedded llama.cpp upstream) with real clients over loopback.

One embedded gateway and one proxy gateway (upstream `ollama` pointing at the first) are
started per session; the model is loaded once. Answers are kept short (num_predict).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field, RootModel

pytestmark = pytest.mark.e2e
pytest.importorskip("llama_cpp")

from gateway.server import Gateway  # noqa: E402
from gateway.upstreams.embedded import EmbeddedUpstream  # noqa: E402
from gateway.upstreams.ollama import OllamaUpstream  # noqa: E402
from traces import recorder as trace_recorder  # noqa: E402
from traces.recorder import TraceRecorder  # noqa: E402

MODEL = "smollm2:135m"
SHORT = {"num_predict": 12, "temperature": 0, "seed": 7}
# A `format` the model cannot finish early: a string of at least 400 characters. With it,
# an answer always runs to num_predict, so a count of tokens or chunks is the gateway's
# plumbing, not what the model happened to say on this CPU.
ENDLESS = {"type": "string", "minLength": 400}
ENDLESS_V1 = {"type": "json_schema", "json_schema": {"name": "endless", "schema": ENDLESS}}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "the city", "maxLength": 40}},
            "required": ["city"],
        },
    },
}


class _Endless(RootModel[str]):
    """A string of at least 400 characters: an answer that always runs to its limit."""

    root: str = Field(min_length=400)


class Capital(BaseModel):
    """The JSON-schema format used in tests (bounded, so that an answer always fits)."""

    country: str = Field(max_length=40)
    capital: str = Field(max_length=40)


@pytest.fixture(scope="session")
def record_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Where the embedded and the proxy gateway record their sessions."""
    return tmp_path_factory.mktemp("embedded"), tmp_path_factory.mktemp("proxy")


@pytest.fixture(scope="session")
def embedded(record_dirs: tuple[Path, Path]) -> Iterator[Gateway]:
    """A gateway over the embedded model, recording to its own dir."""
    with Gateway(EmbeddedUpstream(), record_dir=record_dirs[0]) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def proxy(embedded: Gateway, record_dirs: tuple[Path, Path]) -> Iterator[Gateway]:
    """A gateway with upstream `ollama` in front of the embedded one."""
    with Gateway(OllamaUpstream(embedded.base_url), record_dir=record_dirs[1]) as gateway:
        yield gateway


@pytest.fixture
def run(tmp_path: Path) -> Iterator[TraceRecorder]:
    """A registered run recorder, as the run harness makes."""
    recorder = TraceRecorder(tmp_path / "run.jsonl", trace_recorder.new_run_id())
    trace_recorder.register(recorder)
    yield recorder
    trace_recorder.unregister(recorder.run_id)
    recorder.close()


def _events(recorder: TraceRecorder, kind: str) -> list[dict[str, Any]]:
    lines = recorder.path.read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == kind]


def _ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_ollama_client_chat_typed_and_metrics(embedded: Gateway) -> None:
    """The ollama client's typed ChatResponse validates and carries every metric as integers."""
    import ollama

    reply = ollama.Client(host=embedded.base_url).chat(
        model=MODEL, messages=_ask("Say hello."), options=SHORT
    )
    assert isinstance(reply, ollama.ChatResponse) and reply.message.content
    assert reply.done and reply.done_reason in ("stop", "length")
    assert reply.eval_count and reply.prompt_eval_count and reply.total_duration
    assert reply.total_duration >= reply.prompt_eval_duration + reply.eval_duration


def test_ollama_client_stream_adds_up_to_the_whole_answer(embedded: Gateway) -> None:
    """Streamed chunks join to the unstreamed answer; each carries a token or more."""
    import ollama

    client = ollama.Client(host=embedded.base_url)
    ask = {"model": MODEL, "messages": _ask("Count to five."), "options": SHORT, "format": ENDLESS}
    whole = client.chat(**ask)
    chunks = list(client.chat(**ask, stream=True))
    pieces = [c for c in chunks if not c.done]
    final = chunks[-1]
    assert final.done and final.message.content == ""
    assert "".join(p.message.content for p in pieces) == whole.message.content
    assert final.eval_count == whole.eval_count == SHORT["num_predict"]
    assert 1 <= len(pieces) <= final.eval_count and final.done_reason == "length"


def test_ollama_client_listing_endpoints(embedded: Gateway) -> None:
    """list, show, ps and version answer in the shapes the ollama client validates."""
    import ollama

    client = ollama.Client(host=embedded.base_url)
    assert MODEL in [m.model for m in client.list().models]
    shown = client.show(MODEL)
    assert "tools" in (shown.capabilities or []) and shown.modelinfo["llama.context_length"] > 0
    running = client.ps().models
    assert running and running[0].model == MODEL
    assert httpx.get(f"{embedded.base_url}/api/version").json()["version"]
    assert httpx.get(embedded.base_url).text == "Ollama is running"


def test_ollama_client_unknown_model_404(embedded: Gateway) -> None:
    """An unknown model raises ResponseError 404 with Ollama's message."""
    import ollama

    with pytest.raises(ollama.ResponseError) as info:
        ollama.Client(host=embedded.base_url).chat(model="nope:1b", messages=_ask("hi"))
    assert info.value.status_code == 404 and "model 'nope:1b' not found" in info.value.error


def test_ollama_client_tool_call(embedded: Gateway) -> None:
    """A tool request is answered in Ollama's shape: a call with object arguments, or text.

    The native API cannot force a call (the model chooses, and a 135M model's choice can
    differ between CPUs), so either answer is checked for its shape; `/v1` forces one below.
    """
    import ollama

    reply = ollama.Client(host=embedded.base_url).chat(
        model=MODEL,
        messages=_ask("What is the weather in Tokyo? Use the tool."),
        tools=[WEATHER_TOOL],
        options={"temperature": 0, "seed": 1},
    )
    if reply.message.tool_calls:
        (call,) = reply.message.tool_calls
        assert call.function.name == "get_weather"
        assert isinstance(call.function.arguments["city"], str)
    else:
        assert reply.message.content and reply.done_reason in ("stop", "length")


def test_json_schema_format_parses(embedded: Gateway) -> None:
    """With a JSON schema as `format`, the content parses and matches the schema."""
    import ollama

    reply = ollama.Client(host=embedded.base_url).chat(
        model=MODEL,
        messages=_ask("What is the capital of France? Answer in JSON."),
        format=Capital.model_json_schema(),
        options={"temperature": 0, "num_predict": 128},
    )
    assert Capital.model_validate_json(reply.message.content)


def test_generate_and_embed(embedded: Gateway) -> None:
    """/api/generate answers text with metrics; /api/embed returns one vector per input."""
    import ollama

    client = ollama.Client(host=embedded.base_url)
    generated = client.generate(model=MODEL, prompt="The sky is", options=SHORT, format=ENDLESS)
    assert generated.response and generated.eval_count == SHORT["num_predict"]
    embedded_vectors = client.embed(model=MODEL, input=["a cat", "a dog"])
    assert len(embedded_vectors.embeddings) == 2 and len(embedded_vectors.embeddings[0]) > 100


def test_langchain_chat_ollama(embedded: Gateway) -> None:
    """langchain_ollama.ChatOllama invokes and streams through the gateway."""
    from langchain_ollama import ChatOllama

    llm = ChatOllama(
        model=MODEL, base_url=embedded.base_url, num_predict=8, temperature=0, format=ENDLESS
    )
    message = llm.invoke("Say hi.")
    assert message.content and message.usage_metadata["output_tokens"] == 8
    assert "".join(str(c.content) for c in llm.stream("Say hi."))


def test_autogen_ollama_client(embedded: Gateway) -> None:
    """AutoGen's OllamaChatCompletionClient gets a completion with token usage."""
    from autogen_core.models import ModelInfo, UserMessage
    from autogen_ext.models.ollama import OllamaChatCompletionClient

    info = ModelInfo(
        vision=False,
        function_calling=True,
        json_output=True,
        family="unknown",
        structured_output=True,
    )
    client = OllamaChatCompletionClient(
        model=MODEL, host=embedded.base_url, model_info=info, options=SHORT
    )
    messages = [UserMessage(content="Say hi.", source="user")]
    result = asyncio.run(client.create(messages, json_output=_Endless))
    assert isinstance(result.content, str) and result.content
    assert result.usage.completion_tokens == SHORT["num_predict"]


def test_openai_sdk_plain_and_streamed(embedded: Gateway) -> None:
    """The openai SDK on /v1 gets a completion, and a stream that adds up to it, with usage."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{embedded.base_url}/v1", api_key="unused")
    whole = client.chat.completions.create(
        model=MODEL,
        messages=_ask("Say hi."),
        max_tokens=8,
        temperature=0,
        response_format=ENDLESS_V1,  # type: ignore[arg-type]
    )
    assert whole.choices[0].message.content and whole.usage.completion_tokens == 8
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=_ask("Say hi."),
            max_tokens=8,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
            response_format=ENDLESS_V1,  # type: ignore[arg-type]
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    pieces = [d.content for d in deltas if d.content]
    assert "".join(pieces) == whole.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == 8 and 1 <= len(pieces) <= 8
    assert any(c.choices and c.choices[0].finish_reason == "length" for c in chunks)


def test_openai_sdk_tool_call_and_schema(embedded: Gateway) -> None:
    """On /v1, a forced tool call has JSON-string arguments and json_schema output parses."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{embedded.base_url}/v1", api_key="unused")
    tooled = client.chat.completions.create(
        model=MODEL,
        messages=_ask("Weather in Paris?"),
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        temperature=0,
    )
    call = tooled.choices[0].message.tool_calls[0]
    assert tooled.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "c", "schema": Capital.model_json_schema()},
    }
    shaped = client.chat.completions.create(
        model=MODEL,
        messages=_ask("Capital of Italy, as JSON."),
        response_format=fmt,
        temperature=0,
        max_tokens=128,
    )
    assert Capital.model_validate_json(shaped.choices[0].message.content)


def test_openai_sdk_unknown_model_404(embedded: Gateway) -> None:
    """An unknown model on /v1 raises the SDK's NotFoundError."""
    import openai

    client = openai.OpenAI(base_url=f"{embedded.base_url}/v1", api_key="unused")
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope:1b", messages=_ask("hi"))
    assert MODEL in [m.id for m in client.models.list()]


def test_attributed_calls_are_recorded(embedded: Gateway, run: TraceRecorder) -> None:
    """Calls through agent_url land in the run's trace, one llm_call each, metrics included."""
    import ollama

    chunks = ollama.Client(host=embedded.agent_url(run.run_id, "writer")).chat(
        model=MODEL, messages=_ask("Say hi."), options=SHORT, stream=True, format=ENDLESS
    )
    assert list(chunks)[-1].done
    (call,) = _events(run, "llm_call")
    assert call["agent"] == "writer" and call["upstream"] == "embedded" and call["status"] == "ok"
    assert call["metrics"]["eval_count"] == SHORT["num_predict"] and call["ttft_ms"] is not None
    assert call["response"]["message"]["content"]


def test_openai_calls_record_engine_metrics(embedded: Gateway, run: TraceRecorder) -> None:
    """A /v1 call through the embedded upstream is recorded with the engine's Ollama metrics."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{embedded.agent_url(run.run_id, 'critic')}/v1", api_key="unused")
    client.chat.completions.create(
        model=MODEL,
        messages=_ask("Hi"),
        max_tokens=5,
        temperature=0,
        response_format=ENDLESS_V1,  # type: ignore[arg-type]
    )
    (call,) = _events(run, "llm_call")
    assert call["endpoint"] == "/v1/chat/completions" and call["metrics"]["eval_count"] == 5
    assert call["metrics"]["prompt_eval_duration"] > 0 and call["done_reason"] == "length"


def test_proxy_behaves_and_records_the_same(
    embedded: Gateway, proxy: Gateway, run: TraceRecorder
) -> None:
    """Through the proxy gateway, the same request gets the same answer and the same record."""
    import ollama

    messages = _ask("Name a colour.")
    direct = ollama.Client(host=embedded.agent_url(run.run_id, "a")).chat(
        model=MODEL, messages=messages, options=SHORT
    )
    proxied = ollama.Client(host=proxy.agent_url(run.run_id, "a")).chat(
        model=MODEL, messages=messages, options=SHORT
    )
    assert proxied.message.content == direct.message.content
    assert proxied.eval_count == direct.eval_count
    first, second = _events(run, "llm_call")
    assert (first["upstream"], second["upstream"]) == ("embedded", "ollama")
    for key in ("request", "response", "done_reason", "model", "agent", "operation", "streamed"):
        assert first[key] == second[key], key
    assert set(first["metrics"]) == set(second["metrics"])


def test_proxy_passes_errors_and_v1(proxy: Gateway) -> None:
    """The proxy forwards the 404 body and the /v1 surface untouched."""
    import ollama
    from openai import OpenAI

    with pytest.raises(ollama.ResponseError) as info:
        ollama.Client(host=proxy.base_url).chat(model="nope:1b", messages=_ask("hi"))
    assert info.value.status_code == 404
    client = OpenAI(base_url=f"{proxy.base_url}/v1", api_key="unused")
    reply = client.chat.completions.create(
        model=MODEL,
        messages=_ask("Hi"),
        max_tokens=4,
        response_format=ENDLESS_V1,  # type: ignore[arg-type]
    )
    assert reply.usage.completion_tokens == 4


def test_long_prompt_is_truncated_and_warned(embedded: Gateway, run: TraceRecorder) -> None:
    """A prompt longer than a small num_ctx is cut from the front and yields context_truncated."""
    import ollama

    long_text = "The quick brown fox jumps over the lazy dog. " * 60
    reply = ollama.Client(host=embedded.agent_url(run.run_id, "reader")).chat(
        model=MODEL, messages=_ask(long_text), options={"num_ctx": 256, "num_predict": 4}
    )
    assert 248 <= reply.prompt_eval_count < 256
    (warning,) = _events(run, "warning")
    assert warning["code"] == "context_truncated" and warning["agent"] == "reader"
    assert (warning["num_ctx"], warning["prompt_eval_count"]) == (256, reply.prompt_eval_count)


def test_load_and_unload_with_empty_messages(embedded: Gateway) -> None:
    """Empty messages load the model (done_reason load); keep_alive 0 unloads it."""
    loaded = httpx.post(f"{embedded.base_url}/api/chat", json={"model": MODEL, "messages": []})
    assert loaded.json()["done_reason"] == "load"
    unloaded = httpx.post(
        f"{embedded.base_url}/api/chat", json={"model": MODEL, "messages": [], "keep_alive": 0}
    )
    assert unloaded.json()["done_reason"] == "unload"
    assert httpx.get(f"{embedded.base_url}/api/ps").json()["models"] == []


def test_standalone_record_dir(embedded: Gateway, record_dirs: tuple[Path, Path]) -> None:
    """The standalone gateway's --record dir holds a session trace of unattributed calls."""
    httpx.post(
        f"{embedded.base_url}/api/generate",
        json={"model": MODEL, "prompt": "Hi", "stream": False, "options": SHORT},
    )
    paths = list(record_dirs[0].glob("*-gateway-session-*.jsonl"))
    events = [json.loads(line) for p in paths for line in p.read_text().splitlines()]
    assert any(e["kind"] == "llm_call" and e["operation"] == "generate" for e in events)


def test_proxy_streams_without_buffering(proxy: Gateway, run: TraceRecorder) -> None:
    """Through the proxy, streamed chunks arrive as generated: first content well before the end."""
    import ollama

    chunks = list(
        ollama.Client(host=proxy.agent_url(run.run_id, "a")).chat(
            model=MODEL,
            messages=_ask("Tell me about the sea."),
            options={**SHORT, "num_predict": 48},
            stream=True,
            format=ENDLESS,
        )
    )
    assert chunks[-1].eval_count == 48 and 2 <= len(chunks) - 1 <= 48
    (call,) = _events(run, "llm_call")
    assert call["upstream"] == "ollama" and call["streamed"] is True
    assert call["ttft_ms"] < 0.7 * call["latency_ms"]


def test_stop_sequence_ends_the_answer(embedded: Gateway) -> None:
    """A stop sequence ends the answer before it, streamed or not, with done_reason stop."""
    import ollama

    client = ollama.Client(host=embedded.base_url)
    options = {"temperature": 0, "num_predict": 64, "stop": [" "]}
    whole = client.chat(model=MODEL, messages=_ask("Say hello to the world."), options=options)
    chunks = list(
        client.chat(
            model=MODEL, messages=_ask("Say hello to the world."), options=options, stream=True
        )
    )
    streamed = "".join(c.message.content for c in chunks)
    assert whole.done_reason == "stop" and " " not in whole.message.content
    assert streamed == whole.message.content


def test_pull_of_a_served_model_succeeds(embedded: Gateway) -> None:
    """`ollama pull` of the embedded model succeeds; of another model, fails with the fix."""
    import ollama

    client = ollama.Client(host=embedded.base_url)
    assert client.pull(MODEL).status == "success"
    with pytest.raises(ollama.ResponseError, match="models folder"):
        client.pull("llama3.1:8b")


def test_concurrent_requests_queue_and_both_complete(embedded: Gateway) -> None:
    """Two requests at once to one model are served one after the other, both whole."""
    from concurrent.futures import ThreadPoolExecutor

    import ollama

    client = ollama.Client(host=embedded.base_url)

    def ask(text: str) -> Any:
        return client.chat(model=MODEL, messages=_ask(text), options=SHORT, format=ENDLESS)

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(ask, ["Write a story about a cat.", "Write a story about a dog."]))
    assert [r.eval_count for r in replies] == [SHORT["num_predict"]] * 2
    assert all(r.message.content and r.done_reason == "length" for r in replies)


def test_client_disconnect_stops_generation(
    embedded: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that hangs up mid-stream cancels its generation, which frees the model."""
    caplog.set_level(logging.INFO, logger="gateway")
    limit = 1000  # the format forbids ending sooner: only a cancel stops it before this
    endless = {
        "model": MODEL,
        "prompt": "Write a very long story.",
        "format": {"type": "string", "minLength": 4000},
        "options": {"num_predict": limit, "temperature": 0},
    }
    with httpx.stream("POST", f"{embedded.base_url}/api/generate", json=endless) as stream:
        lines = stream.iter_lines()
        next(lines), next(lines)
    reply = httpx.post(
        f"{embedded.base_url}/api/chat",
        timeout=300,
        json={"model": MODEL, "messages": _ask("Hi"), "stream": False, "options": SHORT},
    )
    assert reply.status_code == 200 and reply.json()["done"]
    (line,) = [r.getMessage() for r in caplog.records if "generation cancelled" in r.getMessage()]
    tokens = int(line.split("after ")[1].split(" tokens")[0])
    assert tokens < limit, line
