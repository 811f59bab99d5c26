"""The thread bridge: a generation on the engine's worker thread, read as asyncio events.

The worker hands each answer event to the request's event loop (`call_soon_threadsafe` into
an asyncio queue); the request's coroutine reads them as they come. When the reader stops
(the client went away, the reply was closed), a cancel flag tells the generation to stop at
its next token, which frees the model for the requests queued behind it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from gateway.answer import CANCELLED, AnswerEvent, Done, Failed, Sink
from gateway.engine import Engine
from gateway.generation import run_chat
from gateway.job import ChatJob

Work = Callable[[Sink, threading.Event], Done]
log = logging.getLogger("gateway")


def describe_error(exc: Exception) -> str:
    """`Type: message` of an exception, or its type alone when it has no message."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def thread_events(
    submit: Callable[[Callable[[], None]], Any], work: Work
) -> AsyncGenerator[AnswerEvent, None]:
    """Run `work(sink, cancel)` through `submit`; yield what it sinks, then its end."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[AnswerEvent] = asyncio.Queue()
    cancel = threading.Event()

    def sink(event: AnswerEvent) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, event)
        except RuntimeError:  # the loop is closed: nobody reads any more
            cancel.set()

    def run() -> None:
        try:
            sink(work(sink, cancel))
        except Exception as exc:
            sink(Failed(describe_error(exc)))

    submit(run)
    try:
        while True:
            event = await queue.get()
            yield event
            if isinstance(event, Done | Failed):
                return
    finally:
        cancel.set()


def generation_events(
    engine: Engine, tag: str, path: Path, job: ChatJob
) -> AsyncGenerator[AnswerEvent, None]:
    """A chat job run on its model's worker (loading the model first), as answer events."""

    def work(sink: Sink, cancel: threading.Event) -> Done:
        model, load_ns = engine.model(tag, path, job.options.get("num_ctx"))
        done = run_chat(model, job, sink, cancel)
        if done.done_reason == CANCELLED:
            log.info(
                "%s: generation cancelled after %d tokens: the client went away",
                tag,
                done.metrics["eval_count"],
            )
        total = done.metrics["total_duration"] + load_ns
        return replace(
            done, metrics={**done.metrics, "load_duration": load_ns, "total_duration": total}
        )

    return thread_events(lambda run: engine.submit(tag, run), work)
