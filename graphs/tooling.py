"""An agent's turn with tools and structured output: the tool-calling loop and the schema check.

Tools: the agent's model is bound to its tools (`bind_tools`, the Ollama `tools` field); each
tool call it makes runs through `tools.bind.invoke` and becomes a `tool_call` event; the
results go back to the model as tool messages, for at most `MAX_TOOL_ROUNDS` rounds, after
which the model is asked to answer without more calls (a `warning` says so).

Structured output: a task's `output_schema` is asked for with `with_structured_output`
(a JSON schema, so ChatOllama sends it as Ollama's `format`); the answer is validated; on
failure the model gets one retry with the validation error, then the run fails with an
`OutputSchemaError` (the harness writes it as the `error` event).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

import tools
from graphs.prompting import schema_hint
from graphs.schemas import OutputSchema
from scenarios.errors import RunFailedError
from tools.base import Tool, unknown_tool
from tools.bind import invoke, openai_schema

Event = dict[str, Any]
MAX_TOOL_ROUNDS = 3
ANSWER_NOW = "Now write your answer to the task from these results. Do not call tools."


class OutputSchemaError(RunFailedError):
    """The model's answer did not match the task's `output_schema`, even after one retry.

    `trace_events` holds what the failed turn had to say before it failed (the retry
    warning): the runner writes them before the error, so the trace shows the retry.
    """

    def __init__(
        self, where: str, schema: OutputSchema, error: str, trace_events: Sequence[Event] = ()
    ) -> None:
        super().__init__(
            f"{where}: the model's answer does not match output_schema {schema.name} after one "
            f"retry ({error}); simplify the schema or use a larger model"
        )
        self.trace_events = list(trace_events)


# --- the tool loop ---------------------------------------------------------------------


def agent_tools(names: list[str]) -> list[Tool]:
    """The registered tools an agent lists."""
    return [tools.get(name) for name in names]


def tool_loop(
    model: BaseChatModel,
    agent_tools_: list[Tool],
    messages: list[BaseMessage],
    agent: str,
    task: str | None,
) -> tuple[str, list[BaseMessage], list[Event]]:
    """Let the model call its tools for `MAX_TOOL_ROUNDS` rounds at most; text, history, events.

    The rounds also end when the model repeats a call it already made; then (or when the
    rounds run out) it is asked for its answer in a fresh prompt carrying the tool results
    as text, without tools, which small models follow far better than a long tool history.
    """
    bound = model.bind_tools([openai_schema(t) for t in agent_tools_])
    history: list[BaseMessage] = list(messages)
    events: list[Event] = []
    seen: set[str] = set()
    with carrying(events):
        for _ in range(MAX_TOOL_ROUNDS):
            reply = bound.invoke(history)
            if not reply.tool_calls:
                history.append(reply)
                return reply.text.strip(), history, events
            fresh = [c for c in reply.tool_calls if _call_key(c) not in seen]
            if not fresh:
                break
            history.append(reply)
            for call in fresh:
                seen.add(_call_key(call))
                message, event = _run_call(agent_tools_, call, agent, task, f"call_{len(events)}")
                history.append(message)
                events.append(event)
        else:
            events.append(_rounds_warning(agent))
        return _answer_from_results(model, messages, history, events)


@contextmanager
def carrying(events: list[Event]) -> Iterator[None]:
    """A turn's events so far ride on any exception that ends it, as `trace_events`.

    `graphs.run.stream_run` writes them before re-raising, so the tool calls a failed turn
    made (with their side effects) are still in the trace.
    """
    try:
        yield
    except Exception as exc:
        exc.trace_events = [*events, *getattr(exc, "trace_events", ())]  # type: ignore[attr-defined]
        raise


def _call_key(call: dict[str, Any]) -> str:
    return json.dumps([call.get("name"), call.get("args")], sort_keys=True, default=str)


def _answer_from_results(
    model: BaseChatModel,
    messages: list[BaseMessage],
    history: list[BaseMessage],
    events: list[Event],
) -> tuple[str, list[BaseMessage], list[Event]]:
    """The model's answer to the original prompt plus the tool results, with no tools."""
    results = "\n\n".join(
        f"{m.name} returned:\n{m.text}" for m in history if isinstance(m, ToolMessage)
    )
    prompt = f"Results of your tool calls:\n\n{results}\n\n{ANSWER_NOW}"
    fresh = [*messages, HumanMessage(prompt)]
    reply = model.invoke(fresh)
    return reply.text.strip(), [*fresh, reply], events


