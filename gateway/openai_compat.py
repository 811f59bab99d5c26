"""OpenAI chat-completions shapes, translated to and from Ollama's: one place for each rule.

The request side (messages, options, response_format) becomes an engine job; the answer
side is the tool-call converter, the usage mapper and the finish_reason rule, used by the
one OpenAI encoder (embedded and replay alike) and by the recorder. The Ollama upstream
passes `/v1/*` through verbatim. Tool-call arguments are a JSON string on this side and an
object on Ollama's.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from gateway.job import ChatJob


def ollama_tool_call(call: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI tool call in Ollama's shape (arguments parsed from their JSON text)."""
    function = call.get("function") or {}
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError:
            arguments = {"value": arguments}
    return {"function": {"name": function.get("name", ""), "arguments": arguments or {}}}


def ollama_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI messages in Ollama's shape (tool call arguments parsed, tool names kept)."""
    names: dict[str, str] = {}
    out = []
    for message in messages:
        converted = dict(message)
        calls = message.get("tool_calls") or []
        for call in calls:
            names[call.get("id", "")] = (call.get("function") or {}).get("name", "")
        if calls:
            converted["tool_calls"] = [ollama_tool_call(c) for c in calls]
        if message.get("role") == "tool":
            converted["tool_name"] = names.get(message.get("tool_call_id", ""), "the function")
        out.append(converted)
    return out


def response_format(value: Any) -> Any:
    """Ollama's `format` for an OpenAI `response_format`."""
    if not isinstance(value, dict):
        return None
    if value.get("type") == "json_object":
        return value.get("schema") or "json"
    if value.get("type") == "json_schema":
        return (value.get("json_schema") or {}).get("schema") or "json"
    return None


def options(body: dict[str, Any]) -> dict[str, Any]:
    """Ollama `options` from OpenAI sampling fields."""
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    pairs = {
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "seed": body.get("seed"),
        "stop": body.get("stop"),
        "num_predict": limit,
        "presence_penalty": body.get("presence_penalty"),
        "frequency_penalty": body.get("frequency_penalty"),
    }
    return {k: v for k, v in pairs.items() if v is not None}


def chat_job(body: dict[str, Any]) -> ChatJob:
    """The engine job for an OpenAI chat-completions request."""
    return ChatJob(
        messages=ollama_messages(body.get("messages") or []),
        options=options(body),
        tools=body.get("tools") or None,
        tool_choice=body.get("tool_choice") or "auto",
        format=response_format(body.get("response_format")),
    )


def openai_tool_call(call: dict[str, Any]) -> dict[str, Any]:
    """An Ollama tool call as OpenAI's: its id (a new one if it has none), arguments as text.

    Arguments that already are JSON text (a replayed OpenAI answer) are kept as they are.
    """
    function = call.get("function") or {}
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments or {})
    return {
        "id": call.get("id") or f"call_{uuid.uuid4().hex[:24]}",
        "type": "function",
        "function": {"name": function.get("name", ""), "arguments": arguments},
    }


def openai_tool_calls(calls: list[dict[str, Any]], *, stream: bool) -> list[dict[str, Any]]:
    """Ollama tool calls as OpenAI's; streamed ones carry their `index`."""
    converted = [openai_tool_call(call) for call in calls]
    if not stream:
        return converted
    return [{"index": index, **call} for index, call in enumerate(converted)]


def finish_reason(done_reason: str, has_calls: bool) -> str:
    """OpenAI's finish_reason for an Ollama done_reason."""
    if has_calls:
        return "tool_calls"
    return "length" if done_reason == "length" else "stop"


def usage(metrics: Mapping[str, int]) -> dict[str, int]:
    """OpenAI usage from Ollama metrics (a count not given is 0)."""
    prompt = int(metrics.get("prompt_eval_count") or 0)
    completion = int(metrics.get("eval_count") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def usage_metrics(usage: Mapping[str, Any]) -> dict[str, int]:
    """Ollama's token counts from OpenAI usage (the inverse of `usage`)."""
    return {
        "prompt_eval_count": int(usage.get("prompt_tokens") or 0),
        "eval_count": int(usage.get("completion_tokens") or 0),
    }


class Completion:
    """Builds the OpenAI objects of one completion (shared id, model and time)."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        self.model = model
        self.created = int(time.time())

    def _base(self, obj: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": obj,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_ollama",
        }

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        """A streamed `chat.completion.chunk`."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {**self._base("chat.completion.chunk"), "choices": [choice]}

    def usage_chunk(self, metrics: Mapping[str, int]) -> dict[str, Any]:
        """The last streamed chunk when `stream_options.include_usage` is set."""
        return {**self._base("chat.completion.chunk"), "choices": [], "usage": usage(metrics)}

    def whole(
        self, text: str, calls: list[dict[str, Any]], done_reason: str, metrics: Mapping[str, int]
    ) -> dict[str, Any]:
        """A non-streamed `chat.completion`."""
        message: dict[str, Any] = {"role": "assistant", "content": text or (None if calls else "")}
        if calls:
            message["tool_calls"] = openai_tool_calls(calls, stream=False)
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": finish_reason(done_reason, bool(calls)),
        }
        return {**self._base("chat.completion"), "choices": [choice], "usage": usage(metrics)}
