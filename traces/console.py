"""The live console: each agent turn as it happens, and a spinner while a model works.

It is a recorder listener. Events arrive from the run's thread and from the gateway's
thread, so every screen change goes through one lock.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.status import Status
from rich.text import Text

from traces.compare import RunRow, status_label
from traces.schema import CONTEXT_TRUNCATED, TOOL_FAILED

RESULT_WIDTH = 300  # characters of a tool result shown after its call (`replay show`)
LIVE_RESULT_WIDTH = 160  # and while a run goes on
PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "orange3")
PLAIN_FIELDS = ("content",)  # shown as rich Text, never parsed as markup


def markup_safe(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its text escaped for rich markup: model-written `[...]` stays text."""
    return {
        key: escape(value) if isinstance(value, str) and key not in PLAIN_FIELDS else value
        for key, value in event.items()
    }


def message_panel(event: dict[str, Any], colour: str) -> Panel:
    """An agent turn as a panel titled with the agent, its task and the turn number."""
    task = f" · {event['task']}" if event.get("task") else ""
    title = f"[bold {colour}]{event.get('agent')}[/]{task} · turn {event.get('turn')}"
    body = Text(str(event.get("content", "")).strip() or "(empty)")
    return Panel(body, title=title, title_align="left", border_style=colour)


def route_line(event: dict[str, Any]) -> str:
    """A routing decision as one dim line."""
    reason = f": {event['reason']}" if event.get("reason") else ""
    return f"[dim]→ {event.get('from')} → {event.get('to')}{reason}[/]"


def tool_line(event: dict[str, Any], colour: str, width: int = RESULT_WIDTH) -> str:
    """A tool call as one line: agent, tool, arguments, duration, then result or error.

    The event's text fields must be markup-safe already (`markup_safe`); the arguments
    are escaped here.
    """
    agent = event.get("agent")
    arguments = escape(json.dumps(event.get("arguments"), ensure_ascii=False))
    head = f"  [{colour}]{agent}[/] calls [bold]{event.get('tool')}[/]{arguments}"
    duration = event.get("duration_ms")
    took = f" [dim]({duration} ms)[/]" if duration is not None else ""
    if event.get("error"):
        return f"{head}{took} [red]→ error: {clip(str(event['error']), width)}[/]"
    return f"{head}{took} → {clip(str(event.get('result')), width)}"


def clip(text: str, width: int) -> str:
    """Text on one line, cut to `width` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def warning_line(event: dict[str, Any]) -> str:
    """A warning as one line."""
    return f"[yellow]warning[/] {event.get('code')}: {event.get('message')}"


def error_line(event: dict[str, Any]) -> str:
    """An error event as one line (the first line of its message)."""
    message = str(event.get("message") or "").splitlines() or [""]
    return f"[red]error[/] {event.get('type')}: {message[0]}"


STATUS_BORDERS = {"ok": "green", "failed": "red"}  # any other status is a warning: yellow


def run_summary(row: RunRow) -> Panel:
    """A run's one-screen summary: status and reasons, turns, calls, tokens, times, trace."""
    share = f" ({row.overhead_share:.0%})" if row.overhead_share is not None else ""
    tools = f" · tool calls {row.tool_calls} ({row.tool_errors} failed)" if row.tool_calls else ""
    lines = [
        f"[bold]status[/]  {escape(status_label(row))}",
        f"turns {row.agent_turns} · model calls {row.llm_calls}{tools}",
        f"tokens {row.input_tokens} in · {row.output_tokens} out",
        f"wall {row.wall_time_s:.1f} s · model {row.model_time_s:.1f} s · "
        f"overhead {row.overhead_s:.1f} s{share}",
        f"served by {escape(row.served_by)} · models {escape(row.models)}",
        f"[dim]trace {escape(row.path)}[/]",
    ]
    title = f"{escape(row.scenario)} · {escape(row.framework)} · run {row.run_id}"
    border = STATUS_BORDERS.get(row.status, "yellow")
    return Panel("\n".join(lines), title=title, title_align="left", border_style=border)


class LiveConsole:
    """Prints a run's turns, routes and warnings as they come; shows work in progress."""

    def __init__(self, console: Console, agents: list[str]) -> None:
        self.console = console
        self.colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(agents)}
        self._lock = threading.Lock()
        self._status: Status | None = None
        self._warned: set[tuple[str, str]] = set()

    def __call__(self, event: dict[str, Any]) -> None:
        """Handle one event or signal from the recorder."""
        handler = getattr(self, f"_on_{event.get('kind')}", None)
        if handler is not None:
            with self._lock:
                handler(markup_safe(event))

    def close(self) -> None:
        """Stop the spinner if one is showing."""
        with self._lock:
            self._stop_status()

    def colour(self, agent: str | None) -> str:
        """The colour an agent is shown in."""
        return self.colours.get(agent or "", "white")

    def _show_status(self, text: str) -> None:
        if self._status is None:
            self._status = self.console.status(text, spinner="dots")
            self._status.start()
        else:
            self._status.update(text)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _on_agent_started(self, event: dict[str, Any]) -> None:
        task = f" on [bold]{event['task']}[/]" if event.get("task") else ""
        agent = event.get("agent")
        self._show_status(f"[{self.colour(agent)}]{agent}[/] is working{task}…")

    def _on_llm_started(self, event: dict[str, Any]) -> None:
        agent = event.get("agent")
        self._show_status(f"[{self.colour(agent)}]{agent}[/] waits for {event.get('model')}…")

    def _on_llm_call(self, event: dict[str, Any]) -> None:
        metrics = event.get("metrics") or {}
        agent = event.get("agent")
        tokens, ns = metrics.get("eval_count") or 0, metrics.get("eval_duration") or 0
        speed = f", {tokens / ns * 1e9:.0f} tok/s" if ns else ""
        self._show_status(
            f"[{self.colour(agent)}]{agent}[/]: {event.get('model')} answered "
            f"{tokens} tokens in {(metrics.get('total_duration') or 0) / 1e9:.1f}s{speed}"
        )

    def _on_agent_message(self, event: dict[str, Any]) -> None:
        self._stop_status()
        self.console.print(message_panel(event, self.colour(event.get("agent"))))

    def _on_route(self, event: dict[str, Any]) -> None:
        self.console.print(route_line(event))

    def _on_tool_call(self, event: dict[str, Any]) -> None:
        self.console.print(tool_line(event, self.colour(event.get("agent")), LIVE_RESULT_WIDTH))

    def _on_warning(self, event: dict[str, Any]) -> None:
        if event.get("code") == TOOL_FAILED:
            return  # its tool line, just printed, already says the error in red
        key = (str(event.get("code")), str(event.get("agent")))
        if event.get("code") == CONTEXT_TRUNCATED and key in self._warned:
            return
        self._warned.add(key)
        self.console.print(warning_line(event))

    def _on_error(self, _event: dict[str, Any]) -> None:
        """Stop the spinner; the error itself is the CLI's one line (printed once, not twice)."""
        self._stop_status()

    def _on_run_finished(self, _event: dict[str, Any]) -> None:
        self._stop_status()
