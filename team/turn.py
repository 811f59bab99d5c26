"""One agent's turn, framework-neutral: tool rounds, then the structured answer and its retry.

The protocol is written once, as generators that yield what they need a model to do and
receive its reply, so a synchronous framework (LangGraph) and an asynchronous one (AutoGen)
drive the very same steps (`drive`, `drive_async`). The framework supplies its own message
objects through `Messages`, so what goes on the wire is its own client's doing.

- Tools: the model is offered the agent's tools for at most `MAX_TOOL_ROUNDS` rounds; each
  call runs through `tools.bind.invoke` and becomes a `tool_call` event; a repeated call
  ends the rounds; then the model answers from the results in a fresh prompt, without tools
  (a `tool_rounds_exhausted` warning says when the rounds ran out).
- Structured output: the schema is asked for (`schema_hint`), the answer validated; on
  failure the model gets one retry with the error (`output_schema_retry`), then the run
  fails with `OutputSchemaError`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from scenarios.errors import RunFailedError
from team.events import Event, message, warning
from team.prompting import schema_hint
from team.schemas import OutputSchema
from tools.base import Tool, ToolResult, unknown_tool
from tools.bind import invoke

MAX_TOOL_ROUNDS = 3
ANSWER_NOW = "Now write your answer to the task from these results. Do not call tools."
NO_JSON = "no JSON object in the answer"

M = TypeVar("M")  # a framework's message type
T = TypeVar("T")
Emit = Callable[[Event], None]


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


@dataclass(frozen=True)
class ToolCall:
    """A tool call as the model asked for it."""

    name: str
    args: Any
    id: str | None = None


@dataclass(frozen=True)
class Reply(Generic[M]):
    """A model's reply: its text, its tool calls, and the framework's message for the history."""

    text: str
    message: M
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Ask(Generic[M]):
    """A request to the model: these messages, with the agent's tools offered or not."""

    messages: list[M]
    tools: bool = False


@dataclass(frozen=True)
class AskStructured(Generic[M]):
    """A request for an answer in the schema's shape (the framework's structured call)."""

    messages: list[M]
    schema: OutputSchema


@dataclass(frozen=True)
class Parsed:
    """What a structured call gave: the parsed value (None if none), its raw text, and why not."""

    value: Any
    raw: str
    missing: str = NO_JSON


class Messages(Protocol[M]):
    """The framework's message objects, as the protocol needs to add them to a history."""

    def user(self, text: str) -> M:
        """A message from the user (the lab)."""
        ...

    def assistant(self, text: str) -> M:
        """A message the model wrote."""
        ...

    def tool_result(self, call: ToolCall, text: str, fallback_id: str) -> M:
        """The result of a tool call, as the model reads it."""
        ...


Step = Generator[Ask[M] | AskStructured[M], Any, T]


@dataclass
class Turn(Generic[M]):
    """One agent's turn: who, on which task, with which tools and output schema."""

    agent: str
    task: str | None
    messages: Messages[M]
    tools: list[Tool] = field(default_factory=list)
    schema: OutputSchema | None = None
    emit: Emit | None = None  # where events go as they happen (else they are only returned)
    events: list[Event] = field(default_factory=list)

    def note(self, event: Event) -> None:
        """Keep an event of this turn, and pass it on at once where events go."""
        self.events.append(event)
        if self.emit is not None:
            self.emit(event)


def take_turn(turn: Turn[M], prompt: list[M]) -> Step[M, str]:
    """The whole turn: tool rounds (or one plain answer), then the structured answer if any.

    Its last event is the `agent_message`; returns the turn's text (a schema's answer as JSON).
    """
    text, history = yield from converse(turn, prompt)
    if turn.schema is None:
        turn.note(message(turn.agent, turn.task, text))
        return text
    answer = yield from structured(turn, history, turn.schema)
    text = json.dumps(answer, ensure_ascii=False)
    extra = {"output_schema": turn.schema.name, "structured_output": answer}
    turn.note(message(turn.agent, turn.task, text, **extra))
    return text


def converse(turn: Turn[M], prompt: list[M]) -> Step[M, tuple[str, list[M]]]:
    """The tool rounds if the agent has tools, else one plain answer (none if a schema follows)."""
    if turn.tools:
        return (yield from tool_rounds(turn, prompt))
    if turn.schema is None:
        reply = yield Ask(prompt)
        return reply.text.strip(), prompt
    return "", prompt


