"""The wire facts the whole gateway shares: endpoints, attribution headers, routes, framing.

Each rule lives here once: which endpoints are model calls, how a request path becomes a
route, whether a request is streamed (Ollama streams unless told not to, `/v1` only when
asked), and how NDJSON lines and server-sent events are framed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

NDJSON = "application/x-ndjson"
JSON = "application/json"
SSE = "text/event-stream"
RUN_HEADER = "x-lab-run"
AGENT_HEADER = "x-lab-agent"
OPENAI_PREFIX = "/v1/"
OPERATIONS = {
    "/api/chat": "chat",
    "/api/generate": "generate",
    "/api/embed": "embed",
    "/v1/chat/completions": "chat",
}


def route(path: str) -> str:
    """The endpoint of a request path: no query string, no trailing slash (`/` stays)."""
    return path.split("?", 1)[0].rstrip("/") or "/"


def is_openai(endpoint: str) -> bool:
    """Whether an endpoint is on the OpenAI-compatible surface (`/v1/...`)."""
    return endpoint.startswith(OPENAI_PREFIX)


def is_streamed(endpoint: str, request: Mapping[str, Any]) -> bool:
    """Whether the client asked for a streamed answer (Ollama streams by default)."""
    if endpoint == "/api/embed":
        return False
    if is_openai(endpoint):
        return bool(request.get("stream", False))
    return bool(request.get("stream", True))


def utc_iso(ts: float | None = None) -> str:
    """An RFC 3339 UTC time (now by default) as Ollama writes `created_at`."""
    moment = datetime.fromtimestamp(ts if ts is not None else time.time(), UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def ndjson_line(obj: Any) -> bytes:
    """One NDJSON line."""
    return json.dumps(obj).encode() + b"\n"


def sse_event(obj: Any) -> bytes:
    """One server-sent event carrying JSON (or the literal `[DONE]`)."""
    data = obj if isinstance(obj, str) else json.dumps(obj)
    return f"data: {data}\n\n".encode()


def native_error(message: str) -> dict[str, Any]:
    """Ollama's error object: `{"error": message}`."""
    return {"error": message}


def openai_stream_error(message: str) -> dict[str, Any]:
    """The error object an OpenAI-compatible stream (or answer) ends with."""
    return {"error": {"message": message, "type": "api_error"}}


def error_chunk(endpoint: str, message: str) -> bytes:
    """The error a broken stream ends with: an NDJSON line, or an SSE event on `/v1`."""
    if is_openai(endpoint):
        return sse_event(openai_stream_error(message))
    return ndjson_line(native_error(message))
