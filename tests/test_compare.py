"""Compare rows, tables, CSV/JSON, the tokens/s table, and the compare / bench-models commands."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from scenarios.cli import guarded, parse_args
from scenarios.compare_cmd import (
    BUNDLED_PROMPTS,
    add_bench_models_parser,
    add_compare_parser,
    load_prompts,
)
from scenarios.errors import ScenarioError
from traces.compare import (
    COLUMNS,
    compare_table,
    model_speeds,
    row_of,
    rows_csv,
    rows_json,
    rows_of,
    sort_rows,
    speed_table,
    table_of,
)
from traces.reader import read_trace, read_traces

FIXTURES = Path(__file__).parent / "fixtures" / "compare"
OK = FIXTURES / "research_team_ok.jsonl"
CUT = FIXTURES / "research_team_cut.jsonl"
FAILED = FIXTURES / "research_team_failed.jsonl"


def _raw(path: Path) -> list[dict]:
    """The events of a trace parsed line by line, skipping a cut last line (independent check)."""
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def _render(renderable: object, width: int = 250) -> str:
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
    with pytest.raises(ValueError, match="unknown column 'speed'"):
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
    """The rich table shows every run, the cut one as 'unfinished, cut', the failed one failed."""
    text = _render(compare_table([FIXTURES]))
    assert "unfinished, cut" in text and "failed" in text and " ok " in text
    assert "1 (1 ctx)" in text
    assert text.count("research_team") == 3


def test_the_fastest_finished_run_of_a_scenario_is_bold() -> None:
    """Among runs of one scenario, the fastest run that finished ok is highlighted."""
    table = table_of(rows_of(read_traces([FIXTURES])))
    wall = table.columns[4]
    cells = list(wall.cells)
    styles = [getattr(c, "style", "") for c in cells]
    assert styles.count("bold green") == 1
    ok_index = [r.status for r in rows_of(read_traces([FIXTURES]))].index("ok")
    assert styles[ok_index] == "bold green"


def test_model_speeds_sum_the_metrics_of_every_call() -> None:
    """The tokens/s table sums each model's calls over all traces; eval speed is count/time."""
    traces = read_traces([OK, FAILED])
    (speed,) = model_speeds(traces)
    calls = [e for p in (OK, FAILED) for e in _raw(p) if e["kind"] == "llm_call"]
    assert speed.model == "smollm2:135m" and speed.calls == len(calls) == 4
    assert speed.eval_count == sum(c["metrics"]["eval_count"] for c in calls)
    eval_s = sum(c["metrics"]["eval_duration"] for c in calls) / 1e9
    assert speed.eval_rate == pytest.approx(speed.eval_count / eval_s)
    text = _render(speed_table([speed]))
    for header in ("eval speed [tokens/s]", "total duration", "prompt duration", "eval count"):
        assert header in text


def test_compare_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """`compare DIR` exits 0 and prints one row per run."""
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
    """Benching a model no server has exits 3 (no stand-in), leaving a failed run's trace."""
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
    assert "model 'nosuch:7b'" in capsys.readouterr().err
    (trace,) = tmp_path.glob("*.jsonl")  # the refused run still leaves its trace
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [e["kind"] for e in events] == ["run_started", "error", "run_finished"]
    assert events[1]["type"] == "ModelServerError" and events[2]["status"] == "failed"


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
