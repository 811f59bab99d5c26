"""The live console: model-written text is shown as text, never parsed as rich markup."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from traces.console import LiveConsole

DEGRADED = Path(__file__).parent / "fixtures" / "compare" / "batch" / "tool_team_degraded.jsonl"


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


def test_tool_calls_show_live_with_their_errors_once() -> None:
    """A tool call prints as it happens; a failed one shows its error once, not again as warning."""
    screen = _screen(
        {
            "kind": "tool_call",
            "agent": "planner",
            "tool": "calculator",
            "arguments": {"x": 1},
            "result": "1 = 1",
            "error": None,
            "duration_ms": 0.4,
        },
        {
            "kind": "tool_call",
            "agent": "planner",
            "tool": "retrieve",
            "arguments": {"k": 10},
            "result": "",
            "error": "k: Input should be less than or equal to 5",
            "duration_ms": 1,
        },
        {
            "kind": "warning",
            "code": "tool_failed",
            "agent": "planner",
            "tool": "retrieve",
            "message": "retrieve failed for planner: k: Input should be less than or equal to 5",
        },
    )
    assert 'planner calls calculator{"x": 1} (0.4 ms) → 1 = 1' in screen
    assert screen.count("less than or equal to 5") == 1 and "→ error: k:" in screen


def test_the_summary_says_status_reasons_numbers_and_trace() -> None:
    """The end-of-run panel has the status with its reasons, the counts, times and the trace."""
    from traces.compare import row_of
    from traces.console import run_summary
    from traces.reader import read_trace

    row = row_of(read_trace(DEGRADED))
    console = Console(record=True, width=200, force_terminal=False)
    console.print(run_summary(row))
    screen = console.export_text()
    assert "status  degraded (2 tool errors, 1 truncated)" in screen
    assert f"turns {row.agent_turns} · model calls {row.llm_calls}" in screen
    assert f"tool calls {row.tool_calls} ({row.tool_errors} failed)" in screen
    assert "served by embedded (llama3.1:8b→smollm2:135m)" in screen and row.path in screen