def tool_rounds(turn: Turn[M], prompt: list[M]) -> Step[M, tuple[str, list[M]]]:
    """Let the model call its tools for `MAX_TOOL_ROUNDS` rounds at most; its text, history.

    The rounds also end when the model repeats a call it already made; then (or when the
    rounds run out) it is asked for its answer in a fresh prompt carrying the tool results
    as text, without tools, which small models follow far better than a long tool history.
    """
    history, seen, results = list(prompt), set(), []
    for _ in range(MAX_TOOL_ROUNDS):
        reply = yield Ask(history, tools=True)
        if not reply.tool_calls:
            history.append(reply.message)
            return reply.text.strip(), history
        fresh = [c for c in reply.tool_calls if _call_key(c) not in seen]
        if not fresh:
            break
        history.append(reply.message)
        for call in fresh:
            seen.add(_call_key(call))
            result = run_call(turn, call)
            results.append((call.name, result.for_model))
            history.append(
                turn.messages.tool_result(call, result.for_model, f"call_{len(seen) - 1}")
            )
    else:
        turn.note(rounds_warning(turn.agent))
    return (yield from answer_from_results(turn, prompt, results))


def run_call(turn: Turn[M], call: ToolCall) -> ToolResult:
    """Run one tool call (an unknown tool is an error the model reads); note its event."""
    by_name = {t.name: t for t in turn.tools}
    tool = by_name.get(call.name)
    result = (
        invoke(tool, call.args, turn.agent)
        if tool
        else unknown_tool(call.name, call.args, list(by_name))
    )
    turn.note({**result.event(turn.agent), "task": turn.task})
    return result


def answer_from_results(
    turn: Turn[M], prompt: list[M], results: list[tuple[str, str]]
) -> Step[M, tuple[str, list[M]]]:
    """The model's answer to the original prompt plus the tool results, with no tools."""
    shown = "\n\n".join(f"{name} returned:\n{text}" for name, text in results)
    fresh = [*prompt, turn.messages.user(f"Results of your tool calls:\n\n{shown}\n\n{ANSWER_NOW}")]
    reply = yield Ask(fresh)
    return reply.text.strip(), [*fresh, reply.message]


def rounds_warning(agent: str) -> Event:
    """The warning written when an agent was still calling tools after the last round."""
    return warning(
        "tool_rounds_exhausted",
        f"{agent} was still calling tools after {MAX_TOOL_ROUNDS} rounds; "
        "it was asked to answer without more calls",
        max_tool_rounds=MAX_TOOL_ROUNDS,
    )


def _call_key(call: ToolCall) -> str:
    return json.dumps([call.name, call.args], sort_keys=True, default=str)


# --- structured output -------------------------------------------------------------------


def where_of(turn: Turn[Any]) -> str:
    """How a turn is named in schema errors: `task 'plan' (planner)`."""
    return f"task {turn.task!r} ({turn.agent})"


def structured(turn: Turn[M], history: list[M], schema: OutputSchema) -> Step[M, dict[str, Any]]:
    """Ask for the schema, validate, retry once with the error; the valid answer."""
    asked = [*history, turn.messages.user(schema_hint(schema.json_schema))]
    answer, error = validated(schema, (yield AskStructured(asked, schema)))
    if error is None:
        return answer
    first = schema_retry_warning(where_of(turn), schema, error[1])
    turn.note(first)
    retry = [*asked, turn.messages.assistant(error[0]), turn.messages.user(retry_prompt(error[1]))]
    answer, second = validated(schema, (yield AskStructured(retry, schema)))
    if second is None:
        return answer
    raise OutputSchemaError(where_of(turn), schema, second[1], [first])


def validated(schema: OutputSchema, parsed: Parsed) -> tuple[Any, tuple[str, str] | None]:
    """The answer valid for the schema and None, or None and (its raw text, why not)."""
    if parsed.value is None:
        return None, (parsed.raw, parsed.missing)
    try:
        return schema.validate(parsed.value), None
    except ValueError as exc:
        return None, (parsed.raw, str(exc))


def parse_text(raw: str) -> Parsed:
    """A structured answer read from plain text: its first JSON object."""
    return Parsed(first_json_object(raw), raw)


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
    return warning(
        "output_schema_retry",
        f"{where}: answer did not match {schema.name} ({error}); retried once",
    )


# --- drivers ---------------------------------------------------------------------------------


def drive(step: Step[M, T], answer: Callable[[Any], Any]) -> T:
    """Run a protocol step to its end, `answer(request)` doing each model call."""
    try:
        request = next(step)
        while True:
            request = step.send(answer(request))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def drive_async(step: Step[M, T], answer: Callable[[Any], Awaitable[Any]]) -> T:
    """Run a protocol step to its end, `await answer(request)` doing each model call."""
    try:
        request = next(step)
        while True:
            request = step.send(await answer(request))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
