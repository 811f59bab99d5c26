"""Backend choice for a run: a real Ollama when it answers and has the models, else embedded.

`select_backend` checks one server (the host, already normalized) for the wanted
(provider, tag) pairs, and raises `ModelServerError` with one line saying what to do.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway.catalog import DEFAULT_TAG, catalog, engine_installed
from gateway.hosts import CONTAINER_HINT, in_container
from gateway.upstreams.base import Upstream
from gateway.upstreams.embedded import EmbeddedUpstream
from gateway.upstreams.ollama import OllamaUpstream, describe_error
from scenarios.errors import ModelServerError
from scenarios.spec import canonical_tag

PROBE_TIMEOUT_S = 2.0
CHOICES = ("auto", "ollama", "embedded")
EMBEDDED_HINT = "the embedded engine is not installed: pip install -e '.[embedded]'"


@dataclass(frozen=True)
class Backend:
    """What a run talks to: the upstream, and which tag serves each requested one."""

    kind: str
    upstream: Upstream
    model_map: dict[str, str]
    note: str


class ProbeError(Exception):
    """The server did not answer, or lacks a model (the message is the user's fix)."""


def _get(url: str) -> Any:
    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise ProbeError(describe_error(exc)) from None
    if response.status_code != 200:
        raise ProbeError(f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise ProbeError("not an Ollama server (answer is not JSON)") from None


def unreachable_message(host: str, reason: str) -> str:
    """One line: Ollama cannot be reached at host, and how to fix it."""
    line = (
        f"cannot reach Ollama at {host} ({reason}): start it with 'ollama serve' or set OLLAMA_HOST"
    )
    return f"{line}; {CONTAINER_HINT}" if in_container() else line


def ollama_version(host: str) -> str:
    """The version of the Ollama at host (ProbeError when it does not answer)."""
    return str(_get(f"{host}/api/version").get("version", "unknown"))


def ollama_models(host: str) -> list[str]:
    """The tags of the models on the Ollama at host."""
    return [m.get("name") or m.get("model", "") for m in _get(f"{host}/api/tags").get("models", [])]


def openai_models(host: str) -> list[str]:
    """The model ids of an OpenAI-compatible server (`GET /v1/models`)."""
    base = host if host.rstrip("/").endswith("/v1") else f"{host}/v1"
    return [m.get("id", "") for m in _get(f"{base.rstrip('/')}/models").get("data", [])]


def has_model(available: list[str], tag: str) -> bool:
    """Whether tag is among available, a tag without ':' matching ':latest' as Ollama does."""
    names = {canonical_tag(a) for a in available} | set(available)
    return tag in names or canonical_tag(tag) in names


@dataclass(frozen=True)
class Problem:
    """Why a server cannot serve a run: the one-line error with its fix, and a short reason."""

    message: str
    reason: str
    reachable: bool  # the server answered (a model is missing), or it did not answer at all


def ollama_problem(host: str, wanted: list[tuple[str, str]]) -> Problem | None:
    """What keeps the server at host from serving the wanted models, or None if nothing."""
    try:
        if any(p == "ollama" for p, _ in wanted) or not wanted:
            ollama_version(host)
        for provider, tag in wanted:
            available = openai_models(host) if provider == "openai" else ollama_models(host)
            if not has_model(available, tag):
                where = "Ollama" if provider == "ollama" else "server"
                reason = f"model '{tag}' is not on the {where} at {host}"
                return Problem(_missing(provider, tag, host), reason, reachable=True)
    except ProbeError as exc:
        message = unreachable_message(host, str(exc))
        return Problem(message, f"Ollama at {host} not reachable ({exc})", reachable=False)
    return None


def check_ollama(host: str, wanted: list[tuple[str, str]]) -> None:
    """Raise ModelServerError unless the server at host answers and has every wanted model."""
    problem = ollama_problem(host, wanted)
    if problem is not None:
        raise ModelServerError(problem.message)


def _missing(provider: str, tag: str, host: str) -> str:
    if provider == "openai":
        return (
            f"model '{tag}' is not served by the OpenAI-compatible server at {host}: load it there"
        )
    return f"model '{tag}' is not on the Ollama at {host}: run 'ollama pull {tag}'"


_embedded_lock = threading.Lock()
_embedded: dict[Path | None, Upstream] = {}


def embedded_upstream(
    models_dir: Path | None = None, model_map: dict[str, str] | None = None
) -> Upstream:
    """The process's embedded upstream (shared; new aliases are added to it)."""
    with _embedded_lock:
        upstream = _embedded.get(models_dir)
        if upstream is None:
            upstream = _embedded[models_dir] = EmbeddedUpstream(models_dir)
        assert isinstance(upstream, EmbeddedUpstream)
        upstream.aliases.update(
            {canonical_tag(k): canonical_tag(v) for k, v in (model_map or {}).items()}
        )
        return upstream


def embedded_map(wanted: list[tuple[str, str]], models_dir: Path | None = None) -> dict[str, str]:
    """Requested tag -> served tag: itself when the engine has it, else smollm2:135m."""
    served = catalog(models_dir)
    return {tag: tag if canonical_tag(tag) in served else DEFAULT_TAG for _, tag in wanted}


def substitutions(model_map: dict[str, str]) -> dict[str, str]:
    """The requested tags another model stands in for: requested -> served."""
    return {k: v for k, v in model_map.items() if canonical_tag(k) != canonical_tag(v)}


def _embedded_backend(wanted: list[tuple[str, str]], reason: str) -> Backend:
    """The embedded engine, standing in with smollm2:135m for tags it lacks (said in the note).

    Only `--backend embedded` gets here with such tags: the user asked for the stand-in.
    """
    if not engine_installed() or not catalog():
        raise ModelServerError(EMBEDDED_HINT if not reason else f"{reason}, and {EMBEDDED_HINT}")
    model_map = embedded_map(wanted)
    served = ", ".join(sorted(set(model_map.values()))) or DEFAULT_TAG
    note = (
        f"backend: {reason}; using the embedded model {served}"
        if reason
        else (f"backend: embedded model {served}")
    )
    stand_ins = substitutions(model_map)
    if stand_ins:
        note += f" in place of {', '.join(sorted(stand_ins))} (as --backend embedded allows)"
    return Backend("embedded", embedded_upstream(None, model_map), model_map, note)


def _auto_fallback(wanted: list[tuple[str, str]], problem: Problem) -> Backend:
    """`--backend auto` without Ollama: the embedded engine, if it serves every wanted tag.

    A model the user named is never replaced silently: a tag the engine lacks is exit 3,
    naming the fix (start Ollama and pull it, or ask for the stand-in).
    """
    if problem.reachable:
        raise ModelServerError(problem.message)
    if not engine_installed() or not catalog():
        raise ModelServerError(f"{problem.message}; and {EMBEDDED_HINT}")
    lacking = sorted(substitutions(embedded_map(wanted)))
    if lacking:
        tags = ", ".join(f"'{tag}'" for tag in lacking)
        raise ModelServerError(
            f"{problem.message}; the embedded engine serves only "
            f"{', '.join(catalog())}, not {tags}: start Ollama and run "
            f"'ollama pull {lacking[0]}', or pass --backend embedded to run "
            f"{DEFAULT_TAG} in its place"
        )
    return _embedded_backend(wanted, problem.reason)


def select_backend(choice: str, host: str, wanted: list[tuple[str, str]]) -> Backend:
    """The backend for `--backend auto|ollama|embedded` (ModelServerError with the fix if none).

    auto: the Ollama at host when it answers and has every model; when it answers without
    one, exit 3 with `ollama pull`; when it does not answer, the embedded engine if it has
    every model. embedded: the engine, standing in for the tags it lacks, and saying so.
    """
    if choice not in CHOICES:
        raise ModelServerError(f"unknown backend {choice!r}: choose one of {', '.join(CHOICES)}")
    if choice == "embedded":
        return _embedded_backend(wanted, "")
    problem = ollama_problem(host, wanted)
    if problem is not None:
        if choice == "ollama":
            raise ModelServerError(problem.message)
        return _auto_fallback(wanted, problem)
    note = f"backend: Ollama at {host}"
    return Backend("ollama", OllamaUpstream(host), {tag: tag for _, tag in wanted}, note)
