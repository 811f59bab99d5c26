"""How a team's events reach the trace: in order, agent turns numbered 1, 2, ...

Every runner writes its turns through a `TurnWriter`, so `agent_message` events have the
same fields and turn numbering whichever framework ran the team.
"""

from __future__ import annotations

from team.events import Event
from traces.recorder import TraceRecorder


class TurnWriter:
    """Writes LangGraph-shaped node events to the trace, numbering agent turns 1, 2, ...

    Every runner writes its turns through one of these, so `agent_message` events have the
    same fields and turn numbering whichever framework ran the team.
    """

    def __init__(self, recorder: TraceRecorder) -> None:
        self.recorder = recorder
        self.turn = 0

    def write(self, event: Event) -> None:
        """Write one event; an agent message gets the next turn number."""
        fields = dict(event)
        kind = fields.pop("kind")
        if kind == "agent_message":
            self.turn += 1
            fields = {
                "agent": fields.pop("agent"),
                "role": "assistant",
                "content": fields.pop("content"),
                "turn": self.turn,
                **fields,
            }
        self.recorder.emit(kind, **fields)
