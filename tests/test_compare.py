"""Compare rows, tables, CSV/JSON, the tokens/s table, and the compare / bench-models commands."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from scenarios.cli.bench_models import BUNDLED_PROMPTS, load_prompts
from scenarios.cli.bench_models import add_parser as add_bench_models_parser
from scenarios.cli.compare import add_parser as add_compare_parser
from scenarios.cli.compare import since_time
from scenarios.cli.output import guarded, parse_args
from scenarios.errors import ScenarioError
from tests.fake_ollama import FakeOllama
from traces.compare import (
    COLUMNS,
    SPEED_HEADERS,
    TABLE_COLUMNS,
    compare_table,
    model_speeds,
    row_of,
    rows_csv,
    rows_json,
    rows_of,
    runs_table,
    sort_rows,
    speed_table,
    status_label,
)
from traces.reader import read_trace, read_traces

FIXTURES = Path(__file__).parent / "fixtures" / "compare"
OK = FIXTURES / "research_team_ok.jsonl"
CUT = FIXTURES / "research_team_cut.jsonl"
FAILED = FIXTURES / "research_team_failed.jsonl"
BATCH = FIXTURES / "batch"  # written by the newer lab: run kinds, degrading warnings, reasons
DEGRADED = BATCH / "tool_team_degraded.jsonl"
REPLAY = BATCH / "research_team_replay.jsonl"
BENCH = BATCH / "bench_models_smollm2.jsonl"
HEADERS = [c.head.header for c in TABLE_COLUMNS]


def _raw(path: Path) -> list[dict]:
    """The events of a trace parsed line by line, skipping a cut last line (independent check)."""
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def _render(renderable: object, width: int = 400) -> str:
    console = Console(record=True, width=width)
    console.print(renderable)
    return console.export_text()


def run_cli(argv: Sequence[str]) -> int:
    """`compare` / `bench-models` as the lab's CLI runs them (parser, handler, guarded)."""
    parser = argparse.ArgumentParser(prog="python -m scenarios")
    sub = parser.add_subparsers(dest="command", required=True)
    add_compare_parser(sub)
    add_bench_models_parser(sub)
    args = parse_args(parser, argv)
    if isinstance(args, int):
        return args
    return guarded(lambda: int(args.handler(args)))


@pytest.mark.parametrize("path", [OK, CUT, FAILED], ids=["ok", "cut", "failed"])
def test_row_totals_agree_with_the_events(path: Path) -> None:
    """Calls, tokens, model time, turns, warnings and output length are sums over the events."""
    events = _raw(path)
    calls = [e for e in events if e["kind"] == "llm_call"]
    row = row_of(read_trace(path))
    assert row.llm_calls == len(calls)
    assert row.input_tokens == sum(c["metrics"]["prompt_eval_count"] for c in calls)
    assert row.output_tokens == sum(c["metrics"]["eval_count"] for c in calls)
    model_s = sum(c["metrics"]["total_duration"] for c in calls) / 1e9
    assert row.model_time_s == pytest.approx(model_s, abs=1e-3)
    eval_ns = sum(c["metrics"]["eval_duration"] for c in calls)
    assert row.tokens_per_s == pytest.approx(row.output_tokens / eval_ns * 1e9, abs=0.01)
    assert row.agent_turns == sum(e["kind"] == "agent_message" for e in events)
    assert row.warnings == sum(e["kind"] == "warning" for e in events)
    finished = [e for e in events if e["kind"] == "run_finished"]
    assert row.output_chars == (len(finished[0]["final_output"]) if finished else 0)


@pytest.mark.parametrize("path", [OK, FAILED], ids=["ok", "failed"])
def test_row_totals_agree_with_what_the_run_recorded(path: Path) -> None:
    """For a finished run, the recomputed totals equal run_finished's own totals."""
    totals = _raw(path)[-1]["totals"]
    row = row_of(read_trace(path))
    assert (row.llm_calls, row.input_tokens, row.output_tokens) == (
        totals["llm_calls"],
        totals["input_tokens"],
        totals["output_tokens"],
    )
    assert row.model_time_s == pytest.approx(totals["model_time_s"], abs=1e-3)
    assert row.wall_time_s == pytest.approx(totals["wall_time_s"], abs=1e-3)


