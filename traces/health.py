"""A run's health: what makes a finished run `degraded` rather than `ok`, decided in one place.

A run is `ok` only when every turn produced output and nothing was cut or failed. Each
thing that falls short is a `warning` event, written when it happens, so the live console
shows it at once and the trace keeps it in order:

- `answer_truncated`: a model answer was cut at `num_predict` (`done_reason` "length");
- `tool_failed`: a tool call ended in an error (bad arguments, a refused path, a crash);
- `empty_output`: an agent turn, or the run's final output, was empty;
- `no_turns`: the run ended without a single agent turn;
- and the limit warnings the teams write themselves (`DEGRADING`).

`RunHealth` watches a recorder (`TraceRecorder.watch`): it derives the first three from the
events as they are written, counts every degrading warning, and at the end adds
`no_turns` / `empty_output` and says the status with its reasons.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from traces.schema import (
    AGENT_MESSAGE,
    ANSWER_TRUNCATED,
    CONTEXT_TRUNCATED,
    EMPTY_OUTPUT,
    LLM_CALL,
    NO_TURNS,
    STATUS_DEGRADED,
    STATUS_OK,
    TOOL_CALL,
    TOOL_FAILED,
    WARNING,
)

Event = dict[str, Any]

# Warning codes that make a finished run `degraded`, with how a status line counts them.
# Not here: `max_rounds_reached` and `max_revisions_reached` (the chat ran the length the
# scenario set and its last message is the output) and `output_schema_retry` (the retry
# succeeded, or the run failed).
DEGRADING: dict[str, tuple[str, str]] = {
    TOOL_FAILED: ("tool error", "tool errors"),
    ANSWER_TRUNCATED: ("truncated", "truncated"),
    EMPTY_OUTPUT: ("empty output", "empty outputs"),
    NO_TURNS: ("no turns", "no turns"),
    CONTEXT_TRUNCATED: ("prompt cut", "prompts cut"),
    "max_turns_reached": ("turn cap", "turn caps"),
    "max_steps_reached": ("step cap", "step caps"),
    "invalid_route": ("invalid route", "invalid routes"),
    "tool_rounds_exhausted": ("tool rounds used up", "tool rounds used up"),
}


def describe(reasons: dict[str, int]) -> str:
    """Reasons as a short phrase: `2 tool errors, 1 truncated` (in `DEGRADING` order)."""
    parts = []
    for code, (one, many) in DEGRADING.items():
        count = reasons.get(code, 0)
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts)


def status_label(status: str, reasons: dict[str, int]) -> str:
    """A status with its reasons: `degraded (2 tool errors, 1 truncated)`, or just `ok`."""
    text = describe(reasons)
    return f"{status} ({text})" if text and status != STATUS_OK else status


def reasons_of(events: list[Event]) -> dict[str, int]:
    """The degrading warnings among events, counted by code (what `RunHealth` counts live)."""
    codes = [e.get("code") for e in events if e.get("kind") == WARNING]
    return dict(Counter(str(code) for code in codes if code in DEGRADING))


def truncated_warning(fields: Event) -> Event:
    """The `answer_truncated` warning of an `llm_call` cut at num_predict."""
    options = (fields.get("request") or {}).get("options") or {}
    limit = options.get("num_predict", (fields.get("request") or {}).get("max_tokens"))
    agent = fields.get("agent") or "a caller"
    return {
        "code": ANSWER_TRUNCATED,
        "agent": fields.get("agent"),
        "model": fields.get("model"),
        "call_id": fields.get("call_id"),
        "num_predict": limit,
        "eval_count": (fields.get("metrics") or {}).get("eval_count"),
        "message": (
            f"{agent}'s answer was cut at num_predict ({limit}) tokens: "
            "raise num_predict in the model profile"
        ),
    }


def tool_failed_warning(fields: Event) -> Event:
    """The `tool_failed` warning of a `tool_call` that ended in an error."""
    return {
        "code": TOOL_FAILED,
        "agent": fields.get("agent"),
        "tool": fields.get("tool"),
        "task": fields.get("task"),
        "error": fields.get("error"),
        "message": f"{fields.get('tool')} failed for {fields.get('agent')}: {fields.get('error')}",
    }


def empty_turn_warning(fields: Event) -> Event:
    """The `empty_output` warning of an agent turn with no text."""
    task = f" on task {fields['task']!r}" if fields.get("task") else ""
    return {
        "code": EMPTY_OUTPUT,
        "agent": fields.get("agent"),
        "task": fields.get("task"),
        "message": f"{fields.get('agent')} answered nothing{task}",
    }


class RunHealth:
    """Watches one run's events; derives the degrading warnings and decides the status."""

    def __init__(self) -> None:
        self.reasons: Counter[str] = Counter()
        self.turns = 0

    def after(self, kind: str, fields: Event) -> list[Event]:
        """The warnings an event just written calls for (each is written next, in order)."""
        if kind == WARNING and fields.get("code") in DEGRADING:
            self.reasons[str(fields["code"])] += 1
        elif kind == LLM_CALL and fields.get("done_reason") == "length":
            return [truncated_warning(fields)]
        elif kind == TOOL_CALL and fields.get("error"):
            return [tool_failed_warning(fields)]
        elif kind == AGENT_MESSAGE:
            self.turns += 1
            if not str(fields.get("content") or "").strip():
                return [empty_turn_warning(fields)]
        return []

    def closing(self, final_output: str) -> list[Event]:
        """The warnings a finished run calls for: no turns at all, or no final output."""
        if self.turns == 0:
            return [
                {
                    "code": NO_TURNS,
                    "message": "the run ended without a single agent turn: no agent worked",
                }
            ]
        if not final_output.strip() and not self.reasons[EMPTY_OUTPUT]:
            return [{"code": EMPTY_OUTPUT, "message": "the run's final output is empty"}]
        return []

    def status(self) -> tuple[str, dict[str, int]]:
        """`ok`, or `degraded` with its reasons counted by warning code."""
        reasons = dict(self.reasons)
        return (STATUS_DEGRADED if reasons else STATUS_OK), reasons
