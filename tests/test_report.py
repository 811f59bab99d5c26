"""The HTML report: self-contained, every chart and table present, runs marked, text escaped."""

from __future__ import annotations

import html
import itertools
import json
import re
from pathlib import Path

import pytest

from traces.compare import TABLE_COLUMNS, row_of
from traces.reader import read_trace, read_traces
from traces.report import agent_totals, report_html, timeline, transcript_lines, write_report

FIXTURES = Path(__file__).parent / "fixtures" / "compare"
OK = FIXTURES / "research_team_ok.jsonl"
CUT = FIXTURES / "research_team_cut.jsonl"
FAILED = FIXTURES / "research_team_failed.jsonl"
DEGRADED = FIXTURES / "batch" / "tool_team_degraded.jsonl"
BAR_CHARTS = ("tokens-per-run", "time-per-run", "tokens-per-agent", "time-per-agent", "eval-speed")


@pytest.fixture(scope="module")
def page() -> str:
    """The report of the three fixture traces."""
    return report_html(read_traces([FIXTURES]))


def test_the_report_fetches_nothing(page: str) -> None:
    """No script, style, image or frame is loaded from elsewhere: the file opens offline."""
    external = re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=", page)
    assert external == []
    assert "cdn.plot.ly" not in page.split("<script>", 1)[0]
    assert page.count("<script>") >= 2 and "Plotly.newPlot" in page


def test_every_chart_is_in_the_page(page: str) -> None:
    """One timeline per run, the token and time bars, and the eval-speed chart."""
    charts = re.findall(r'data-chart="([\w-]+)"', page)
    assert charts.count("timeline") == 3
    assert sorted(set(charts) - {"timeline"}) == sorted(BAR_CHARTS)
    assert 'data-table="runs"' in page and 'data-table="speed"' in page


def test_the_speed_table_has_the_classic_columns(page: str) -> None:
    """The tokens/s table carries eval speed, total, prompt and eval duration, eval count."""
    table = page.split('data-table="speed"', 1)[1].split("</table>", 1)[0]
    for header in (
        "eval speed [tokens/s]",
        "total duration",
        "prompt duration",
        "eval duration",
        "eval count",
    ):
        assert f">{header}</th>" in table
    assert ">smollm2:135m</td>" in table


def test_cut_and_failed_runs_are_marked(page: str) -> None:
    """The runs table and the outputs say which run was cut, which failed, and why."""
    assert page.count('class="l unfinished">unfinished, cut</td>') == 1
    assert page.count('class="l failed">failed (1 prompt cut)</td>') == 1
    assert "no final output (unfinished, cut)" in page
    assert "no final output (failed (1 prompt cut))" in page


def test_outputs_side_by_side_and_a_diff_for_every_pair(page: str) -> None:
    """Each run has an output card and a transcript; every ordered pair of runs has a diff."""
    assert len(re.findall(r'data-output="\d"', page)) == 3
    assert len(re.findall(r'data-transcript="\d"', page)) == 3
    diffs = re.findall(r'data-diff="diff-(\d)-(\d)"', page)
    assert sorted(diffs) == sorted((str(a), str(b)) for a in range(3) for b in range(3) if a != b)
    assert re.search(r'id="diff-0-1" class="diff-view" data-diff="diff-0-1">', page)
    assert 'id="diff-1-0" class="diff-view" data-diff="diff-1-0" hidden>' in page


