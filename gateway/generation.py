"""Generation on a loaded model: token by token, constrained, measured the way Ollama reports.

`run_chat` answers a `ChatJob`: the prompt is cut to fit the context, tokens stream to the
caller's sink as `Token` events (text that may begin a stop sequence is held back), a tool
request picks a tool with a grammar and then fills its arguments by the tool's JSON schema
(one `ToolCalls` event), and a `format` constrains the text by grammar. The `Done` it
returns carries the done_reason and Ollama's metrics (counts, nanosecond durations).
"""

from __future__ import annotations

import codecs
import json
import threading
import time
from functools import lru_cache
from typing import Any

from gateway import prompting
from gateway.answer import CANCELLED, Done, Sink, Token, ToolCalls
from gateway.catalog import llama
from gateway.context import context_margin
from gateway.engine import LoadedModel, warn_once
from gateway.grammar import schema_gbnf
from gateway.job import ChatJob, Sampling

TOOL_ARGS_LIMIT = 256


@lru_cache(maxsize=64)
def _grammar(text: str, is_schema: bool) -> Any:
    """A parsed grammar from GBNF text, or from a JSON schema's text (`gateway.grammar`)."""
    llama_grammar = llama().llama_grammar
    if is_schema:
        try:
            text = schema_gbnf(json.loads(text))
        except Exception as exc:
            warn_once(
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
        return _grammar(llama().llama_grammar.JSON_GBNF, False)
    if isinstance(fmt, dict):
        return schema_grammar(fmt)
    raise ValueError(f'invalid format {fmt!r}: give "json" or a JSON schema object')


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
        seed = self.sampling.seed
        llm.set_seed(seed if seed is not None else llama().LLAMA_DEFAULT_SEED)
        kwargs = {**self.sampling.generate_kwargs(), **({"temp": 0.0} if greedy else {})}
        first_phase = self.prompt_eval_count == 0
        if first_phase:
            self.prompt_eval_count = len(tokens)
        phase = _Phase(self, len(tokens), limit, stream)
        start = time.perf_counter_ns()
        self.model.cache.prepare(tokens)
        last = time.perf_counter_ns()
        if not first_phase:
            self.eval_ns += last - start  # a tool call's arguments: their prompt is extra work
        generator = llm.generate(tokens, grammar=grammar, **kwargs)
        try:
            for token in generator:
                now = time.perf_counter_ns()
                if phase.count == 0 and first_phase:
                    self.prompt_eval_ns += now - start
                else:
                    self.eval_ns += now - last
                last = now
                if phase.ends_with(token):
                    break
        finally:
            generator.close()
        return phase.finish()

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


class _Phase:
    """One `Generation.run`: the text so far, what was shown, and why it stopped."""

    def __init__(self, gen: Generation, prompt_tokens: int, limit: int, stream: bool) -> None:
        self.gen, self.prompt_tokens, self.limit, self.stream = gen, prompt_tokens, limit, stream
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.stops = gen.sampling.stop if stream else ()
        self.text, self.shown, self.reason, self.count = "", 0, "stop", 0

    def ends_with(self, token: int) -> bool:
        """Take one sampled token; whether generation stops here (`reason` says why)."""
        gen = self.gen
        if gen.cancel.is_set():
            self.reason = CANCELLED
            return True
        if gen.model.is_eog(token):
            return True
        self.count += 1
        gen.eval_count += 1
        self.text += self.decoder.decode(gen.model.llm.detokenize([token]))
        cut = _stop_index(self.text, self.stops)
        if cut is not None:
            self.text = self.text[:cut]
            return True
        if self.stream:
            self.shown = gen._show(self.text, self.shown, self.stops)
        if (
            0 <= self.limit <= self.count
            or self.prompt_tokens + self.count >= gen.model.num_ctx - 1
        ):
            self.reason = "length"
            return True
        return False

    def finish(self) -> tuple[str, str]:
        """Send what was held back; the text and the done_reason."""
        if self.stream and self.shown < len(self.text):
            self.gen.sink(Token(self.text[self.shown :]))
        return self.text, self.reason


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
