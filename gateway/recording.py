"""Wire recording: each model exchange through the gateway becomes one `llm_call` event.

An `Assembler` reads the response bytes as they stream by (NDJSON, SSE or one JSON object)
and rebuilds the whole answer, its `done_reason` and Ollama metrics. `Recorders` picks the
trace: the live run's recorder (`traces.recorder.lookup`), else, when the gateway was
started with `record_dir`, a trace file of the gateway's own per run id (or one session
file for unattributed calls, and for run ids that are not safe in a file name).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.context import is_truncated
from gateway.openai_compat import usage_metrics
from gateway.wire import OPERATIONS, is_openai, is_streamed
from traces import recorder as trace_recorder
from traces.recorder import TraceRecorder
from traces.schema import LLM_CALL, METRIC_KEYS, WARNING

SAFE_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # `new_run_id` makes 12 hex characters
log = logging.getLogger("gateway")


def new_call_id() -> str:
    """A unique id for one model call."""
    return uuid.uuid4().hex


class Assembler:
    """Rebuilds one answer from its streamed bytes; subclasses parse one wire format."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.content = ""
        self.role = "assistant"
        self.tool_calls: list[dict[str, Any]] = []
        self.done_reason: str | None = None
        self.metrics: dict[str, int] = {}
        self.error: str | None = None
        self.embeddings_count = 0
        self.complete = False
        self._buffer = b""

    def feed(self, chunk: bytes) -> bool:
        """Take the next bytes; True when they carried content (for time to first token)."""
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        carried = any([self._line(line.strip()) for line in lines if line.strip()])
        if self._buffer.endswith(b"}") and _json(self._buffer) is not None:
            rest, self._buffer = self._buffer, b""
            carried = self._line(rest) or carried
        return carried

    def finish(self) -> None:
        """Parse whatever is left (a body without a trailing newline)."""
        rest, self._buffer = self._buffer.strip(), b""
        if rest:
            self._line(rest)

    def fail(self, message: str) -> None:
        """Note an error seen outside the body (a broken stream)."""
        self.error = self.error or message

    def _line(self, line: bytes) -> bool:
        raise NotImplementedError

    def response(self) -> dict[str, Any]:
        """The assembled response, as the `llm_call` event carries it."""
        if self.operation == "embed":
            return {"embeddings_count": self.embeddings_count}
        if self.operation == "generate":
            return {"response": self.content}
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        return {"message": message}


class OllamaAssembler(Assembler):
    """Ollama's native answers: NDJSON lines, or one JSON object when not streamed."""

    def _line(self, line: bytes) -> bool:
        obj = _json(line)
        if not isinstance(obj, dict):
            return False
        if "error" in obj:
            self.error = str(obj["error"])
            self.complete = True
            return False
        if self.operation == "embed":
            self.embeddings_count = len(obj.get("embeddings") or [])
        message = obj.get("message") or {}
        piece = message.get("content") or obj.get("response") or ""
        self.content += piece
        self.role = message.get("role", self.role)
        self.tool_calls.extend(message.get("tool_calls") or [])
        if obj.get("done") or self.operation == "embed":
            self.complete = True
            self.done_reason = obj.get("done_reason")
            self.metrics.update({k: int(obj[k]) for k in METRIC_KEYS if obj.get(k) is not None})
        return bool(piece or message.get("tool_calls"))


