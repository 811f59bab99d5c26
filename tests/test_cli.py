"""The `python -m scenarios` commands, called through `main(argv)`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios import SHIPPED_DIR
from scenarios.cli import main
from scenarios.cli.listing import shipped_scenarios
from scenarios.cli.schema import SCHEMA_FILE

BROKEN = """\
name: broken
models:
  default: {model: smollm2:135m}
  fast: {model: smollm2:135m}
agents:
  - name: planner
    role: Planner
    model: default
  - name: writer
    role: Writer
    model: big
tasks:
  - {name: plan, agent: planner, description: Plan.}
  - {name: write, agent: writer, description: Write.}
"""


def test_validate_accepts_every_shipped_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped scenario files validate: exit 0 and an ok line each."""
    files = [str(p) for p in shipped_scenarios()]
    assert files and main(["validate", *files]) == 0
    assert capsys.readouterr().out.count(": ok") == len(files)


def test_validate_names_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken file: exit 2 and `file:line: field: message` saying what is allowed."""
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        "broken.yaml:11: agents[1].model: unknown model profile 'big' (known: default, fast)" in err
    )
    assert "Traceback" not in err


def test_validate_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist is bad input, said in one line."""
    assert main(["validate", "no/such.yaml"]) == 2
    assert capsys.readouterr().err.strip() == "error: no/such.yaml: no such scenario file"


def test_graph_prints_mermaid_naming_the_agents(capsys: pytest.CaptureFixture[str]) -> None:
    """`graph` on research_team prints a Mermaid graph that names planner, writer and editor."""
    assert main(["graph", str(SHIPPED_DIR / "research_team.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.lstrip().startswith(("graph", "---", "%%"))
    assert all(agent in out for agent in ("planner", "writer", "editor"))


def test_shipped_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """scenario.schema.json equals what `schema` generates from the spec models."""
    assert main(["schema"]) == 0
    generated = capsys.readouterr().out
    assert json.loads(generated) == json.loads(SCHEMA_FILE.read_text())
    assert "team" in json.loads(generated)["properties"]


def test_schema_writes_a_file(tmp_path: Path) -> None:
    """`schema -o FILE` writes the JSON Schema to the file."""
    target = tmp_path / "s.json"
    assert main(["schema", "-o", str(target)]) == 0
    assert json.loads(target.read_text())["title"] == "Multi-agent scenario"


def test_shipped_scenarios_carry_the_schema_header() -> None:
    """Each shipped YAML starts with the yaml-language-server $schema line for editors."""
    for path in shipped_scenarios():
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=./scenario.schema.json", path


def test_list_shows_the_research_team(capsys: pytest.CaptureFixture[str]) -> None:
    """`list` names each shipped scenario with its topology."""
    assert main(["list"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("research_team"))
    assert "sequential" in line


def test_usage_errors_are_exit_2_and_help_is_0(capsys: pytest.CaptureFixture[str]) -> None:
    """Argparse misuse returns 2, --help returns 0, neither raises SystemExit."""
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0
    assert main(["run", "x.yaml", "--backend", "gpu"]) == 2


def test_bad_model_override_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """--model for a profile the scenario lacks: exit 2 naming the known profiles."""
    scenario = str(SHIPPED_DIR / "research_team.yaml")
    assert main(["run", scenario, "--model", "big=llama3.1:8b"]) == 2
    assert "unknown model profile 'big' (known: default)" in capsys.readouterr().err


def test_schema_into_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`schema -o` into a folder that does not exist: exit 2 and one line naming the file."""
    target = tmp_path / "no" / "s.json"
    assert main(["schema", "-o", str(target)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {target}: cannot write the schema (No such file or directory)"
    )


def test_an_unwritable_runs_dir_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --runs-dir that cannot be created: exit 2 and one line naming it, no traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    runs = blocker / "runs"
    assert main(["run", str(SHIPPED_DIR / "research_team.yaml"), "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --runs-dir {runs}: cannot write traces there (Not a directory)"


def test_a_bad_ollama_port_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """OLLAMA_HOST with a port that is not a number: exit 2, one line naming the value."""
    monkeypatch.setenv("OLLAMA_HOST", "localhost:abc")
    scenario = str(SHIPPED_DIR / "research_team.yaml")
    assert main(["run", scenario, "--backend", "ollama", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: Ollama host 'localhost:abc': the port must be a number from 1 to 65535"]


def test_a_closed_pipe_ends_quietly_with_141(tmp_path: Path) -> None:
    """`replay show --json | head`: the reader leaves early; exit 141, no traceback on stderr."""
    import subprocess
    import sys

    source = Path(__file__).parent / "fixtures" / "compare" / "research_team_ok.jsonl"
    events = [json.loads(line) for line in source.read_text().splitlines()]
    for event in events:
        if event["kind"] == "agent_message":
            event["content"] = "x" * 200_000  # more than a pipe buffer holds
    trace = tmp_path / "big.jsonl"
    trace.write_text("".join(json.dumps(e) + "\n" for e in events))
    command = [sys.executable, "-m", "scenarios", "replay", "show", "--json", str(trace)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(100)
    process.stdout.close()  # what `head` does once it has its lines
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
