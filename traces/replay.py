"""Replay logic over traces: request normalization, matching, divergence diffs, verify.

A recorded `llm_call` is matched to a new request by its *normalized* content: the endpoint,
the agent and the wire body less what only shapes the transport (`stream`, `keep_alive`,
`stream_options`), with JSON key order ignored and an empty `tools`/`format` the same as
none. Everything else (model, messages, tools, format, options) must be equal.

Matching is tolerant of the order in which parallel branches ask: each (endpoint, agent,
normalized request) key has a queue of the recorded calls not yet served, in recorded order.
A request that matches nothing is a `Divergence`: the call number, the agent and a short
unified diff against the closest recorded request.
"""

from __future__ import annotations

import difflib
import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from traces.reader import Trace
from traces.schema import AGENT_MESSAGE, LLM_CALL

Event = dict[str, Any]

# Body keys that only shape how the answer travels, never what the model is asked.
TRANSPORT_KEYS = frozenset({"stream", "keep_alive", "stream_options"})
# Keys where an empty value means the same as leaving the key out.
EMPTY_MEANS_ABSENT = frozenset({"tools", "format", "options", "response_format"})
DIFF_LINES = 24
DIFF_WIDTH = 160


def normalize_request(body: Mapping[str, Any], aliases: Mapping[str, str] | None = None) -> Event:
    """The part of a wire body that decides the answer, in one canonical form."""
    normal = {
        key: value
        for key, value in body.items()
        if key not in TRANSPORT_KEYS and not (key in EMPTY_MEANS_ABSENT and value in ("", [], {}))
    }
    model = normal.get("model")
    if aliases and isinstance(model, str) and model in aliases:
        normal["model"] = aliases[model]
    return json.loads(json.dumps(normal, sort_keys=True))


