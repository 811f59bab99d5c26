"""Upstream `ollama`: a streaming pass-through to a real Ollama (or any server behind it).

Bytes are forwarded as they arrive (no buffering, no re-encoding), `/v1/*` included, so an
OpenAI-compatible server such as vLLM can sit behind it too. One httpx client per event
loop, since connection pools cannot cross loops.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import httpx

from gateway.hosts import ollama_host
from gateway.upstreams.base import Reply, Upstream, error_reply

FORWARDED_HEADERS = ("content-type", "accept", "authorization", "user-agent")
TIMEOUT = httpx.Timeout(connect=5.0, read=None, write=30.0, pool=None)


def describe_error(exc: Exception) -> str:
    """A short reason for a connection failure (e.g. 'connection refused')."""
    text = str(exc).lower()
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "getaddrinfo" in text:
        return "unknown host"
    return str(exc) or type(exc).__name__


class OllamaUpstream(Upstream):
    """Forwards every request to the Ollama at `host`."""

    kind = "ollama"

    def __init__(self, host: str | None = None) -> None:
        self.host = ollama_host(host)
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    def describe(self) -> str:
        """One line naming the upstream."""
        return f"Ollama at {self.host}"

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        for other in list(self._clients):  # gateways on other threads may add theirs meanwhile
            if other.is_closed():  # a loop that ended without aclose: let loop and client go
                self._clients.pop(other, None)
        client = self._clients.get(loop)
        if client is None:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            client = httpx.AsyncClient(base_url=self.host, timeout=TIMEOUT, limits=limits)
            self._clients[loop] = client
        return client

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        """Send the request on and stream the answer back chunk by chunk."""
        client = self._client()
        sent = {k: v for k, v in headers.items() if k.lower() in FORWARDED_HEADERS}
        sent["accept-encoding"] = "identity"
        request = client.build_request(method, path, content=body or None, headers=sent)
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            return error_reply(f"cannot reach Ollama at {self.host} ({describe_error(exc)})", 502)
        media_type = response.headers.get("content-type", "application/json")
        length = response.headers.get("content-length")
        sized = (
            {"content-length": length}
            if length and "transfer-encoding" not in response.headers
            else {}
        )
        return Reply(
            response.status_code, media_type, _body(response), headers=sized, aclose=response.aclose
        )

    async def aclose(self) -> None:
        """Close the client of the current loop (the gateway's app does so as it shuts down)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


async def _body(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()
