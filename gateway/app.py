"""The gateway's ASGI app: the Ollama API in front of one upstream, recording every call.

Attribution: a request path may start with `/r/<run id>/a/<agent>` (for clients that only
let you set a base URL), or carry the headers `X-Lab-Run` and `X-Lab-Agent`; the rest of
the path is the Ollama or OpenAI endpoint. Unprefixed requests are served the same way.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.recording import Assembler, Call, Recorders, assembler_for, record
from gateway.upstreams.base import Reply, Upstream, error_reply, json_object
from gateway.wire import AGENT_HEADER, OPERATIONS, RUN_HEADER, error_chunk
from traces.recorder import TraceRecorder

PREFIX = re.compile(r"^/r/(?P<run>[^/]+)/a/(?P<agent>[^/]+)(?P<rest>/.*)?$")
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]
log = logging.getLogger("gateway")


@dataclass(frozen=True)
class Attribution:
    """Which run and agent made a request, and the endpoint path it asked for."""

    run_id: str | None
    agent: str | None
    path: str


def parse_attribution(path: str, headers: Mapping[str, str] | None = None) -> Attribution:
    """Split `/r/<run>/a/<agent>/api/chat` into run, agent and `/api/chat`; headers fill gaps."""
    headers = headers or {}
    match = PREFIX.match(path)
    if match:
        rest = match.group("rest") or "/"
        return Attribution(unquote(match.group("run")), unquote(match.group("agent")), rest)
    return Attribution(headers.get(RUN_HEADER) or None, headers.get(AGENT_HEADER) or None, path)


def upstream_headers(headers: Mapping[str, str], attribution: Attribution) -> dict[str, str]:
    """The request's headers with its run and agent (from the path prefix too) made explicit."""
    merged = dict(headers)
    if attribution.run_id:
        merged[RUN_HEADER] = attribution.run_id
    if attribution.agent:
        merged[AGENT_HEADER] = attribution.agent
    return merged


class GatewayApp:
    """Routes every request to the upstream; records model calls on the way back."""

    def __init__(self, upstream: Upstream, recorders: Recorders) -> None:
        self.upstream = upstream
        self.recorders = recorders

    async def handle(self, request: Request) -> Response:
        """Handle one request, whatever its path."""
        started = time.perf_counter()
        attribution = parse_attribution(request.url.path, request.headers)
        path = attribution.path
        if path == "/" and request.method in ("GET", "HEAD"):
            return PlainTextResponse("Ollama is running")
        body = await request.body()
        headers = upstream_headers(request.headers, attribution)
        target = f"{path}?{request.url.query}" if request.url.query else path
        recorder = None
        if request.method == "POST" and path in OPERATIONS:
            recorder = self.recorders.recorder_for(attribution.run_id)
        payload = json_object(body) if recorder is not None else None
        if recorder is None or payload is None:
            return _plain(await self._send(request.method, target, body, headers))
        call = Call(path, payload, attribution.agent, self.upstream.kind, started=started)
        recorder.signal("llm_started", agent=call.agent, model=call.model, call_id=call.call_id)
        reply = await self._send(request.method, target, body, headers)
        return StreamingResponse(
            self._relay(reply, call, recorder),
            status_code=reply.status,
            media_type=reply.media_type,
            headers=reply.headers,
        )

    async def _send(
        self, method: str, target: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        try:
            return await self.upstream.request(method, target, body, headers)
        except Exception as exc:
            log.exception("upstream failed")
            return error_reply(f"upstream failed: {str(exc) or type(exc).__name__}", 502)

    async def aclose(self) -> None:
        """Release the upstream's connections on this (the server's) event loop."""
        try:
            await self.upstream.aclose()
        except Exception:
            log.exception("could not close the upstream's connections")

    async def _relay(
        self, reply: Reply, call: Call, recorder: TraceRecorder
    ) -> AsyncIterator[bytes]:
        """Stream the reply on; record the call as soon as its final chunk is seen."""
        assembler = assembler_for(call.endpoint)
        recorded = False
        try:
            async for chunk in reply.chunks:
                if assembler.feed(chunk) and call.first_content is None:
                    call.first_content = time.perf_counter()
                if assembler.complete and not recorded:
                    recorded = self._record(recorder, call, assembler, reply)
                yield chunk
        except (GeneratorExit, asyncio.CancelledError):
            assembler.fail("client disconnected")
            raise
        except Exception as exc:
            message = f"upstream stream broke: {str(exc) or type(exc).__name__}"
            assembler.fail(message)
            if not recorded:
                assembler.finish()
                recorded = self._record(recorder, call, assembler, reply)
            if "content-length" not in reply.headers:
                yield error_chunk(call.endpoint, message)
        finally:
            await reply.aclose()
            if not recorded:
                assembler.finish()
                self._record(recorder, call, assembler, reply)

    def _record(
        self, recorder: TraceRecorder, call: Call, assembler: Assembler, reply: Reply
    ) -> bool:
        try:
            default = self.upstream.default_num_ctx(call.model) if call.model else None
            record(recorder, call, assembler, reply.info, reply.status, default)
        except Exception:
            log.exception("could not record llm_call %s", call.call_id)
        return True


def _plain(reply: Reply) -> Response:
    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in reply.chunks:
                yield chunk
        finally:
            await reply.aclose()

    return StreamingResponse(
        relay(), status_code=reply.status, media_type=reply.media_type, headers=reply.headers
    )


def create_app(upstream: Upstream, recorders: Recorders | None = None) -> Starlette:
    """The Starlette app serving the Ollama API (and `/v1`) in front of `upstream`.

    Its lifespan shutdown closes the upstream's connections of the loop that served it (an
    upstream may outlive the app and serve a later one on another loop).
    """
    handler = GatewayApp(upstream, recorders or Recorders())
    routes = [Route("/{path:path}", handler.handle, methods=METHODS)]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await handler.aclose()

    return Starlette(routes=routes, lifespan=lifespan)
