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

# Run statuses in `run_finished`.
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_INTERRUPTED = "interrupted"


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
