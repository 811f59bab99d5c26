"""A scripted Ollama-API server on loopback, for tests of the run harness and the CLI.

It answers `/api/version`, `/api/tags` and `/api/chat` (streamed or not) with replies taken
in order from a script, and Ollama-shaped metrics. It is a test double only.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route


class FakeOllama:
    """Serves scripted chat replies; records every chat request it received."""

    def __init__(
        self,
        replies: Iterable[str],
        models: Iterable[str] = ("smollm2:135m",),
        fail_after: int | None = None,
    ) -> None:
        self.replies = list(replies)
        self.fail_after = fail_after
        self.models = list(models)
        self.requests: list[dict[str, Any]] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = _free_port()

    @property
    def url(self) -> str:
        """The base URL clients use."""
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> Starlette:
        """The Starlette app."""
        return Starlette(
            routes=[
                Route("/api/version", self._version),
                Route("/api/tags", self._tags),
                Route("/api/chat", self._chat, methods=["POST"]),
            ]
        )

    async def _version(self, _request: Request) -> JSONResponse:
        return JSONResponse({"version": "0.0.0-fake"})

    async def _tags(self, _request: Request) -> JSONResponse:
        return JSONResponse({"models": [{"name": m, "model": m} for m in self.models]})

    async def _chat(self, request: Request) -> Any:
        body = await request.json()
        self.requests.append(body)
        if body.get("model") not in self.models:
            return JSONResponse({"error": f"model '{body.get('model')}' not found"}, 404)
        if self.fail_after is not None and len(self.requests) > self.fail_after:
            return JSONResponse({"error": "scripted failure"}, 500)
        text = self.replies.pop(0) if self.replies else "(script exhausted)"
        final = _final_chunk(body["model"], text)
        if body.get("stream", True) is False:
            return JSONResponse({**final, "message": {"role": "assistant", "content": text}})
        return StreamingResponse(
            _stream(body["model"], text, final), media_type="application/x-ndjson"
        )

    def __enter__(self) -> FakeOllama:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _final_chunk(model: str, text: str) -> dict[str, Any]:
    words = len(text.split())
    return {
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 5_000_000,
        "load_duration": 1_000_000,
        "prompt_eval_count": 20,
        "prompt_eval_duration": 1_000_000,
        "eval_count": words,
        "eval_duration": 3_000_000,
    }


async def _stream(model: str, text: str, final: dict[str, Any]) -> AsyncIterator[bytes]:
    words = text.split(" ")
    for i, word in enumerate(words):
        piece = word if i == len(words) - 1 else word + " "
        chunk = {
            "model": model,
            "created_at": final["created_at"],
            "done": False,
            "message": {"role": "assistant", "content": piece},
        }
        yield (json.dumps(chunk) + "\n").encode()
    yield (json.dumps(final) + "\n").encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
