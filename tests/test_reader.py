"""The trace reader: cut last lines, unknown kinds, schema versions, damaged files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.errors import EXIT_BAD_INPUT
from traces import reader
from traces.reader import TraceError, read_trace, read_traces
from traces.recorder import TraceRecorder
from traces.schema import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures" / "compare"
OK = FIXTURES / "research_team_ok.jsonl"
CUT = FIXTURES / "research_team_cut.jsonl"
FAILED = FIXTURES / "research_team_failed.jsonl"


def _event(kind: str, seq: int, **fields: object) -> dict:
    return {
        "schema": SCHEMA_VERSION,
        "ts": f"2026-01-01T00:00:0{seq}.000000Z",
        "run_id": "r1",
        "seq": seq,
        "kind": kind,
        **fields,
    }


def _write(path: Path, events: list[dict], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events) + tail, encoding="utf-8")
    return path


def test_a_finished_run_reads_with_its_first_and_last_event() -> None:
    """A real finished trace gives run_started, run_finished, status ok and every event."""
    trace = read_trace(OK)
    assert trace.run_started is not None and trace.run_started["scenario"] == "research_team"
    assert trace.run_finished is not None and trace.status == "ok" and trace.finished
    assert not trace.cut and trace.unknown_kinds == ()
    assert [e["seq"] for e in trace.events] == list(range(1, 13))


def test_a_cut_last_line_is_dropped_and_the_run_marked_unfinished() -> None:
    """The half-written last line of a killed run is skipped; the run reads as unfinished."""
    trace = read_trace(CUT)
    assert trace.cut and trace.run_finished is None and trace.status == "unfinished"
    assert [e["kind"] for e in trace.events][-1] == "llm_call"
    assert len(trace.events) == 9


def test_a_failed_run_reports_failed() -> None:
    """A run that ended in an error reads with status failed and its error event."""
    trace = read_trace(FAILED)
    assert trace.status == "failed" and not trace.cut
    assert trace.first("error")["message"] == "model runner has unexpectedly stopped"


def test_a_damaged_middle_line_is_refused_with_file_and_line(tmp_path: Path) -> None:
    """Only the last line may be cut: a bad line inside the file is an error naming the line."""
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps(_event("run_started", 1)) + "\n{oops\n" + json.dumps(_event("route", 3)) + "\n"
    )
    with pytest.raises(TraceError, match=r"t\.jsonl:2: not a JSON object") as info:
        read_trace(path)
    assert info.value.exit_code == EXIT_BAD_INPUT


def test_a_bad_last_line_ended_by_a_newline_is_damage_not_a_cut(tmp_path: Path) -> None:
    """A complete (newline-terminated) last line that is not JSON is refused, not skipped."""
    path = _write(tmp_path / "t.jsonl", [_event("run_started", 1)], tail="{oops\n")
    with pytest.raises(TraceError, match=":2: not a JSON object"):
        read_trace(path)


def test_unknown_kinds_are_kept_and_listed(tmp_path: Path) -> None:
    """Events of a kind this lab does not know stay in the events and are named."""
    path = _write(
        tmp_path / "t.jsonl",
        [
            _event("run_started", 1),
            _event("handoff_v2", 2, to="x"),
            _event("run_finished", 3, status="ok"),
        ],
    )
    trace = read_trace(path)
    assert trace.unknown_kinds == ("handoff_v2",)
    assert [e["kind"] for e in trace.events] == ["run_started", "handoff_v2", "run_finished"]


def test_a_newer_schema_is_refused_with_the_fix(tmp_path: Path) -> None:
    """A trace from a newer lab is not guessed at: the message says to upgrade."""
    event = {**_event("run_started", 1), "schema": SCHEMA_VERSION + 1}
    path = _write(tmp_path / "new.jsonl", [event])
    with pytest.raises(TraceError) as info:
        read_trace(path)
    message = str(info.value)
    assert "new.jsonl" in message and "newer" in message and "upgrade" in message
    assert "\n" not in message


def test_an_older_schema_without_a_conversion_is_refused(tmp_path: Path) -> None:
    """An older schema with no upgrade step is refused by name, never misread."""
    path = _write(tmp_path / "old.jsonl", [{**_event("run_started", 1), "schema": 0}])
    with pytest.raises(TraceError, match="schema 0 is older"):
        read_trace(path)


def test_an_older_schema_is_converted_when_an_upgrade_step_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an upgrade step registered, old events are read in the current form."""

    def rename(event: dict) -> dict:
        event = dict(event)
        event["scenario"] = event.pop("name", None)
        return event

    monkeypatch.setitem(reader.UPGRADES, 0, rename)
    path = _write(
        tmp_path / "old.jsonl", [{**_event("run_started", 1), "schema": 0, "name": "legacy"}]
    )
    trace = read_trace(path)
    assert trace.run_started["scenario"] == "legacy"
    assert trace.run_started["schema"] == SCHEMA_VERSION and "name" not in trace.run_started
    assert trace.schema == 0


def test_mixed_schema_versions_are_refused(tmp_path: Path) -> None:
    """One trace, one schema: a file mixing versions is refused."""
    path = _write(
        tmp_path / "mix.jsonl", [_event("run_started", 1), {**_event("route", 2), "schema": 0}]
    )
    with pytest.raises(TraceError, match="mixes schema versions"):
        read_trace(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no events"),
        ('{"a": 1}\n', "not a trace event"),
        ("[1, 2]\n", "not a trace event"),
        ('{"schema": "one", "kind": "x"}\n', "not a version number"),
    ],
)
def test_files_that_are_not_traces_are_refused(tmp_path: Path, content: str, message: str) -> None:
    """Empty files, JSON that is not an event, and non-numeric schemas are refused clearly."""
    path = tmp_path / "x.jsonl"
    path.write_text(content)
    with pytest.raises(TraceError, match=message):
        read_trace(path)


def test_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    """A path that does not exist is a TraceError naming it."""
    with pytest.raises(TraceError, match="no such trace file"):
        read_trace(tmp_path / "nope.jsonl")


def test_folders_expand_to_their_traces_and_an_empty_one_is_refused(tmp_path: Path) -> None:
    """read_traces reads each *.jsonl in a folder, sorted, and refuses a folder with none."""
    with pytest.raises(TraceError, match="no traces"):
        read_traces([tmp_path])
    traces = read_traces([FIXTURES])
    assert [t.path.name for t in traces] == sorted(p.name for p in FIXTURES.glob("*.jsonl"))


def test_what_the_recorder_writes_reads_back_unchanged(tmp_path: Path) -> None:
    """A recorder's trace reads back with the same kinds and fields, in order."""
    recorder = TraceRecorder(tmp_path / "r.jsonl", run_id="abc")
    recorder.emit("run_started", scenario="s", agents=["a"])
    recorder.emit("agent_message", agent="a", content="hé <b>", turn=1)
    recorder.emit("run_finished", status="ok", final_output="done", totals={})
    recorder.close()
    trace = read_trace(recorder.path)
    assert [e["kind"] for e in trace.events] == ["run_started", "agent_message", "run_finished"]
    assert trace.events[1]["content"] == "hé <b>" and trace.run_id == "abc"
    assert trace.run_finished["final_output"] == "done"
