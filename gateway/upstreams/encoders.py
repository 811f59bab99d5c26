"""The gateway's one pair of answer encoders: answer events as Ollama or OpenAI bytes.

`answer_reply` is what the embedded and the replay upstreams both call, so a replayed
answer is sent exactly as a live one with the same events. The native encoder writes
Ollama's `/api/chat` (`message`) or `/api/generate` (`response`) objects, as NDJSON lines or
one JSON object; the OpenAI encoder writes `chat.completion.chunk` server-sent events (usage
when asked, then `[DONE]`) or one `chat.completion`. The end's metrics and num_ctx also go
to `Reply.info`, since the OpenAI wire cannot carry them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from gateway import openai_compat
from gateway.answer import AnswerEvent, Done, EventStream, Token, ToolCalls, gather
from gateway.upstreams.base import Reply
from gateway.wire import (
    JSON,
    NDJSON,
    SSE,
    is_openai,
    is_streamed,
    native_error,
    ndjson_line,
    openai_stream_error,
    sse_event,
    utc_iso,
)


def native_field(endpoint: str) -> str:
    """Where a native answer's text goes: `response` on `/api/generate`, else `message`."""
    return "response" if endpoint == "/api/generate" else "message"


def native_piece(
    field: str, text: str, calls: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The answer part of a native object: `{"response": text}` or the assistant `message`."""
    if field == "response":
        return {"response": text}
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    return {"message": message}


def _record(info: dict[str, Any], done: Done) -> None:
    info["metrics"] = dict(done.metrics)
    info["num_ctx"] = done.num_ctx


class NativeEncoder:
    """Answer events as Ollama `/api/chat` or `/api/generate` objects."""

    def __init__(self, model: str, field: str, info: dict[str, Any]) -> None:
        self.model, self.field, self.info = model, field, info

    def _obj(self, text: str, calls: list[dict[str, Any]] | None, done: bool) -> dict[str, Any]:
        piece = native_piece(self.field, text, calls)
        return {"model": self.model, "created_at": utc_iso(), **piece, "done": done}

    def _final(self, text: str, calls: list[dict[str, Any]], done: Done) -> dict[str, Any]:
        """The last object: the last piece, `done: true`, `done_reason` and the metrics."""
        _record(self.info, done)
        return {**self._obj(text, calls, True), "done_reason": done.done_reason, **done.metrics}

    async def stream(self, events: AsyncIterator[AnswerEvent]) -> AsyncIterator[bytes]:
        """NDJSON lines: one per token or tool-call batch, then the final with metrics."""
        async for event in events:
            if isinstance(event, Token):
                yield ndjson_line(self._obj(event.text, None, False))
            elif isinstance(event, ToolCalls):
                yield ndjson_line(self._obj("", list(event.calls), False))
            elif isinstance(event, Done):
                yield ndjson_line(self._final("", [], event))
            else:
                yield ndjson_line(native_error(event.message))

    async def whole(self, events: AsyncIterator[AnswerEvent]) -> AsyncIterator[bytes]:
        """One JSON object with the whole answer (or `{"error": ...}`)."""
        answer = await gather(events)
        if isinstance(answer.end, Done):
            yield json.dumps(self._final(answer.text, answer.calls, answer.end)).encode()
        else:
            yield json.dumps(native_error(answer.end.message)).encode()


class OpenAIEncoder:
    """Answer events as OpenAI chat-completions objects (SSE chunks or one completion)."""

    def __init__(self, model: str, info: dict[str, Any], include_usage: bool) -> None:
        self.completion = openai_compat.Completion(model)
        self.info, self.include_usage = info, include_usage

    async def stream(self, events: AsyncIterator[AnswerEvent]) -> AsyncIterator[bytes]:
        """SSE: a role chunk, content/tool-call deltas, the finish chunk, usage, [DONE].

        An empty token carries nothing on this wire, so it makes no chunk.
        """
        c = self.completion
        yield sse_event(c.chunk({"role": "assistant", "content": ""}))
        has_calls = False
        async for event in events:
            if isinstance(event, Token):
                if event.text:
                    yield sse_event(c.chunk({"content": event.text}))
            elif isinstance(event, ToolCalls):
                has_calls = True
                calls = openai_compat.openai_tool_calls(list(event.calls), stream=True)
                yield sse_event(c.chunk({"tool_calls": calls}))
            elif isinstance(event, Done):
                _record(self.info, event)
                reason = openai_compat.finish_reason(event.done_reason, has_calls)
                yield sse_event(c.chunk({}, reason))
                if self.include_usage:
                    yield sse_event(c.usage_chunk(event.metrics))
            else:
                yield sse_event(openai_stream_error(event.message))
        yield sse_event("[DONE]")

    async def whole(self, events: AsyncIterator[AnswerEvent]) -> AsyncIterator[bytes]:
        """One `chat.completion` object."""
        answer = await gather(events)
        if not isinstance(answer.end, Done):
            yield json.dumps(openai_stream_error(answer.end.message)).encode()
            return
        _record(self.info, answer.end)
        done = answer.end
        whole = self.completion.whole(answer.text, answer.calls, done.done_reason, done.metrics)
        yield json.dumps(whole).encode()


def answer_reply(
    endpoint: str, request: Mapping[str, Any], model: str, events: EventStream
) -> Reply:
    """The 200 reply carrying an answer's events in the wire form the request asks for."""
    info: dict[str, Any] = {}
    encoder: NativeEncoder | OpenAIEncoder
    if is_openai(endpoint):
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        encoder, media_type = OpenAIEncoder(model, info, include_usage), SSE
    else:
        encoder, media_type = NativeEncoder(model, native_field(endpoint), info), NDJSON
    if is_streamed(endpoint, request):
        return Reply(200, media_type, encoder.stream(events), info=info, aclose=events.aclose)
    return Reply(200, JSON, encoder.whole(events), info=info, aclose=events.aclose)