def request_key(endpoint: str, agent: str | None, normal: Mapping[str, Any]) -> str:
    """The matching key: endpoint, agent and normalized request as canonical JSON."""
    return json.dumps([endpoint, agent, normal], sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class RecordedCall:
    """One `llm_call` of a trace, numbered from 1 in recorded order."""

    number: int
    event: Event

    @property
    def agent(self) -> str | None:
        """The agent the call was attributed to."""
        return self.event.get("agent")

    @property
    def endpoint(self) -> str:
        """The endpoint asked (`/api/chat`, `/v1/chat/completions`, ...)."""
        return str(self.event.get("endpoint") or "/api/chat")

    @cached_property
    def normal(self) -> Event:
        """The normalized recorded request."""
        return normalize_request(self.event.get("request") or {})

    @cached_property
    def key(self) -> str:
        """The matching key."""
        return request_key(self.endpoint, self.agent, self.normal)


def recorded_calls(trace: Trace) -> list[RecordedCall]:
    """The trace's `llm_call` events as numbered recorded calls."""
    return [RecordedCall(i, e) for i, e in enumerate(trace.of_kind(LLM_CALL), start=1)]


@dataclass(frozen=True)
class Divergence:
    """A request the recording does not hold: where, whose, and how it differs."""

    call: int
    agent: str | None
    endpoint: str
    closest: int | None
    diff: str
    recorded: int = 0

    @property
    def message(self) -> str:
        """One line naming the diverging call and agent."""
        where = f"replay diverged at call {self.call} (agent {self.agent or '?'}, {self.endpoint})"
        if self.closest is None:
            return f"{where}: the recording holds only {self.recorded} model calls, all served"
        return (
            f"{where}: the request matches no recorded call (closest: recorded call {self.closest})"
        )

    def as_fields(self) -> Event:
        """The divergence as event fields (for a trace `error` or a test)."""
        return {
            "call": self.call,
            "agent": self.agent,
            "endpoint": self.endpoint,
            "closest": self.closest,
            "diff": self.diff,
            "recorded": self.recorded,
        }


@dataclass
class Matcher:
    """Serves recorded calls to new requests by normalized content, once each."""

    calls: list[RecordedCall]
    aliases: dict[str, str] = field(default_factory=dict)
    _queues: dict[str, deque[RecordedCall]] = field(init=False)
    _served: set[int] = field(init=False, default_factory=set)
    _asked: int = field(init=False, default=0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    divergence: Divergence | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._queues = defaultdict(deque)
        for call in self.calls:
            self._queues[call.key].append(call)

    @property
    def asked(self) -> int:
        """How many model requests were matched or refused so far."""
        return self._asked

    @property
    def served(self) -> int:
        """How many recorded calls were served."""
        return len(self._served)

    def unserved(self) -> list[RecordedCall]:
        """The recorded calls no request has asked for yet, in recorded order."""
        with self._lock:
            return [c for c in self.calls if c.number not in self._served]

    def match(self, endpoint: str, agent: str | None, body: Mapping[str, Any]) -> RecordedCall:
        """The recorded call answering this request; raise DivergedError when there is none."""
        normal = normalize_request(body, self.aliases)
        with self._lock:
            self._asked += 1
            if self.divergence is not None:
                raise DivergedError(self.divergence, after=True)
            queue = self._queues.get(request_key(endpoint, agent, normal))
            if queue:
                call = queue.popleft()
                self._served.add(call.number)
                return call
            self.divergence = self._diverge(endpoint, agent, normal)
            raise DivergedError(self.divergence)

    def _diverge(self, endpoint: str, agent: str | None, normal: Event) -> Divergence:
        closest = self.closest(agent, normal)
        if closest is None:
            diff = "(the recording has no model call left to compare with)"
        else:
            diff = request_diff(closest.normal, normal, closest.number, self._asked)
        number = closest.number if closest else None
        return Divergence(self._asked, agent, endpoint, number, diff, len(self.calls))

    def closest(self, agent: str | None, normal: Event) -> RecordedCall | None:
        """The unserved recorded call most like a request (same agent first), else None."""
        unserved = [c for c in self.calls if c.number not in self._served]
        pool = [c for c in unserved if c.agent == agent] or unserved
        if not pool:
            return None
        lines = request_lines(normal)
        return max(pool, key=lambda c: (_similarity(request_lines(c.normal), lines), -c.number))


class DivergedError(Exception):
    """A request the recording cannot answer (carries the first divergence)."""

    def __init__(self, divergence: Divergence, *, after: bool = False) -> None:
        self.divergence = divergence
        self.after = after
        prefix = "replay stopped earlier: " if after else ""
        super().__init__(prefix + divergence.message)


def _similarity(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def request_lines(normal: Mapping[str, Any]) -> list[str]:
    """A request as readable lines: each message's role and content lines, then the rest."""
    lines = [f"model: {normal.get('model')}"]
    for i, message in enumerate(normal.get("messages") or []):
        lines.extend(_message_lines(i, message))
    for key in ("prompt", "system"):
        if isinstance(normal.get(key), str):
            lines.append(f"{key}:")
            lines.extend(f"  {line}" for line in normal[key].splitlines())
    for key, value in sorted(normal.items()):
        if key not in ("model", "messages", "prompt", "system"):
            lines.extend(_value_lines(key, value))
    return lines


def _value_lines(key: str, value: Any) -> list[str]:
    """`key: value` on one line, or the value as indented JSON when that line is long."""
    line = f"{key}: {json.dumps(value, sort_keys=True)}"
    if len(line) <= DIFF_WIDTH:
        return [line]
    body = json.dumps(value, sort_keys=True, indent=1).splitlines()
    return [f"{key}:", *(f"  {part}" for part in body)]


def _message_lines(index: int, message: Any) -> list[str]:
    if not isinstance(message, dict):
        return [f"[{index}] {json.dumps(message, sort_keys=True)}"]
    content = message.get("content")
    text = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
    lines = [f"[{index}] {message.get('role')}:"]
    lines.extend(f"  {line}" for line in (text or "").splitlines())
    rest = {k: v for k, v in message.items() if k not in ("role", "content")}
    if rest:
        lines.append(f"  {json.dumps(rest, sort_keys=True)}")
    return lines


def request_diff(recorded: Event, new: Event, recorded_number: int, new_number: int) -> str:
    """A short unified diff from a recorded request to a new one."""
    diff = difflib.unified_diff(
        request_lines(recorded),
        request_lines(new),
        fromfile=f"recorded call {recorded_number}",
        tofile=f"new call {new_number}",
        n=1,
        lineterm="",
    )
    lines = _focus(list(diff))
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... ({len(lines) - DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def _focus(lines: list[str]) -> list[str]:
    """Long lines clipped; a changed line and its replacement clipped around where they differ."""
    out: list[str] = []
    for i, line in enumerate(lines):
        before, after = lines[i - 1] if i else "", lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("-") and after.startswith("+") and not after.startswith("+++"):
            out.append(_clip(line, _differs_at(line[1:], after[1:])))
        elif line.startswith("+") and before.startswith("-") and not before.startswith("---"):
            out.append(_clip(line, _differs_at(before[1:], line[1:])))
        else:
            out.append(_clip(line, 0))
    return out


def _differs_at(a: str, b: str) -> int:
    """The index of the first character where two strings differ."""
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _clip(line: str, at: int) -> str:
    """At most DIFF_WIDTH characters of a diff line, showing position `at` of its text."""
    if len(line) <= DIFF_WIDTH:
        return line
    sign, text = line[:1], line[1:]
    start = max(0, at - DIFF_WIDTH // 3)
    window = text[start : start + DIFF_WIDTH - 3]
    head = "…" if start else ""
    tail = "…" if start + len(window) < len(text) else ""
    return f"{sign}{head}{window}{tail}"


# -- verify ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One agent turn as verify compares it."""

    agent: str | None
    task: str | None
    content: str

    def label(self) -> str:
        """`agent` or `agent/task`."""
        return f"{self.agent}/{self.task}" if self.task else str(self.agent)


def turns(events: Iterable[Event]) -> list[Turn]:
    """The agent turns of a run, in order."""
    return [
        Turn(e.get("agent"), e.get("task"), str(e.get("content") or "").strip())
        for e in events
        if e.get("kind") == AGENT_MESSAGE
    ]


def verify(recorded: Trace, replayed: Trace) -> list[str]:
    """The differences in final output and agent turns between two runs (empty: same)."""
    problems = _turn_problems(turns(recorded.events), turns(replayed.events))
    old, new = _final(recorded), _final(replayed)
    if old != new:
        problems.append(f"final output differs: {_snippet(old)!r} != {_snippet(new)!r}")
    if replayed.status != recorded.status:
        problems.append(f"status differs: {recorded.status} != {replayed.status}")
    return problems


def _turn_problems(old: list[Turn], new: list[Turn]) -> list[str]:
    if _by_agent(old) == _by_agent(new):
        return []  # the same turns of each agent; only concurrent branches finished in turn
    for i, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        if (a.agent, a.task) != (b.agent, b.task):
            return [f"turn {i}: recorded {a.label()}, replayed {b.label()}"]
        if a.content != b.content:
            return [f"turn {i} ({a.label()}): content differs: {_snippet(a.content)!r}"]
    if len(old) != len(new):
        labels = " → ".join(t.label() for t in new)
        return [f"{len(old)} turns recorded, {len(new)} replayed ({labels})"]
    return []


def _by_agent(sequence: list[Turn]) -> dict[str | None, list[Turn]]:
    """Each agent's own turns, in order (parallel branches may interleave differently)."""
    grouped: dict[str | None, list[Turn]] = defaultdict(list)
    for turn in sequence:
        grouped[turn.agent].append(turn)
    return dict(grouped)


def _final(trace: Trace) -> str:
    finished = trace.run_finished or {}
    return str(finished.get("final_output") or "").strip()


def _snippet(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
