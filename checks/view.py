"""What checks look at: a finished run reduced to the facts they need.

Built from a trace (`checks.from_trace`), so recorded runs can be re-scored without
running them again; the scoring never reads the trace's JSON itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolUse:
    """One tool call: which tool, and whether it ended in an error."""

    tool: str
    failed: bool


@dataclass(frozen=True)
class RunView:
    """A finished run as checks see it."""

    final_output: str
    task_outputs: dict[str, str] = field(default_factory=dict)  # the last output of each task
    tool_uses: list[ToolUse] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # warning codes, in order
    turns: int = 0
    output_tokens: int = 0  # the team's, not a judge's
    wall_time_s: float = 0.0
    inputs: dict[str, str] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    trace: Any = None  # the trace itself, for a user's python scorer

    def output_of(self, task: str | None) -> str:
        """The output a check looks at: a task's, or the run's final output."""
        return self.final_output if task is None else self.task_outputs.get(task, "")