def _run_call(
    agent_tools_: list[Tool], call: dict[str, Any], agent: str, task: str | None, fallback_id: str
) -> tuple[ToolMessage, Event]:
    by_name = {t.name: t for t in agent_tools_}
    name, args = call.get("name", ""), call.get("args", {})
    tool = by_name.get(name)
    result = invoke(tool, args, agent) if tool else unknown_tool(name, args, list(by_name))
    message = ToolMessage(result.for_model, tool_call_id=call.get("id") or fallback_id, name=name)
    return message, {**result.event(agent), "task": task}


def _rounds_warning(agent: str) -> Event:
    return {
        "kind": "warning",
        "code": "tool_rounds_exhausted",
        "message": f"{agent} was still calling tools after {MAX_TOOL_ROUNDS} rounds; "
        "it was asked to answer without more calls",
        "max_tool_rounds": MAX_TOOL_ROUNDS,
    }


# --- structured output -----------------------------------------------------------------


def structured_answer(
    model: BaseChatModel, messages: list[BaseMessage], schema: OutputSchema, where: str
) -> tuple[dict[str, Any], list[Event]]:
    """Ask for the schema, validate, retry once with the error; the valid answer and warnings."""
    asked = [*messages, HumanMessage(schema_hint(schema.json_schema))]
    answer, raw, error = _ask(model, asked, schema)
    if error is None:
        return answer, []
    retry = [*asked, AIMessage(raw), HumanMessage(retry_prompt(error))]
    answer, raw, second = _ask(model, retry, schema)
    first = schema_retry_warning(where, schema, error)
    if second is None:
        return answer, [first]
    raise OutputSchemaError(where, schema, second, [first])


def _ask(
    model: BaseChatModel, messages: list[BaseMessage], schema: OutputSchema
) -> tuple[Any, str, str | None]:
    """One structured call: (validated answer, raw text, None) or (None, raw text, error)."""
    try:
        bound = model.with_structured_output(
            schema.json_schema, method="json_schema", include_raw=True
        )
    except NotImplementedError:  # a model with no structured output: parse its text
        raw = model.invoke(messages).text
        return _validated(schema, first_json_object(raw), raw, "no JSON object in the answer")
    result = bound.invoke(messages)
    raw = result["raw"].text if result.get("raw") is not None else ""
    reason = f"not valid JSON ({result['parsing_error']})" if result.get("parsing_error") else ""
    return _validated(schema, result.get("parsed"), raw, reason or "no answer")


def _validated(
    schema: OutputSchema, parsed: Any, raw: str, missing: str
) -> tuple[Any, str, str | None]:
    if parsed is None:
        return None, raw, missing
    if isinstance(parsed, BaseModel):
        parsed = parsed.model_dump(mode="json")
    try:
        return schema.validate(parsed), raw, None
    except ValueError as exc:
        return None, raw, str(exc)


def first_json_object(text: str) -> Any:
    """The first JSON object in `text` (prose around it ignored), or None."""
    decoder = json.JSONDecoder()
    for start in (i for i, char in enumerate(text) if char == "{"):
        try:
            value, _end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def retry_prompt(error: str) -> str:
    """What a model is told when its answer did not match the schema."""
    return (
        f"Your answer does not match the required schema: {error}. "
        "Answer again with only a JSON object that matches the schema."
    )


def schema_retry_warning(where: str, schema: OutputSchema, error: str) -> Event:
    """The warning written when an answer is retried for not matching the schema."""
    return {
        "kind": "warning",
        "code": "output_schema_retry",
        "message": f"{where}: answer did not match {schema.name} ({error}); retried once",
    }
