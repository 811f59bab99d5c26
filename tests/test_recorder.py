"""The trace recorder: envelope fields, one flushed line per event, totals from llm_call."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from traces.recorder import TraceRecorder
from traces.schema import SCHEMA_VERSION, totals_of


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _call(prompt: int, completion: int, total_ns: int) -> dict:
    return {
        "metrics": {
            "prompt_eval_count": prompt,
            "eval_count": completion,
            "total_duration": total_ns,
        }
    }


def test_every_line_carries_the_envelope(tmp_path: Path) -> None:
    """Each event has schema, ts, run_id, seq (1, 2, ...) and kind, then its own fields."""
    recorder = TraceRecorder(tmp_path / "t.jsonl", run_id="abc")
    recorder.emit("run_started", scenario="s")
    recorder.emit("agent_message", agent="a", content="hi")
    events = _lines(recorder.path)
    assert [list(e)[:5] for e in events] == [["schema", "ts", "run_id", "seq", "kind"]] * 2
    assert [(e["schema"], e["run_id"], e["seq"], e["kind"]) for e in events] == [
        (SCHEMA_VERSION, "abc", 1, "run_started"),
        (SCHEMA_VERSION, "abc", 2, "agent_message"),
    ]
    assert events[1]["content"] == "hi" and events[0]["ts"].endswith("Z")


def test_lines_are_on_disk_before_close(tmp_path: Path) -> None:
    """An event is readable from the file as soon as emit returns (a killed run loses nothing)."""
    recorder = TraceRecorder(tmp_path / "t.jsonl")
    recorder.emit("run_started", scenario="s")
    assert _lines(recorder.path)[0]["kind"] == "run_started"
    recorder.close()


def test_totals_are_sums_over_llm_calls(tmp_path: Path) -> None:
    """The recorder's totals equal the totals recomputed from the written llm_call events."""
    recorder = TraceRecorder(tmp_path / "t.jsonl")
    recorder.emit("llm_call", **_call(10, 5, 2_000_000_000))
    recorder.emit("agent_message", agent="a", content="x")
    recorder.emit("llm_call", **_call(7, 3, 500_000_000))
    assert (
        recorder.totals()
        == totals_of(_lines(recorder.path))
        == {"llm_calls": 2, "input_tokens": 17, "output_tokens": 8, "model_time_s": 2.5}
    )


def test_concurrent_emits_keep_seq_and_lines_whole(tmp_path: Path) -> None:
    """Events from several threads become whole lines with unique, gap-free seq numbers."""
    recorder = TraceRecorder(tmp_path / "t.jsonl")

    def burst() -> None:
        for i in range(200):
            recorder.emit("agent_message", content="x" * (i % 50))

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = [e["seq"] for e in _lines(recorder.path)]
    assert seqs == list(range(1, 801))


def test_listeners_see_events_and_signals_but_signals_are_not_written(tmp_path: Path) -> None:
    """A listener gets both emitted events and transient signals; only events reach the file."""
    recorder = TraceRecorder(tmp_path / "t.jsonl")
    seen: list[str] = []
    recorder.subscribe(lambda event: seen.append(event["kind"]))
    recorder.signal("llm_started", agent="a")
    recorder.emit("agent_message", agent="a", content="x")
    assert seen == ["llm_started", "agent_message"]
    assert [e["kind"] for e in _lines(recorder.path)] == ["agent_message"]


def test_a_failing_listener_never_stops_the_trace(tmp_path: Path) -> None:
    """A listener that raises is logged; the event and every later one are still written."""
    recorder = TraceRecorder(tmp_path / "t.jsonl")

    def broken(_event: dict) -> None:
        raise ValueError("display bug")

    recorder.subscribe(broken)
    recorder.emit("route", reason="x")
    recorder.emit("run_finished", status="ok")
    assert [e["kind"] for e in _lines(recorder.path)] == ["route", "run_finished"]
