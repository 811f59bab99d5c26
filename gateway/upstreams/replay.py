"""Upstream `replay`: the Ollama API answered from a trace's recorded `llm_call` events.

No model runs and nothing is contacted. A model request is matched to a recorded call by
its normalized content (`traces.replay.Matcher`, tolerant of the order parallel branches
ask in) and the recorded answer becomes answer events (word-sized tokens, its tool calls,
its end) sent by the same encoders as a live answer, the way the client asked for it: NDJSON
chunks when an Ollama client streams, SSE on `/v1` when an OpenAI client streams, one JSON
object otherwise. A request that matches nothing is a divergence: the client gets an error, and
`divergence` says which call, which agent, and how the request differs.

`ForkUpstream` serves the first N model calls from the recording and forwards the rest to
a live upstream (embedded or Ollama); each reply's `info["upstream"]` names the side that
answered, so each `llm_call` of the new trace carries `upstream: "replay"` or the live kind.

The agent of a request comes from the `X-Lab-Agent` header, which the gateway sets from
the request's attribution (path prefix or header) before it calls `request`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.answer import AnswerEvent, Done, Token, ToolCalls, event_stream
from gateway.upstreams.base import (
    Reply,
    Upstream,
    chunks_of,
    error_reply,
    json_object,
    json_reply,
    openai_error_reply,
)
from gateway.upstreams.encoders import answer_reply
from gateway.wire import AGENT_HEADER, OPERATIONS, is_openai, route
from traces.reader import Trace
from traces.replay import DivergedError, Divergence, Matcher, RecordedCall, recorded_calls

VERSION = "0.0.0-replay"
PIECE = re.compile(r"\s*\S+\s*|\s+")
DIVERGED_STATUS = 400  # a client error: no client retries it, every client surfaces it
REPLAY_CALL_ID = "call_replay"  # the id of a recorded OpenAI tool call that came without one


def pieces(text: str) -> list[str]:
    """Text cut into word-sized stream pieces that join back to exactly the text."""
    return PIECE.findall(text) or [""]


class ReplayUpstream(Upstream):
    """Answers model calls from a recording; a request it cannot match is a divergence."""

    kind = "replay"

    def __init__(self, calls: Iterable[RecordedCall], aliases: Mapping[str, str] | None = None):
        self.matcher = Matcher(list(calls), dict(aliases or {}))
        self.tags = sorted({str(c.event.get("model")) for c in self.matcher.calls} - {"None"})

    @classmethod
    def from_trace(cls, trace: Trace, aliases: Mapping[str, str] | None = None) -> ReplayUpstream:
        """The upstream replaying every `llm_call` of a trace."""
        return cls(recorded_calls(trace), aliases)

    @property
    def divergence(self) -> Divergence | None:
        """The first request that matched no recorded call, or None."""
        return self.matcher.divergence

    @property
    def served(self) -> int:
        """How many recorded calls were served."""
        return self.matcher.served

    def describe(self) -> str:
        """One line naming the upstream."""
        return f"replay of {len(self.matcher.calls)} recorded model calls"

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        """Answer one request from the recording."""
        endpoint = route(path)
        if method == "POST" and endpoint in OPERATIONS:
            return self._model_call(endpoint, body, headers.get(AGENT_HEADER))
        if method == "GET" and endpoint == "/api/version":
            return json_reply({"version": VERSION})
        if method == "GET" and endpoint in ("/api/tags", "/api/ps"):
            return json_reply({"models": [self._entry(t) for t in self.tags]})
        if method == "POST" and endpoint == "/api/show":
            return self._show(json_object(body) or {})
        if method == "GET" and endpoint == "/v1/models":
            data = [
                {"id": t, "object": "model", "created": 0, "owned_by": "replay"} for t in self.tags
            ]
            return json_reply({"object": "list", "data": data})
        return Reply(404, "text/plain", chunks_of([b"404 page not found"]))

    def _entry(self, tag: str) -> dict[str, Any]:
        return {"name": tag, "model": tag, "size": 0, "digest": "", "details": _details()}

    def _show(self, body: dict[str, Any]) -> Reply:
        tag = body.get("model") or body.get("name")
        if tag not in self.tags:
            return error_reply(f"model '{tag}' not found in the recording", 404)
        return json_reply(
            {
                "modelfile": "# replayed from a trace (scenario lab gateway)\n",
                "parameters": "",
                "template": "",
                "details": _details(),
                "model_info": {},
                "capabilities": ["completion", "tools"],
            }
        )

    def _model_call(self, endpoint: str, body: bytes, agent: str | None) -> Reply:
        payload = json_object(body) or {}
        try:
            call = self.matcher.match(endpoint, agent, payload)
        except DivergedError as exc:
            detail = str(exc) if exc.after else f"{exc}\n{exc.divergence.diff}"
            return _error(endpoint, detail, DIVERGED_STATUS)
        return answer(call, endpoint, payload)


def answer(call: RecordedCall, endpoint: str, request: dict[str, Any]) -> Reply:
    """The recorded answer of a call, in the wire form the request asks for."""
    event = call.event
    if event.get("status") == "error" or event.get("error"):
        return _error(endpoint, str(event.get("error") or "recorded error"), 500)
    if endpoint == "/api/embed":
        return _error(endpoint, "replay cannot serve /api/embed: a trace holds no vectors", 501)
    model = str(request.get("model") or event.get("model") or "")
    events = event_stream(recorded_events(event, endpoint))
    reply = answer_reply(endpoint, request, model, events)
    metrics = dict(event.get("metrics") or {})
    reply.info.update({"metrics": metrics, "upstream": "replay", "replayed_call": call.number})
    return reply


def recorded_events(event: dict[str, Any], endpoint: str) -> list[AnswerEvent]:
    """The events a recorded answer replays as: word-sized tokens, its tool calls, its end."""
    response = event.get("response") or {}
    message = response.get("message") or {}
    text = str(message.get("content") or response.get("response") or "")
    calls = list(message.get("tool_calls") or [])
    if is_openai(endpoint):  # an OpenAI server that sent a call without an id
        calls = [{**c, "id": c.get("id") or REPLAY_CALL_ID} for c in calls]
    events: list[AnswerEvent] = [Token(piece) for piece in pieces(text)]
    if calls:
        events.append(ToolCalls(tuple(calls)))
    # On /v1 the recorded done_reason is the finish_reason sent; the encoder gives it back.
    events.append(Done(event.get("done_reason") or "stop", dict(event.get("metrics") or {})))
    return events


class ForkUpstream(Upstream):
    """The first `fork_from` model calls from a recording, every later one from `live`."""

    kind = "fork"

    def __init__(self, replay: ReplayUpstream, live: Upstream, fork_from: int) -> None:
        self.replay = replay
        self.live = live
        self.fork_from = fork_from
        self._asked = 0
        self._lock = threading.Lock()

    @property
    def live_calls(self) -> int:
        """How many model calls went to the live upstream."""
        return max(0, self._asked - self.fork_from)

    def describe(self) -> str:
        """One line naming both sides."""
        return f"{self.replay.describe()}, then {self.live.describe()}"

    def default_num_ctx(self, model: str) -> int | None:
        """The live upstream's default context size."""
        return self.live.default_num_ctx(model)

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        """A model call goes to the recording or live by its number; the rest as they fall."""
        if method == "POST" and route(path) in OPERATIONS:
            with self._lock:
                self._asked += 1
                recorded = self._asked <= self.fork_from
            if not recorded:
                reply = await self.live.request(method, path, body, headers)
                reply.info.setdefault("upstream", self.live.kind)
                return reply
            return await self.replay.request(method, path, body, headers)
        if self._asked < self.fork_from:
            return await self.replay.request(method, path, body, headers)
        return await self.live.request(method, path, body, headers)

    async def aclose(self) -> None:
        """Release the live upstream's connections."""
        await self.live.aclose()


def _error(endpoint: str, message: str, status: int) -> Reply:
    if is_openai(endpoint):
        return openai_error_reply(message, status)
    return error_reply(message, status)


def _details() -> dict[str, Any]:
    return {"format": "gguf", "family": "replay", "parameter_size": "", "quantization_level": ""}