def test_overhead_is_wall_minus_model_time_with_its_share() -> None:
    """Orchestration overhead is wall time minus model time, and that over wall time."""
    row = row_of(read_trace(FAILED))
    assert row.overhead_s == pytest.approx(row.wall_time_s - row.model_time_s, abs=1e-3)
    assert row.overhead_share == pytest.approx(row.overhead_s / row.wall_time_s, abs=1e-3)


def test_an_unfinished_run_is_timed_from_its_first_to_its_last_event() -> None:
    """Without run_finished, wall time spans the events that were written."""
    events = _raw(CUT)
    stamps = [datetime.fromisoformat(e["ts"].replace("Z", "+00:00")) for e in events]
    row = row_of(read_trace(CUT))
    assert row.wall_time_s == pytest.approx((stamps[-1] - stamps[0]).total_seconds(), abs=1e-3)
    assert (row.status, row.cut, row.output_chars) == ("unfinished", True, 0)


def test_a_context_truncation_warning_is_counted_apart() -> None:
    """context_truncated warnings get their own count: they explain bad answers."""
    row = row_of(read_trace(FAILED))
    assert (row.warnings, row.context_truncated, row.errors) == (1, 1, 1)


def test_rows_sort_by_the_columns_asked_and_refuse_unknown_ones() -> None:
    """sort_rows orders by the given columns; a column that does not exist is a ValueError."""
    rows = rows_of(read_traces([FIXTURES]), ["llm_calls", "agent_turns"])
    assert [(r.llm_calls, r.agent_turns) for r in rows] == [(1, 1), (3, 2), (3, 3)]
    by_wall = sort_rows(rows, ["wall_time_s"])
    assert [r.wall_time_s for r in by_wall] == sorted(r.wall_time_s for r in rows)
    with pytest.raises(ValueError, match="'speed': not a column"):
        sort_rows(rows, ["speed"])


def test_csv_and_json_carry_one_record_per_run_with_every_column() -> None:
    """--csv and --json give every column of every row, machine-readable."""
    rows = rows_of(read_traces([FIXTURES]))
    records = list(csv.DictReader(io.StringIO(rows_csv(rows))))
    assert len(records) == 3 and tuple(records[0]) == COLUMNS
    data = json.loads(rows_json(rows))
    assert [d["status"] for d in data] == [r.status for r in rows]
    assert {d["run_id"] for d in data} == {"4ec777782187", "c0ffee000001", "fa11ed000001"}


def test_the_table_renders_cut_and_failed_runs_marked() -> None:
    """The rich table shows every run: the cut one 'unfinished, cut', the failed one with why."""
    text = _render(compare_table([FIXTURES]))
    assert "unfinished, cut" in text and "failed (1 prompt cut)" in text and " ok " in text
    assert text.count("research_team") == 3


def test_no_run_is_crowned_fastest_from_one_sample() -> None:
    """One run per framework is one sample each: no wall time is styled as the winner."""
    table = runs_table(rows_of(read_traces([FIXTURES]))).table
    wall = next(c for c in table.columns if str(c.header) == "wall s")
    assert all(not getattr(cell, "style", "") for cell in wall.cells)


def test_model_speeds_sum_the_metrics_of_every_call() -> None:
    """The tokens/s table sums each model's calls over all traces; eval speed is count/time."""
    traces = read_traces([OK, FAILED])
    (speed,) = model_speeds(traces)
    calls = [e for p in (OK, FAILED) for e in _raw(p) if e["kind"] == "llm_call"]
    assert speed.model == "smollm2:135m" and speed.calls == len(calls) == 4
    assert speed.eval_count == sum(c["metrics"]["eval_count"] for c in calls)
    eval_s = sum(c["metrics"]["eval_duration"] for c in calls) / 1e9
    assert speed.eval_rate == pytest.approx(speed.eval_count / eval_s)
    text = _render(speed_table([speed]).table)
    for header in ("eval speed [tokens/s]", "total duration", "prompt duration", "eval count"):
        assert header in text


