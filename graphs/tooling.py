"""The agent-turn protocol (`team.turn`) driven with LangChain chat models.

The protocol decides the steps (tool rounds, the structured answer, its retry); this module
makes each model call with LangChain: tools bound with `bind_tools` (the Ollama `tools`
field), the schema asked with `with_structured_output` (a JSON schema, so ChatOllama sends
it as Ollama's `format`), and LangChain's own message objects in the history.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel

from team.turn import (
    Ask,
    AskStructured,
    Parsed,
    Reply,
    ToolCall,
    Turn,
    drive,
    parse_text,
    take_turn,
)
from tools.bind import openai_schema


class LangChainMessages:
    """LangChain's message objects for the protocol's history."""

    def user(self, text: str) -> BaseMessage:
        """A human message."""
        return HumanMessage(text)

    def assistant(self, text: str) -> BaseMessage:
        """An AI message."""
        return AIMessage(text)

    def tool_result(self, call: ToolCall, text: str, fallback_id: str) -> BaseMessage:
        """A tool message answering the call (its id, else a made-up one)."""
        return ToolMessage(text, tool_call_id=call.id or fallback_id, name=call.name)


MESSAGES = LangChainMessages()


def run_turn(model: BaseChatModel, turn: Turn[BaseMessage], prompt: list[BaseMessage]) -> str:
    """Take the agent's turn with `model`; the turn's events ride on any exception that ends it.

    `graphs.run.stream_run` writes them before re-raising, so the tool calls a failed turn
    made (with their side effects) and its retry are still in the trace.
    """
    bound = model.bind_tools([openai_schema(t) for t in turn.tools]) if turn.tools else None
    try:
        return drive(take_turn(turn, prompt), lambda request: answer(model, bound, request))
    except Exception as exc:
        exc.trace_events = list(turn.events)  # type: ignore[attr-defined]
        raise


def answer(model: BaseChatModel, bound: Runnable | None, request: Any) -> Reply[Any] | Parsed:
    """Make the model call the protocol asks for."""
    if isinstance(request, AskStructured):
        return ask_structured(model, request)
    assert isinstance(request, Ask)
    reply = (bound if request.tools and bound is not None else model).invoke(request.messages)
    calls = tuple(
        ToolCall(c.get("name", ""), c.get("args", {}), c.get("id"))
        for c in getattr(reply, "tool_calls", None) or []
    )
    return Reply(reply.text, reply, calls)


def ask_structured(model: BaseChatModel, request: AskStructured[BaseMessage]) -> Parsed:
    """One structured call: LangChain's json_schema output, or the text of a model without it."""
    schema = request.schema.json_schema
    try:
        bound = model.with_structured_output(schema, method="json_schema", include_raw=True)
    except NotImplementedError:  # a model with no structured output: parse its text
        return parse_text(model.invoke(request.messages).text)
    result = bound.invoke(request.messages)
    raw = result["raw"].text if result.get("raw") is not None else ""
    error = result.get("parsing_error")
    parsed = result.get("parsed")
    if isinstance(parsed, BaseModel):
        parsed = parsed.model_dump(mode="json")
    return Parsed(parsed, raw, f"not valid JSON ({error})" if error else "no answer")
