"""`replay show`: a trace rendered as a readable transcript, in the live console's colours.

Each agent message is a panel in its agent's colour (the same colours the live console
used), each model call one dim line with tokens, duration and tokens/s, each tool call with
its arguments and result, each routing decision with its reason, warnings and errors, and
at the end the final output, or a plain statement that the run did not finish.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.text import Text

from traces.console import (
    PALETTE,
    error_line,
    markup_safe,
    message_panel,
    route_line,
    tool_line,
    warning_line,
)
from traces.reader import Trace
from traces.schema import LLM_CALL

Event = dict[str, Any]


def agent_colours(trace: Trace) -> dict[str, str]:
    """Agent name -> colour, in the order `run_started` lists them (as the live console does)."""
    started = trace.run_started or {}
    names = list(started.get("agents") or [])
    for event in trace.events:
        agent = event.get("agent")
        if isinstance(agent, str) and agent not in names:
            names.append(agent)
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


class Transcript:
    """Prints one trace to a rich console."""

    def __init__(self, trace: Trace, console: Console) -> None:
        self.trace = trace
        self.console = console
        self.colours = agent_colours(trace)
        self._call = 0

    def colour(self, agent: Any) -> str:
        """The colour an agent is shown in."""
        return self.colours.get(str(agent), "white")

    def render(self) -> None:
        """Header, every event in order, then the outcome."""
        self._header()
        for event in self.trace.events:
            handler = getattr(self, f"_on_{event.get('kind')}", None)
            if handler is not None:
                handler(markup_safe(event))
        self._outcome()

    def _header(self) -> None:
        started = self.trace.run_started
        self.console.rule(f"[bold]{self.trace.path.name}")
        if started is None:
            self.console.print("[yellow]no run_started: a gateway recording, not a run[/]")
            return
        self.console.print(
            f"[bold]{started.get('scenario')}[/] · {started.get('framework')} · "
            f"backend {started.get('backend')} · run {self.trace.run_id} · {started.get('ts')}"
        )
        inputs = started.get("inputs") or {}
        for name, value in inputs.items():
            self.console.print(f"[dim]input[/] {name} = {value!r}")
        for name, profile in (started.get("models") or {}).items():
            self.console.print(f"[dim]model[/] {name}: {profile.get('model')}")
        if replay := started.get("replay_of"):
            self.console.print(f"[dim]replay of[/] {replay.get('trace')} {_fork_note(replay)}")

    def _on_backend_selected(self, event: Event) -> None:
        for backend in event.get("backends") or []:
            self.console.print(f"[dim]{backend.get('note') or backend.get('kind')}[/]")

    def _on_llm_call(self, event: Event) -> None:
        self._call += 1
        agent = event.get("agent")
        line = f"  [dim]call {self._call} ·[/] [{self.colour(agent)}]{agent}[/] [dim]· "
        line += f"{call_summary(event)}[/]"
        if event.get("error"):
            line += f" [red]error: {event['error'].splitlines()[0]}[/]"
        self.console.print(line)

    def _on_agent_message(self, event: Event) -> None:
        self.console.print(message_panel(event, self.colour(event.get("agent"))))

    def _on_tool_call(self, event: Event) -> None:
        self.console.print(tool_line(event, self.colour(event.get("agent"))))

    def _on_route(self, event: Event) -> None:
        self.console.print(route_line(event))

    def _on_warning(self, event: Event) -> None:
        self.console.print(warning_line(event))

    def _on_error(self, event: Event) -> None:
        self.console.print(error_line(event))

    def _outcome(self) -> None:
        finished = self.trace.run_finished
        if finished is None:
            self.console.rule("[red]the run did not finish")
            self.console.print(f"[red]{unfinished_reason(self.trace)}[/]")
            return
        self.console.rule(f"final output · {self.trace.status}")
        print_final(self.console, finished)


def print_final(console: Console, finished: Event) -> None:
    """The final output and the run's totals."""
    output = str(finished.get("final_output") or "").strip()
    console.print(Text(output) if output else Text("(no final output)", style="dim"))
    if finished.get("error"):
        console.print(f"[red]{str(finished['error']).splitlines()[0]}[/]")
    totals = finished.get("totals") or {}
    console.print(
        f"[dim]{totals.get('llm_calls', 0)} model calls · {totals.get('input_tokens', 0)} in, "
        f"{totals.get('output_tokens', 0)} out tokens · model {totals.get('model_time_s', 0)} s · "
        f"wall {totals.get('wall_time_s', 0)} s[/]"
    )


def unfinished_reason(trace: Trace) -> str:
    """One line: the run did not finish, and what the trace shows of why."""
    where = "its last line is cut (the run was killed)" if trace.cut else "it has no run_finished"
    count = len(trace.events)
    return f"the run did not finish: {where}; {count} events read up to there"


def call_summary(event: Event) -> str:
    """`model · 145→121 tokens · 40.0 s · 3.9 tok/s · embedded` for one `llm_call`."""
    metrics = event.get("metrics") or {}
    prompt, output = metrics.get("prompt_eval_count") or 0, metrics.get("eval_count") or 0
    total_s = (metrics.get("total_duration") or 0) / 1e9
    eval_ns = metrics.get("eval_duration") or 0
    speed = f" · {output / eval_ns * 1e9:.1f} tok/s" if eval_ns else ""
    latency = event.get("latency_ms")
    wall = f" · wall {latency / 1000:.2f} s" if isinstance(latency, int | float) else ""
    return (
        f"{event.get('model')} · {prompt}→{output} tokens · {total_s:.1f} s{speed}{wall} · "
        f"{event.get('upstream')}"
    )


def render_call(trace: Trace, number: int, console: Console) -> None:
    """One model call's full wire request and response (number from 1)."""
    event = model_call(trace, number)
    agent = event.get("agent")
    console.rule(f"call {number} · {agent} · {event.get('endpoint')}")
    console.print(f"[dim]{call_summary(event)} · streamed {event.get('streamed')}[/]")
    console.print(f"[dim]call id {event.get('call_id')} · done_reason {event.get('done_reason')}")
    for title in ("request", "response"):
        console.print(f"[bold]{title}[/]")
        text = json.dumps(event.get(title), indent=2, ensure_ascii=False)
        console.print(Syntax(text, "json", word_wrap=True))
    if event.get("error"):
        console.print(f"[red]error[/] {escape(str(event['error']))}")


def model_call(trace: Trace, number: int) -> Event:
    """The `number`-th `llm_call` (from 1); IndexError naming the range when there is none."""
    calls = trace.of_kind(LLM_CALL)
    if not 1 <= number <= len(calls):
        raise IndexError(f"{trace.path}: no model call {number} (the trace has {len(calls)})")
    return calls[number - 1]


def _fork_note(replay: Event) -> str:
    fork = replay.get("from")
    return f"(first {fork} calls replayed, then live)" if fork is not None else "(all calls)"
