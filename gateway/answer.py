"""One model answer as a stream of typed events: text, tool calls, then its end or an error.

The embedded engine emits them as it generates; a replay makes them from a recorded call.
The gateway's one pair of encoders (`gateway.upstreams.encoders`) turns them into Ollama or
OpenAI bytes, so an answer replayed with the same events is sent byte for byte the same.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

CANCELLED = "cancelled"  # the done_reason of a generation stopped because its client left
NO_END = "the engine ended without an answer"  # an event stream that stopped before its end


@dataclass(frozen=True)
class Token:
    """A piece of the answer's text."""

    text: str


@dataclass(frozen=True)
class ToolCalls:
    """Tool calls in Ollama's shape: `{"function": {"name", "arguments"}}`, maybe an `id`.

    The arguments are an object, or the JSON text an OpenAI server sent (a replay keeps it).
    """

    calls: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Done:
    """How the answer ended: Ollama's done_reason, its metrics, and the num_ctx used."""

    done_reason: str
    metrics: Mapping[str, int]
    num_ctx: int | None = None


@dataclass(frozen=True)
class Failed:
    """The answer broke off: the error message the client gets."""

    message: str


AnswerEvent = Token | ToolCalls | Done | Failed
Sink = Callable[[AnswerEvent], None]


class EventStream(Protocol):
    """An answer's events as they come; closing the stream stops what makes them."""

    def __aiter__(self) -> AsyncIterator[AnswerEvent]: ...

    async def aclose(self) -> None:
        """Stop the stream (and the generation behind it)."""


@dataclass(frozen=True)
class Answer:
    """A whole answer: its text, its tool calls, and how it ended."""

    text: str
    calls: list[dict[str, Any]]
    end: Done | Failed


async def gather(events: AsyncIterator[AnswerEvent]) -> Answer:
    """The whole answer of an event stream (its text, calls and last event)."""
    text, calls = "", []
    async for event in events:
        if isinstance(event, Token):
            text += event.text
        elif isinstance(event, ToolCalls):
            calls.extend(event.calls)
        else:
            return Answer(text, calls, event)
    return Answer(text, calls, Failed(NO_END))


class Resumed:
    """An event stream whose first event was already read: it yields that event again first.

    Closing it closes the stream underneath, started or not (that is what stops a generation).
    """

    def __init__(self, first: AnswerEvent, rest: AsyncGenerator[AnswerEvent, None]) -> None:
        self._first: list[AnswerEvent] = [first]
        self._rest = rest

    def __aiter__(self) -> Resumed:
        return self

    async def __anext__(self) -> AnswerEvent:
        if self._first:
            return self._first.pop()
        return await anext(self._rest)

    async def aclose(self) -> None:
        """Close the stream underneath."""
        await self._rest.aclose()


async def peek(events: AsyncGenerator[AnswerEvent, None]) -> tuple[AnswerEvent, Resumed]:
    """The first event of a stream, and the whole stream again (that event first)."""
    first = await anext(events)
    return first, Resumed(first, events)


async def event_stream(events: list[AnswerEvent]) -> AsyncGenerator[AnswerEvent, None]:
    """A list of events as an event stream."""
    for event in events:
        yield event