class OpenAIAssembler(Assembler):
    """OpenAI chat completions: SSE `data:` lines when streamed, else one JSON object."""

    def _line(self, line: bytes) -> bool:
        if line.startswith(b"data:"):
            line = line[5:].strip()
        if line == b"[DONE]":
            self.complete = True
            return False
        if line.startswith((b"event:", b":")):
            return False
        obj = _json(line)
        if not isinstance(obj, dict):
            return False
        if obj.get("error"):
            error = obj["error"]
            self.error = str(error.get("message", error) if isinstance(error, dict) else error)
            self.complete = True
            return False
        if usage := obj.get("usage"):
            self.metrics.update(usage_metrics(usage))
        carried = False
        for choice in obj.get("choices") or []:
            carried |= self._choice(choice)
        if obj.get("object") == "chat.completion":
            self.complete = True
        return carried

    def _choice(self, choice: dict[str, Any]) -> bool:
        part = choice.get("delta") or choice.get("message") or {}
        self.done_reason = choice.get("finish_reason") or self.done_reason
        self.role = part.get("role") or self.role
        piece = part.get("content") or ""
        self.content += piece
        for call in part.get("tool_calls") or []:
            self._merge_call(call)
        return bool(piece or part.get("tool_calls"))

    def _merge_call(self, call: dict[str, Any]) -> None:
        index = call.get("index", len(self.tool_calls))
        while len(self.tool_calls) <= index:
            self.tool_calls.append(
                {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
            )
        slot = self.tool_calls[index]
        slot["id"] = call.get("id") or slot["id"]
        function = call.get("function") or {}
        slot["function"]["name"] += function.get("name") or ""
        slot["function"]["arguments"] += function.get("arguments") or ""


def _json(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def assembler_for(endpoint: str) -> Assembler:
    """The assembler for an endpoint's wire format."""
    operation = OPERATIONS[endpoint]
    if is_openai(endpoint):
        return OpenAIAssembler(operation)
    return OllamaAssembler(operation)


@dataclass
class Call:
    """One exchange in flight: what was asked, by whom, and when."""

    endpoint: str
    request: dict[str, Any]
    agent: str | None
    upstream: str
    started: float = field(default_factory=time.perf_counter)
    call_id: str = field(default_factory=new_call_id)
    first_content: float | None = None

    @property
    def model(self) -> str | None:
        """The model as requested."""
        return self.request.get("model")

    def num_ctx(self) -> int | None:
        """The num_ctx the request set, if any."""
        options = self.request.get("options")
        value = options.get("num_ctx") if isinstance(options, dict) else None
        return int(value) if isinstance(value, int | float) else None


def metrics_of(assembler: Assembler, info: dict[str, Any], latency_ms: float) -> dict[str, int]:
    """All six Ollama metrics: from the wire, else the upstream's side channel, else usage."""
    metrics = {k: 0 for k in METRIC_KEYS}
    wire = {k: v for k, v in assembler.metrics.items() if k in METRIC_KEYS}
    if "total_duration" not in wire and info.get("metrics"):
        wire = {**wire, **info["metrics"]}
    metrics.update(wire)
    if not metrics["total_duration"] and "total_duration" not in wire and not assembler.error:
        metrics["total_duration"] = int(latency_ms * 1e6)
    return {k: int(v) for k, v in metrics.items()}


def llm_call_fields(
    call: Call, assembler: Assembler, info: dict[str, Any], http_status: int
) -> dict[str, Any]:
    """The fields of one `llm_call` event."""
    latency_ms = (time.perf_counter() - call.started) * 1000
    error = assembler.error or (f"HTTP {http_status}" if http_status >= 400 else None)
    streamed = is_streamed(call.endpoint, call.request)
    ttft = (call.first_content - call.started) * 1000 if streamed and call.first_content else None
    return {
        "call_id": call.call_id,
        "agent": call.agent,
        "model": call.model,
        "operation": OPERATIONS[call.endpoint],
        "endpoint": call.endpoint,
        "streamed": streamed,
        "request": call.request,
        "response": assembler.response(),
        "done_reason": assembler.done_reason,
        "metrics": metrics_of(assembler, info, latency_ms),
        "latency_ms": round(latency_ms, 3),
        "ttft_ms": round(ttft, 3) if ttft is not None else None,
        "upstream": info.get("upstream", call.upstream),
        "status": "error" if error else "ok",
        "error": error,
    }


def truncation_warning(fields: dict[str, Any], num_ctx: int | None) -> dict[str, Any] | None:
    """The `context_truncated` warning fields when the prompt filled the window, else None."""
    count = fields["metrics"].get("prompt_eval_count")
    if fields["operation"] == "embed" or not is_truncated(count, num_ctx):
        return None
    return {
        "code": "context_truncated",
        "agent": fields["agent"],
        "model": fields["model"],
        "prompt_eval_count": count,
        "num_ctx": num_ctx,
        "message": (
            f"prompt of {count} tokens filled the context window (num_ctx {num_ctx}): "
            "the oldest part was cut; raise num_ctx in the model profile"
        ),
    }


class Recorders:
    """Finds the trace an exchange belongs to, opening the gateway's own when recording."""

    def __init__(self, record_dir: Path | None = None) -> None:
        self.record_dir = Path(record_dir) if record_dir else None
        self.session_id = trace_recorder.new_run_id()
        self._own: dict[str, TraceRecorder] = {}
        self._unsafe: set[str] = set()
        self._lock = threading.Lock()

    def recorder_for(self, run_id: str | None) -> TraceRecorder | None:
        """The live run's recorder, else the gateway's own trace when recording, else None."""
        live = trace_recorder.lookup(run_id)
        if live is not None or self.record_dir is None:
            return live
        with self._lock:
            if run_id and not SAFE_RUN_ID.fullmatch(run_id):
                if run_id not in self._unsafe:
                    self._unsafe.add(run_id)
                    log.warning(
                        "run id %r is not a safe file name: using the session trace", run_id
                    )
                run_id = None
            key = run_id or self.session_id
            if key not in self._own:
                kind = "run" if run_id else "session"
                path = trace_recorder.trace_path(self.record_dir, "gateway", kind, key)
                self._own[key] = TraceRecorder(path, key)
            return self._own[key]

    def paths(self) -> list[Path]:
        """The trace files the gateway itself wrote."""
        return [r.path for r in self._own.values()]

    def close(self) -> None:
        """Close the gateway's own traces."""
        with self._lock:
            for recorder in self._own.values():
                recorder.close()
            self._own.clear()


def record(
    recorder: TraceRecorder,
    call: Call,
    assembler: Assembler,
    info: dict[str, Any],
    http_status: int,
    default_num_ctx: int | None,
) -> dict[str, Any]:
    """Emit the `llm_call` event (and a `context_truncated` warning); return the call fields."""
    fields = llm_call_fields(call, assembler, info, http_status)
    recorder.emit(LLM_CALL, **fields)
    num_ctx = call.num_ctx() or info.get("num_ctx") or default_num_ctx
    warning = truncation_warning(fields, num_ctx)
    if warning is not None:
        recorder.emit(WARNING, **warning)
    return fields
