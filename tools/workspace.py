"""The run's workspace folder, and the context every tool call runs in.

A run that gives any agent a tool gets a workspace, `runs/<run id>-workspace/`. It starts
as a copy of the scenario's data folder (`data/<scenario name>/` beside the scenario file)
when there is one, so a scenario can bundle documents for `retrieve` or files to read.
The files tools (`read_file`, `list_files`, `write_file`) never leave it, and `retrieve`
keeps its index in it, under `INDEX_DIR`, which the files tools do not show or touch.

The harness activates the context for the run (`run_workspace`); framework adapters and
the LangGraph compiler find it with `current()`. The harness also passes the base URL of
the run's gateway, so that `retrieve` embeds through its `/api/embed` (`all-minilm`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from tools.embeddings import LOCAL, gateway_setting
from tools.errors import ToolError

INDEX_DIR = ".lab-index"  # retrieve's chromadb index, inside the workspace
EMBEDDINGS_ENV = "LAB_EMBEDDINGS"  # overrides: "local" or "ollama:<model>@<url>"


@dataclass(frozen=True)
class ToolContext:
    """Where a run's tools work: the workspace folder and the embeddings `retrieve` uses."""

    workspace: Path
    embeddings: str = LOCAL


_active: ContextVar[ToolContext | None] = ContextVar("tool_context", default=None)
_process_default: list[ToolContext] = []  # for framework threads that do not copy contextvars


def current() -> ToolContext:
    """The active tool context; a ToolError if no run has one."""
    context = _active.get() or (_process_default[-1] if _process_default else None)
    if context is None:
        raise ToolError("no workspace is active: tools run inside a scenario run")
    return context


@contextmanager
def activated(context: ToolContext) -> Iterator[ToolContext]:
    """Make `context` the active one while the block runs."""
    token = _active.set(context)
    _process_default.append(context)
    try:
        yield context
    finally:
        _process_default.remove(context)
        _active.reset(token)


def workspace_path(runs_dir: Path, run_id: str) -> Path:
    """`runs/<run id>-workspace`."""
    return Path(runs_dir) / f"{run_id}-workspace"


def seed_folder(scenario_file: Path, scenario_name: str) -> Path | None:
    """The scenario's data folder, `data/<name>/` beside its file, if it exists."""
    folder = Path(scenario_file).parent / "data" / scenario_name
    return folder if folder.is_dir() else None


def create_workspace(folder: Path, seed: Path | None = None) -> Path:
    """Make the workspace folder, filled with a copy of `seed` (symlinks are not copied)."""
    folder.mkdir(parents=True, exist_ok=True)
    if seed is not None:
        shutil.copytree(seed, folder, dirs_exist_ok=True, ignore=_skip_links)
    return folder


def _skip_links(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if os.path.islink(os.path.join(directory, n))]


def embeddings_setting(gateway_url: str | None = None) -> str:
    """Which embeddings `retrieve` uses: `LAB_EMBEDDINGS`, else the gateway's, else local.

    With a gateway that is `all-minilm` on its `/api/embed`; without one (direct tool use,
    a replay) the same model runs in this process.
    """
    chosen = os.environ.get(EMBEDDINGS_ENV, "").strip()
    if chosen:
        return chosen
    return gateway_setting(gateway_url) if gateway_url else LOCAL


@contextmanager
def run_workspace(
    runs_dir: Path,
    run_id: str,
    scenario_file: Path,
    scenario_name: str,
    tool_names: Iterable[str],
    gateway_url: str | None = None,
) -> Iterator[ToolContext | None]:
    """The harness hook: a seeded, active workspace when some agent has tools, else nothing.

    `gateway_url` is the run's gateway that `retrieve` embeds through (None: in-process).
    """
    if not list(tool_names):
        yield None
        return
    folder = create_workspace(
        workspace_path(runs_dir, run_id), seed_folder(scenario_file, scenario_name)
    )
    context = ToolContext(folder.resolve(), embeddings_setting(gateway_url))
    with activated(context):
        yield context
