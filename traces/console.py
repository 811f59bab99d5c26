"""The live console: each agent turn as it happens, and a spinner while a model works.

It is a recorder listener. Events arrive from the run's thread and from the gateway's
thread, so every screen change goes through one lock.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.status import Status
from rich.text import Text

PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "orange3")


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
                handler(event)

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
        agent = event.get("agent")
        task = f" · {event['task']}" if event.get("task") else ""
        title = f"[bold {self.colour(agent)}]{agent}[/]{task} · turn {event.get('turn')}"
        body = Text(str(event.get("content", "")).strip() or "(empty)")
        self.console.print(
            Panel(body, title=title, title_align="left", border_style=self.colour(agent))
        )

    def _on_route(self, event: dict[str, Any]) -> None:
        reason = f": {event['reason']}" if event.get("reason") else ""
        self.console.print(f"[dim]→ {event.get('from')} → {event.get('to')}{reason}[/]")

    def _on_warning(self, event: dict[str, Any]) -> None:
        key = (str(event.get("code")), str(event.get("agent")))
        if event.get("code") == "context_truncated" and key in self._warned:
            return
        self._warned.add(key)
        self.console.print(f"[yellow]warning[/] {event.get('code')}: {event.get('message')}")

    def _on_error(self, event: dict[str, Any]) -> None:
        self._stop_status()
        self.console.print(f"[red]error[/] {event.get('type')}: {event.get('message')}")

    def _on_run_finished(self, _event: dict[str, Any]) -> None:
        self._stop_status()