def test_compare_command_prints_the_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`compare DIR` exits 0 and prints one row per run."""
    monkeypatch.setenv("COLUMNS", "120")
    assert run_cli(["compare", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert "runs compared" in out and out.count("research_team") == 3


def test_compare_command_json_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    """`compare --json` and `--csv` print the rows for scripts, sorted as asked."""
    assert run_cli(["compare", str(OK), str(CUT), "--json", "--sort", "agent_turns"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["agent_turns"] for d in data] == [2, 3]
    assert run_cli(["compare", str(FIXTURES), "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("scenario,framework,models")


def test_compare_command_writes_the_html_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`compare --html FILE` writes the report as well as printing the table."""
    report = tmp_path / "out" / "report.html"
    assert run_cli(["compare", str(FIXTURES), "--html", str(report)]) == 0
    assert report.read_text().count('data-chart="timeline"') == 3
    assert "report:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["compare", "--sort", "speed", str(FIXTURES)], "--sort 'speed': not a column"),
        (["compare", "nowhere"], "nowhere: no such trace file or folder"),
        (["compare", "--csv", "--json", str(FIXTURES)], "not allowed with"),
    ],
)
def test_compare_command_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Bad columns, missing paths and conflicting flags exit 2 with a short message."""
    assert run_cli(argv) == 2
    assert message in capsys.readouterr().err


def test_compare_command_refuses_a_newer_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trace of a newer schema stops compare with exit 2 and one line naming the file."""
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({"schema": 99, "kind": "run_started", "ts": "x"}) + "\n")
    assert run_cli(["compare", str(newer)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "newer.jsonl" in err and "newer than this lab" in err


def test_the_bundled_prompt_set_loads() -> None:
    """The shipped prompt set has prompts with ids and a small num_predict."""
    prompts = load_prompts(BUNDLED_PROMPTS)
    assert len(prompts.prompts) >= 3 and all(text for _, text in prompts.prompts)
    assert prompts.options["num_predict"] <= 128


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("prompts: []\n", "prompts: must be a non-empty list"),
        ("prompts: [{id: a}]\n", "prompts[1]: needs a non-empty 'prompt'"),
        ("- a\n- b\n", "a mapping with a 'prompts' list"),
        ("prompts: [a]\noptions: 3\n", "options: must be a mapping"),
        ("prompts: [a\n", "not YAML or JSON"),
    ],
)
def test_a_bad_prompt_set_is_refused(tmp_path: Path, content: str, message: str) -> None:
    """Prompt sets that are not a list of prompts are refused with the file and the field."""
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_prompts(path)


def test_bench_models_refuses_a_stand_in_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Benching a model no server has exits 3 (no stand-in) before any bench: no trace."""
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    code = run_cli(
        [
            "bench-models",
            "--models",
            "nosuch:7b",
            "--backend",
            "embedded",
            "--runs-dir",
            str(tmp_path),
        ]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert "cannot bench nosuch:7b" in err and err.count("\n") == 1
    assert list(tmp_path.glob("*.jsonl")) == []  # refused before any bench began


def test_bench_models_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An empty model list or a num_predict below 1 is bad input."""
    assert run_cli(["bench-models", "--models", " , "]) == 2
    assert run_cli(["bench-models", "--models", "a", "--num-predict", "0"]) == 2
    assert "--num-predict 0" in capsys.readouterr().err