def test_content_from_the_trace_is_escaped(tmp_path: Path) -> None:
    """Agent text cannot inject markup into the report."""
    events = [json.loads(line) for line in OK.read_text().splitlines()]
    for event in events:
        if event["kind"] == "agent_message":
            event["content"] = "<script>alert('x')</script>"
        if event["kind"] == "run_finished":
            event["final_output"] = "<img src=x onerror=alert(1)>"
    path = tmp_path / "evil.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    html = report_html([read_trace(path)])
    assert "<script>alert(" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_timeline_places_calls_and_turns_on_the_run_clock() -> None:
    """A model call spans its latency up to its event; a turn begins with its agent's call."""
    trace = read_trace(OK)
    spans, marks = timeline(trace)
    calls = [s for s in spans if s.kind == "model call"]
    turns = [s for s in spans if s.kind == "turn"]
    assert [s.lane for s in calls] == ["planner · model", "writer · model", "editor · model"]
    assert [s.lane for s in turns] == ["planner · turn", "writer · turn", "editor · turn"]
    first = trace.of_kind("llm_call")[0]
    assert calls[0].end_s - calls[0].start_s == pytest.approx(first["latency_ms"] / 1000)
    for call, turn in zip(calls, turns, strict=True):
        assert turn.start_s == call.start_s and turn.end_s >= call.end_s
    assert [m.kind for m in marks] == ["route"] * 3
    assert all(b.start_s >= a.end_s - 0.01 for a, b in itertools.pairwise(calls))


def test_timeline_shows_warnings_and_errors_of_a_failed_run() -> None:
    """A failed run's timeline carries its warning and its error as marks."""
    _, marks = timeline(read_trace(FAILED))
    assert sorted(m.kind for m in marks) == ["error", "route", "warning"]


def test_agent_totals_sum_each_agents_calls() -> None:
    """Per-agent bars come from each agent's own llm_call metrics."""
    totals = agent_totals(read_trace(OK))
    assert list(totals) == ["planner", "writer", "editor"]
    calls = read_trace(OK).of_kind("llm_call")
    assert totals["writer"]["output_tokens"] == calls[1]["metrics"]["eval_count"]
    assert sum(t["calls"] for t in totals.values()) == 3


def test_transcript_says_when_a_run_did_not_finish() -> None:
    """The transcript of a cut trace ends by saying so; a finished one by its status."""
    assert transcript_lines(read_trace(CUT))[-1] == "(the run did not finish: its last line is cut)"
    assert transcript_lines(read_trace(OK))[-1] == "== run finished: ok"


def test_a_single_run_report_has_no_diff_picker(tmp_path: Path) -> None:
    """With one run there is nothing to diff, and the page says so."""
    path = write_report([read_trace(OK)], tmp_path / "one.html")
    html = path.read_text()
    assert "nothing to compare it with" in html and 'id="diff-left"' not in html


def _runs_cells(page: str) -> list[list[str]]:
    """The runs table of a page as rows of cell texts (the header row first)."""
    table = page.split('data-table="runs">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    return [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)] for r in rows]


def test_the_runs_table_reads_the_same_rows_as_the_compare_table() -> None:
    """The report's runs table has compare's columns and cells, degraded label and served by."""
    traces = [read_trace(DEGRADED), read_trace(OK)]
    page = report_html(traces)
    head, *rows = _runs_cells(page)
    assert head == ["#", *(c.head.header for c in TABLE_COLUMNS), "trace"]
    for trace, cells in zip(traces, rows, strict=True):
        row = row_of(trace)
        assert cells[1:-1] == [c.text(row) for c in TABLE_COLUMNS]
    status = head.index("status")
    assert rows[0][status] == "degraded (2 tool errors, 1 truncated)"
    assert rows[0][head.index("served by")] == "embedded (llama3.1:8b→smollm2:135m)"
    assert 'class="l degraded">degraded (2 tool errors, 1 truncated)</td>' in page
    assert re.search(r"\.degraded[,{]", page)  # the degraded status is coloured


def test_run_inputs_are_escaped_in_the_runs_table(tmp_path: Path) -> None:
    """Inputs and backend notes from a trace cannot inject markup into the runs table."""
    events = [json.loads(line) for line in DEGRADED.read_text().splitlines()]
    events[0]["inputs"] = {"question": "<b onmouseover=alert(1)>hi</b>"}
    events[1]["backends"][0]["kind"] = "<i>x</i>"
    path = tmp_path / "evil.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    page = report_html([read_trace(path)])
    assert "<b onmouseover" not in page and "<i>x</i>" not in page
    assert "question=&lt;b onmouseover=alert(1)&gt;hi&lt;/b&gt;" in page
