"""The embedded engine: llama.cpp models loaded in-process through llama-cpp-python.

One engine per process (`get_engine()`), so a model is loaded once and kept. Each model
has a single worker thread: requests to it queue in order (Ollama's OLLAMA_NUM_PARALLEL=1)
and the blocking llama.cpp work never runs on an event loop. What runs on that thread is
`gateway.generation`; which models exist is `gateway.catalog`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gateway import kvcache, prompting
from gateway.catalog import default_num_ctx, llama
from gateway.job import ChatJob

THREADS_ENV = "LAB_LLAMA_THREADS"
log = logging.getLogger("gateway")
_warned: set[tuple[str, str]] = set()


def warn_once(topic: str, key: str, message: str, *args: Any) -> None:
    """Log a warning the first time (topic, key) is seen in this process."""
    if (topic, key) not in _warned:
        _warned.add((topic, key))
        log.warning(message, *args)


class LoadedModel:
    """One llama.cpp model loaded with one context size."""

    def __init__(self, path: Path, num_ctx: int, *, embedding: bool = False) -> None:
        llama_cpp = llama()
        start = time.perf_counter_ns()
        self.path = path
        self.embedding = embedding
        extra = {"pooling_type": llama_cpp.LLAMA_POOLING_TYPE_MEAN} if embedding else {}
        self.llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=num_ctx,
            n_batch=min(kvcache.CHUNK, num_ctx),
            n_threads=threads(),
            n_threads_batch=threads(),
            embedding=embedding,
            verbose=False,
            **extra,
        )
        self.num_ctx = self.llm.n_ctx()
        self.load_ns = time.perf_counter_ns() - start
        self.loaded_at = time.time()
        self.formatter = self._formatter()
        self.cache = kvcache.PromptCache(self.llm)

    def _formatter(self) -> Any:
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        model = self.llm._model
        eos, bos = self.llm.token_eos(), self.llm.token_bos()
        return llama().llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
        )

    def render(self, job: ChatJob) -> str:
        """Prompt text of a job: raw, with tools (ChatML), or by the model's template."""
        if job.raw_prompt is not None:
            return job.raw_prompt
        if job.tools:
            return prompting.render_with_tools(job.messages, job.tools)
        plain = prompting.plain_messages(job.messages)
        if self.formatter is not None:
            try:
                return self.formatter(messages=plain).prompt
            except Exception as exc:
                warn_once(
                    "template",
                    str(self.path),
                    "the chat template of %s failed (%s): using ChatML instead",
                    self.path.name,
                    str(exc) or type(exc).__name__,
                )
        return prompting.chatml(plain)

    def tokenize(self, text: str) -> list[int]:
        """Token ids of text, special tokens parsed."""
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def is_eog(self, token: int) -> bool:
        """Whether a token ends generation."""
        return bool(llama().llama_vocab_is_eog(self.llm._model.vocab, token))

    def close(self) -> None:
        """Free the model."""
        self.llm.close()


def threads() -> int:
    """llama.cpp threads: LAB_LLAMA_THREADS, else all cores but one.

    llama.cpp's worker threads spin while they wait; when they outnumber the free cores
    (another process busy) generation collapses (measured on 2 cores: 6 tokens/s with 2
    threads against 45 with 1). One core left free keeps it fast on a shared machine.
    """
    value = os.environ.get(THREADS_ENV, "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, (os.cpu_count() or 1) - 1)


class Engine:
    """The process-wide set of loaded models, each with its own one-thread queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, bool], LoadedModel] = {}
        self._queues: dict[str, ThreadPoolExecutor] = {}
        self.keep_alive: dict[str, float] = {}

    def submit(self, tag: str, work: Callable[[], Any]) -> Future[Any]:
        """Run `work` on the model's worker thread, after the requests queued before it."""
        with self._lock:
            queue = self._queues.get(tag)
            if queue is None:
                queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{tag}")
                self._queues[tag] = queue
        return queue.submit(work)

    def model(
        self, tag: str, path: Path, num_ctx: int | None, *, embedding: bool = False
    ) -> tuple[LoadedModel, int]:
        """The loaded model (reloaded if num_ctx changed) and the load time it cost, in ns."""
        key = (tag, embedding)
        current = self._models.get(key)
        wanted = num_ctx or (current.num_ctx if current else None) or default_num_ctx(path)
        if current is not None and current.num_ctx == wanted:
            return current, 0
        if current is not None:
            current.close()
        loaded = LoadedModel(path, wanted, embedding=embedding)
        self._models[key] = loaded
        return loaded, loaded.load_ns

    def unload(self, tag: str, *, embedding: bool = False) -> bool:
        """Free a loaded model (run it on that model's queue); whether one was loaded."""
        model = self._models.pop((tag, embedding), None)
        if model is not None:
            model.close()
        return model is not None

    def loaded(self) -> dict[str, LoadedModel]:
        """The chat models loaded now, by tag."""
        return {tag: m for (tag, emb), m in list(self._models.items()) if not emb}

    def num_ctx_of(self, tag: str) -> int | None:
        """The context size the loaded model got, or None when not loaded."""
        model = self._models.get((tag, False))
        return model.num_ctx if model else None


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine (models loaded once, shared by every gateway)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine
