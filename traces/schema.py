"""The trace schema: one JSON object a line, one file a run (see DESIGN.md).

Every line carries `schema`, `ts` (UTC ISO), `run_id`, `seq` and `kind`. Token fields follow
the OpenTelemetry GenAI names (`input_tokens`, `output_tokens`); the Ollama metrics keep
Ollama's own names and units (nanoseconds) under `metrics`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SCHEMA_VERSION = 1

RUN_STARTED = "run_started"
BACKEND_SELECTED = "backend_selected"
LLM_CALL = "llm_call"
AGENT_MESSAGE = "agent_message"
TOOL_CALL = "tool_call"
ROUTE = "route"
WARNING = "warning"
ERROR = "error"
RUN_FINISHED = "run_finished"

KINDS: tuple[str, ...] = (
    RUN_STARTED,
    BACKEND_SELECTED,
    LLM_CALL,
    AGENT_MESSAGE,
    TOOL_CALL,
    ROUTE,
    WARNING,
    ERROR,
    RUN_FINISHED,
)

# Ollama's metrics, all integers; durations in nanoseconds.
METRIC_KEYS: tuple[str, ...] = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)

# Run statuses in `run_finished`. `degraded`: the run finished, but not everything it
# promised happened (a cut answer, a failed tool, an empty output, no turns): its
# `reasons` say which, each also written as a `warning` event when it happened.
STATUS_OK = "ok"
STATUS_DEGRADED = "degraded"
STATUS_FAILED = "failed"
STATUS_INTERRUPTED = "interrupted"

# What made a run (`run_started.run_kind`): a live run, a replay of a trace (`replay
# rerun`), a fork (`replay rerun --from N`: recorded calls first, then a live model) or a
# `bench-models` session. Older traces have no `run_kind`: `run_kind()` infers it.
RUN_KINDS = ("run", "replay", "fork", "bench")

# Warning codes that make a finished run `degraded` instead of `ok`.
ANSWER_TRUNCATED = "answer_truncated"  # an answer was cut at num_predict (done_reason length)
TOOL_FAILED = "tool_failed"  # a tool call ended in an error
EMPTY_OUTPUT = "empty_output"  # an agent turn, or the run's final output, was empty
NO_TURNS = "no_turns"  # the run ended without a single agent turn
CONTEXT_TRUNCATED = "context_truncated"  # a prompt filled num_ctx: its oldest part was cut


def run_kind(started: dict[str, Any] | None) -> str:
    """What made a run, from its `run_started` (older traces: inferred from their fields)."""
    started = started or {}
    kind = started.get("run_kind")
    if kind in RUN_KINDS:
        return str(kind)
    if started.get("framework") == "bench":
        return "bench"
    replay_of = started.get("replay_of")
    if isinstance(replay_of, dict):
        return "replay" if replay_of.get("from") is None else "fork"
    return "run"


def empty_totals() -> dict[str, Any]:
    """Totals of a run before any model call."""
    return {"llm_calls": 0, "input_tokens": 0, "output_tokens": 0, "model_time_s": 0.0}


def add_call(totals: dict[str, Any], event: dict[str, Any]) -> None:
    """Add one `llm_call` event to running totals (tokens from its Ollama metrics)."""
    metrics = event.get("metrics") or {}
    totals["llm_calls"] += 1
    totals["input_tokens"] += int(metrics.get("prompt_eval_count") or 0)
    totals["output_tokens"] += int(metrics.get("eval_count") or 0)
    totals["model_time_s"] += (metrics.get("total_duration") or 0) / 1e9


def totals_of(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Totals recomputed from a run's events: sums over its `llm_call` events."""
    totals = empty_totals()
    for event in events:
        if event.get("kind") == LLM_CALL:
            add_call(totals, event)
    totals["model_time_s"] = round(totals["model_time_s"], 6)
    return totals
