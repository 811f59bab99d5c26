"""The upstream interface: what the gateway app forwards each request to.

An upstream answers `request(method, path, body, headers)` with a `Reply`: a status, a
media type and an async iterator of byte chunks, streamed to the client as they come. The
app needs nothing else, so a real Ollama (proxied byte for byte) and the in-process
embedded engine look the same to it. `Reply.info` may carry what the wire cannot (the
embedded engine's metrics behind an OpenAI-shaped answer, the num_ctx it used).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.wire import JSON, native_error


async def _one(chunk: bytes) -> AsyncIterator[bytes]:
    yield chunk


async def chunks_of(items: Iterable[bytes]) -> AsyncIterator[bytes]:
    """The given byte chunks as a reply body."""
    for item in items:
        yield item


async def _nothing() -> None:
    return None


@dataclass
class Reply:
    """An upstream's answer: status, media type, body chunks, and side information."""

    status: int
    media_type: str
    chunks: AsyncIterator[bytes]
    info: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    aclose: Callable[[], Awaitable[None]] = _nothing


def json_reply(obj: Any, status: int = 200) -> Reply:
    """A one-chunk JSON reply."""
    return Reply(status, JSON, _one(json.dumps(obj).encode()))


def error_reply(message: str, status: int) -> Reply:
    """Ollama's error shape: `{"error": message}` with a status code."""
    return json_reply(native_error(message), status)


def openai_error_reply(message: str, status: int) -> Reply:
    """The OpenAI-compatible error shape Ollama uses on `/v1`."""
    error = {"message": message, "type": "api_error", "param": None, "code": None}
    return json_reply({"error": error}, status)


def json_object(body: bytes) -> dict[str, Any] | None:
    """A request body parsed as a JSON object (empty means `{}`); None when it is not one."""
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Upstream(ABC):
    """Where the gateway sends requests: a real Ollama, or the embedded engine."""

    kind: str = "upstream"

    @abstractmethod
    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        """Answer one HTTP request (path includes any query string)."""

    def default_num_ctx(self, model: str) -> int | None:
        """The num_ctx the upstream uses for `model` when a request sets none (None: unknown)."""
        return None

    def describe(self) -> str:
        """One line naming the upstream, for the console."""
        return self.kind

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections opened on the current event loop."""