@pytest.mark.e2e
def test_bench_models_on_the_embedded_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bench-models runs the prompts on the embedded model, prints the table, writes a trace."""
    pytest.importorskip("llama_cpp")
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:9")
    prompts = tmp_path / "p.yaml"
    prompts.write_text("prompts: [Say hello., Name a colour.]\noptions: {seed: 1}\n")
    code = run_cli(
        [
            "bench-models",
            "--models",
            "smollm2:135m",
            "--prompts",
            str(prompts),
            "--num-predict",
            "4",
            "--backend",
            "embedded",
            "--runs-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "tokens/s per model" in out and "smollm2:135m" in out
    (path,) = tmp_path.glob("*-bench-models-smollm2_135m-*.jsonl")
    trace = read_trace(path)
    calls = trace.of_kind("llm_call")
    assert trace.status == "ok" and len(calls) == 2 and len(trace.of_kind("agent_message")) == 2
    assert all(c["agent"] == "bench" and c["request"]["options"]["num_predict"] == 4 for c in calls)
    assert trace.run_finished["totals"]["llm_calls"] == 2


def test_a_gateway_recording_without_run_started_still_compares(tmp_path: Path) -> None:
    """A trace of bare llm_call events (the gateway's own recording) gets a row, unfinished."""
    call = next(e for e in _raw(OK) if e["kind"] == "llm_call")
    path = tmp_path / "gateway-session.jsonl"
    path.write_text(json.dumps(call) + "\n")
    row = row_of(read_trace(path))
    assert (row.scenario, row.framework, row.status) == ("(no run_started)", "-", "unfinished")
    assert (row.llm_calls, row.models, row.wall_time_s) == (1, "smollm2:135m", 0.0)


def test_runs_without_timed_calls_sort_last_by_speed() -> None:
    """A run with no measured eval speed (None) sorts after every measured one."""
    rows = rows_of(read_traces([FIXTURES]))
    blank = replace(rows[0], tokens_per_s=None, path="blank")
    ordered = sort_rows([blank, *rows], ["tokens_per_s"])
    assert ordered[-1].path == "blank"
    assert [r.tokens_per_s for r in ordered[:-1]] == sorted(r.tokens_per_s for r in rows)


# --- trust: health, kinds, who served, inputs --------------------------------------------------


def _events_of(path: Path, kind: str) -> list[dict]:
    """The events of one kind in a trace, read independently of the reader."""
    return [e for e in _raw(path) if e["kind"] == kind]


def test_a_degraded_run_counts_its_tool_errors_truncations_and_warnings() -> None:
    """Tool errors, cut answers and warnings are counted from the events, reasons by code."""
    row = row_of(read_trace(DEGRADED))
    tools = _events_of(DEGRADED, "tool_call")
    calls = _events_of(DEGRADED, "llm_call")
    warnings = _events_of(DEGRADED, "warning")
    assert row.tool_errors == sum(t["error"] is not None for t in tools) == 2
    assert row.tool_calls == len(tools) == 3
    assert row.truncated == sum(c["done_reason"] == "length" for c in calls) == 1
    assert row.warnings == len(warnings)
    codes = [w["code"] for w in warnings]
    assert row.reasons == {code: codes.count(code) for code in codes}
    assert (row.status, status_label(row)) == ("degraded", "degraded (2 tool errors, 1 truncated)")


def test_the_status_column_says_degraded_and_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`compare --wide` shows the degraded run's status with its reasons, coloured yellow."""
    monkeypatch.setenv("COLUMNS", "80")
    assert run_cli(["compare", "--wide", str(DEGRADED), str(OK)]) == 0
    assert "degraded (2 tool errors, 1 truncated)" in capsys.readouterr().out
    table = runs_table(rows_of(read_traces([DEGRADED, OK]))).table
    status = next(c for c in table.columns if str(c.header) == "status")
    styles = {cell.plain: str(cell.style) for cell in status.cells}
    assert styles == {"degraded (2 tool errors, 1 truncated)": "yellow", "ok": "green"}


def test_served_by_names_the_backend_and_any_stand_in_model() -> None:
    """A model served by another tag shows `requested→served`; a plain backend just its kind."""
    assert row_of(read_trace(DEGRADED)).served_by == "embedded (llama3.1:8b→smollm2:135m)"
    assert row_of(read_trace(OK)).served_by == "embedded"
    assert row_of(read_trace(BENCH)).served_by == "ollama"


def test_inputs_and_run_id_tell_two_runs_apart() -> None:
    """Each row carries its run's inputs as `k=v, k=v` and its run id."""
    degraded, replay = row_of(read_trace(DEGRADED)), row_of(read_trace(REPLAY))
    assert degraded.inputs == "question=which files changed?, depth=2"
    assert replay.inputs == "topic=local models"
    assert (degraded.run_id, replay.run_id) == (_raw(DEGRADED)[0]["run_id"], "5e1a70000001")


def test_each_row_says_what_made_the_run(tmp_path: Path) -> None:
    """Rows carry the run kind: a live run, a replay, a bench run, a fork of an older trace."""
    fork = tmp_path / "fork.jsonl"
    events = _raw(REPLAY)
    del events[0]["run_kind"]  # an older trace: the kind is inferred from replay_of
    events[0]["replay_of"]["from"] = 1
    fork.write_text("".join(json.dumps(e) + "\n" for e in events))
    kinds = [row_of(read_trace(p)).kind for p in (DEGRADED, REPLAY, BENCH, fork)]
    assert kinds == ["run", "replay", "bench", "fork"]


# --- which runs: --include, --last, --since ----------------------------------------------------


def _compared(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    """The rows `compare --json ARGV...` prints (exit 0 asserted)."""
    assert run_cli(["compare", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_compare_leaves_out_replays_and_bench_runs_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Only live runs are compared unless asked; one dim stderr line says what was left out."""
    assert run_cli(["compare", "--json", str(FIXTURES), str(BATCH)]) == 0
    out, err = capsys.readouterr()
    assert {r["kind"] for r in json.loads(out)} == {"run"}
    assert len(json.loads(out)) == 4
    assert err.count("\n") == 1
    assert "left out 1 bench run, 1 replay" in err and "--include replays,bench" in err


@pytest.mark.parametrize(
    ("include", "kinds"),
    [
        (["--include", "replays"], {"run", "replay"}),
        (["--include", "bench"], {"run", "bench"}),
        (["--include", "replays,bench"], {"run", "replay", "bench"}),
        (["--include", "replays", "--include", "bench"], {"run", "replay", "bench"}),
        (["--include", "all"], {"run", "replay", "bench"}),
    ],
)
def test_include_brings_replays_and_bench_runs_in(
    capsys: pytest.CaptureFixture[str], include: list[str], kinds: set[str]
) -> None:
    """--include replays / bench / all, repeated or comma-separated, adds those runs."""
    assert run_cli(["compare", "--json", *include, str(BATCH)]) == 0
    out, err = capsys.readouterr()
    assert {r["kind"] for r in json.loads(out)} == kinds
    assert ("left out" in err) == (kinds != {"run", "replay", "bench"})


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([str(REPLAY)], "nothing to compare: 1 replay left out by default; add --include replays"),
        ([str(BENCH), "--include", "replays"], "1 bench run left out by default"),
        ([str(BATCH), "--include", "replay"], "--include 'replay': choose from replays, bench"),
        ([str(FIXTURES), "--last", "0"], "--last '0': give a number of runs, at least 1"),
        ([str(FIXTURES), "--last", "two"], "--last 'two': give a number of runs"),
        ([str(FIXTURES), "--since", "yesterday"], "--since 'yesterday': not a date"),
        ([str(FIXTURES), "--since", "2999-01-01"], "--since 2999-01-01: no run started since"),
    ],
)
def test_bad_filters_and_empty_results_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Unknown kinds, bad --last / --since values and a filter leaving nothing exit 2."""
    assert run_cli(["compare", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_last_keeps_the_most_recently_started_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """--last N keeps the N runs that started last, after the kind filter."""
    paths = [*sorted(FIXTURES.glob("*.jsonl")), *sorted(BATCH.glob("*.jsonl"))]
    starts = {_raw(p)[0]["run_id"]: _raw(p)[0]["ts"] for p in paths}
    latest_two = sorted(starts, key=starts.get)[-2:]
    rows = _compared(capsys, "--include", "all", "--last", "2", str(FIXTURES), str(BATCH))
    assert sorted(r["run_id"] for r in rows) == sorted(latest_two)
    (only,) = _compared(capsys, "--last", "1", str(FIXTURES), str(BATCH))
    assert only["kind"] == "run" and only["started"] == max(
        _raw(p)[0]["ts"] for p in paths if _raw(p)[0].get("run_kind", "run") == "run"
    )


def _shifted(source: Path, target: Path, ago: timedelta) -> Path:
    """A copy of a trace whose events happened `ago` before now (same spacing)."""
    events = _raw(source)
    first = datetime.fromisoformat(events[0]["ts"].replace("Z", "+00:00"))
    offset = datetime.now(UTC) - ago - first
    for event in events:
        at = datetime.fromisoformat(event["ts"].replace("Z", "+00:00")) + offset
        event["ts"] = at.isoformat().replace("+00:00", "Z")
    target.write_text("".join(json.dumps(e) + "\n" for e in events))
    return target


def test_since_keeps_runs_started_after_a_time_or_within_an_age(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--since takes an age (2h, 30m, 1d) or an ISO date / datetime; older runs drop out."""
    _shifted(OK, tmp_path / "recent.jsonl", timedelta(minutes=10))
    _shifted(FAILED, tmp_path / "old.jsonl", timedelta(hours=3))
    assert [r["path"] for r in _compared(capsys, "--since", "2h", str(tmp_path))] == [
        str(tmp_path / "recent.jsonl")
    ]
    assert len(_compared(capsys, "--since", "1d", str(tmp_path))) == 2
    rows = _compared(capsys, "--include", "all", "--since", "2026-11-23", str(FIXTURES), str(BATCH))
    assert {r["run_id"] for r in rows} == {"dec0de000001", "5e1a70000001", "be4c40000001"}
    rows = _compared(capsys, "--include", "all", "--since", "2026-11-23T10:30+00:00", str(BATCH))
    assert [r["kind"] for r in rows] == ["bench"]


def test_since_time_reads_ages_dates_and_datetimes() -> None:
    """Ages count back from now; a date or datetime without a zone is local time."""
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert since_time("2h", now) == now - timedelta(hours=2)
    assert since_time("30m", now) == now - timedelta(minutes=30)
    assert since_time("1d", now) == now - timedelta(days=1)
    assert since_time("2026-05-01T14:30+02:00") == datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    assert since_time("2026-05-01") == datetime(2026, 5, 1).astimezone()
    with pytest.raises(ScenarioError, match="--since 'soon'"):
        since_time("soon")


# --- --sort both ways ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["wall_time_s", "-wall_time_s", "tool_errors", "-output_chars"])
def test_sort_goes_both_ways(capsys: pytest.CaptureFixture[str], key: str) -> None:
    """`--sort COL` sorts ascending and `--sort -COL` descending."""
    rows = _compared(capsys, "--sort", key, "--include", "all", str(FIXTURES), str(BATCH))
    values = [r[key.lstrip("-")] for r in rows]
    assert values == sorted(values, reverse=key.startswith("-"))
    assert len(set(values)) > 1  # the order is really tested


def test_sort_keys_combine_directions_and_keep_blanks_last() -> None:
    """`scenario,-wall_time_s` groups by scenario, slowest first; None sorts last either way."""
    rows = rows_of(read_traces([FIXTURES, BATCH]))
    ordered = sort_rows(rows, ["scenario", "-wall_time_s"])
    keys = [(r.scenario, -r.wall_time_s) for r in ordered]
    assert keys == sorted(keys)
    blank = replace(rows[0], tokens_per_s=None, path="blank")
    assert sort_rows([blank, *rows], ["-tokens_per_s"])[-1].path == "blank"


# --- the table fits the terminal --------------------------------------------------------------


def _table_lines(out: str) -> tuple[str, list[str]]:
    """The header line of a printed table, and the text of the note under it (joined)."""
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("scenario "))
    note = " ".join(line.strip() for line in lines[lines.index(header) :] if line.strip())
    note = note.split("not shown at this width:", 1)[1] if "not shown" in note else ""
    return header, [n.strip() for n in note.split("(--wide")[0].split(",") if n.strip()]


@pytest.mark.parametrize("width", [80, 120])
def test_the_table_fits_the_terminal_and_names_what_it_leaves_out(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """At COLUMNS=80 and 120 no line is longer, each header is whole, each column accounted for."""
    monkeypatch.setenv("COLUMNS", str(width))
    assert run_cli(["compare", "--include", "all", str(FIXTURES), str(BATCH)]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= width
    header, left_out = _table_lines(out)
    shown = [h for h in HEADERS if re.search(rf"(^|  ){re.escape(h)}(  |$)", header.strip())]
    assert sorted(shown + left_out) == sorted(HEADERS)  # every column shown whole, or named
    assert {"scenario", "framework", "model(s)", "status", "wall s", "run id"} <= set(shown)
    assert left_out and "--csv or --json" in out


def test_no_cell_word_is_split_at_any_width() -> None:
    """However narrow the table, every word of every shown cell is printed whole."""
    rows = rows_of(read_traces([FIXTURES, BATCH]))
    for width in range(60, 200, 9):
        fitted = runs_table(rows, width)
        text = _render(fitted.table, width)
        assert max(len(line) for line in text.splitlines()) <= width
        printed = set(text.split())
        shown = [c for c in TABLE_COLUMNS if c.head.header not in fitted.left_out]
        for column in shown:
            for row in rows:
                assert set(column.text(row).split()) <= printed, (width, column.head.header)


def test_wide_prints_every_column_past_the_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--wide ignores the width: every header on the header line, nothing named as left out."""
    monkeypatch.setenv("COLUMNS", "80")
    assert run_cli(["compare", "--wide", str(FIXTURES)]) == 0
    out = capsys.readouterr().out
    header, left_out = _table_lines(out)
    assert all(h in header for h in HEADERS) and left_out == []
    assert max(len(line) for line in out.splitlines()) > 80


def test_csv_and_json_keep_every_field_whatever_the_width(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A narrow terminal does not thin CSV or JSON: the reasons travel as JSON in CSV."""
    monkeypatch.setenv("COLUMNS", "40")
    assert run_cli(["compare", "--csv", str(DEGRADED)]) == 0
    (record,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert tuple(record) == COLUMNS
    assert json.loads(record["reasons"]) == row_of(read_trace(DEGRADED)).reasons
    assert record["served_by"] == "embedded (llama3.1:8b→smollm2:135m)"


# --- bench-models: check first, keep what finished ---------------------------------------------


def _bench(tmp_path: Path, models: str) -> int:
    """`bench-models` of two prompts on models through the Ollama at OLLAMA_HOST."""
    prompts = tmp_path / "prompts.yaml"
    prompts.write_text("prompts: [Say hello., Name a colour.]\n")
    return run_cli(
        [
            "bench-models",
            "--models",
            models,
            "--prompts",
            str(prompts),
            "--backend",
            "ollama",
            "--runs-dir",
            str(tmp_path / "runs"),
        ]
    )


def test_bench_models_checks_every_model_before_benching_any(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Missing models stop bench-models with exit 3 naming each, before any prompt is sent."""
    with FakeOllama([], models=["a:1b"]) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        assert _bench(tmp_path, "a:1b,b:2b,c:3b") == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot bench b:2b, c:3b" in err
    assert "ollama pull b:2b" in err and "ollama pull c:3b" in err
    assert fake.requests == [] and not list(tmp_path.glob("runs/*.jsonl"))


def test_bench_models_writes_bench_traces_and_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each model gets a trace of kind bench and a row in the tokens/s table."""
    with FakeOllama(["hi there", "red", "hello", "blue"], models=["a:1b", "b:1b"]) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        assert _bench(tmp_path, "a:1b,b:1b") == 0
    out = capsys.readouterr().out
    assert "tokens/s per model" in out and "a:1b" in out and "b:1b" in out
    traces = read_traces([tmp_path / "runs"])
    assert [t.run_started["run_kind"] for t in traces] == ["bench", "bench"]
    assert {row_of(t).kind for t in traces} == {"bench"} and len(fake.requests) == 4


def test_bench_models_prints_the_models_that_finished_when_one_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model failing mid-way still leaves the table of those benched first, and exit 1."""
    with FakeOllama(["hi there", "red"], models=["a:1b", "b:1b"], fail_after=2) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        assert _bench(tmp_path, "a:1b,b:1b") == 1
    out, err = capsys.readouterr()
    assert "tokens/s per model" in out and "a:1b" in out and "b:1b" not in out
    assert "b:1b failed" in err and "error: bench call to b:1b failed" in err
    statuses = {row_of(t).models: t.status for t in read_traces([tmp_path / "runs"])}
    assert statuses == {"a:1b": "ok", "b:1b": "failed"}


def test_the_speed_table_fits_the_terminal_too() -> None:
    """At 80 columns the tokens/s table keeps the model and eval speed and names the rest."""
    speeds = model_speeds(read_traces([OK, FAILED, BENCH]))
    fitted = speed_table(speeds, 80)
    text = _render(fitted.table, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "eval speed [tokens/s]" in text and fitted.left_out
    shown = [h for h in SPEED_HEADERS if h not in fitted.left_out]
    assert all(h in text for h in shown) and shown[:1] == ["model"]


def test_the_html_report_shows_the_rows_compare_chose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`compare --html` reports the runs left after the filters, with the same status labels."""
    report = tmp_path / "report.html"
    assert run_cli(["compare", str(FIXTURES), str(BATCH), "--html", str(report)]) == 0
    page = report.read_text()
    assert page.count('data-chart="timeline"') == 4  # the replay and the bench run left out
    assert ">degraded (2 tool errors, 1 truncated)</td>" in page
    assert "5e1a70000001" not in page and "be4c40000001" not in page
    assert "left out 1 bench run, 1 replay" in capsys.readouterr().err
