"""The live console: model-written text is shown as text, never parsed as rich markup."""

from __future__ import annotations

from rich.console import Console

from traces.console import LiveConsole


def _screen(*events: dict) -> str:
    console = Console(record=True, width=120, force_terminal=False)
    live = LiveConsole(console, ["planner"])
    for event in events:
        live(event)
    live.close()
    return console.export_text()


def test_brackets_in_model_text_are_printed_literally() -> None:
    """A route reason, warning or message holding `[...]` prints as written."""
    screen = _screen(
        {"kind": "route", "from": "boss", "to": "planner", "reason": "see [/tmp] and [bold]"},
        {"kind": "warning", "code": "x", "message": "cannot open C:[/tmp]"},
        {"kind": "error", "type": "OSError", "message": "bad [/] path"},
        {"kind": "agent_message", "agent": "planner", "content": "list [1] [/b]", "turn": 1},
    )
    for text in ("see [/tmp] and [bold]", "cannot open C:[/tmp]", "list [1] [/b]"):
        assert text in screen
    assert "bad [/] path" not in screen  # errors are the CLI's one line, not repeated here


def test_context_truncation_is_said_once_per_agent() -> None:
    """Repeated context_truncated warnings for one agent print once; another agent's print too."""
    warning = {"kind": "warning", "code": "context_truncated", "message": "prompt filled num_ctx"}
    screen = _screen(
        {**warning, "agent": "planner"},
        {**warning, "agent": "planner"},
        {**warning, "agent": "writer"},
    )
    assert screen.count("prompt filled num_ctx") == 2
