"""Where the Ollama server is: a profile's base URL, else OLLAMA_HOST, else localhost.

OLLAMA_HOST is read the way Ollama reads it: `host`, `host:port`, `scheme://host[:port]`,
with port 11434 by default (443 for https). `0.0.0.0` is a bind address, so a client
reaches it on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from scenarios.errors import ScenarioError

DEFAULT_HOST = "http://localhost:11434"
DEFAULT_PORT = 11434
CONTAINER_HINT = (
    "from a container, set OLLAMA_HOST=http://host.docker.internal:11434, run the container with "
    "--add-host=host.docker.internal:host-gateway, and start Ollama on the host with "
    "OLLAMA_HOST=0.0.0.0"
)


def normalize_host(value: str) -> str:
    """`scheme://host:port` (no trailing slash or path kept) from any form Ollama accepts."""
    original = value = value.strip()
    if "://" not in value:
        value = f"http://{value}"
    parts = urlsplit(value)
    scheme = parts.scheme or "http"
    host = parts.hostname or "localhost"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    try:
        port = parts.port or (443 if scheme == "https" else DEFAULT_PORT)
    except ValueError:
        raise ScenarioError(
            f"Ollama host {original!r}: the port must be a number from 1 to 65535"
        ) from None
    if ":" in host:
        host = f"[{host}]"
    path = parts.path.rstrip("/")
    return f"{scheme}://{host}:{port}{path}"


def ollama_host(base_url: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The Ollama URL a profile talks to: its base URL, else OLLAMA_HOST, else localhost."""
    env = os.environ if env is None else env
    if base_url:
        return normalize_host(base_url)
    if env.get("OLLAMA_HOST"):
        return normalize_host(env["OLLAMA_HOST"])
    return normalize_host(DEFAULT_HOST)


def in_container() -> bool:
    """Whether this process seems to run inside a container (for the connection hint)."""
    return os.path.exists("/.dockerenv") or bool(os.environ.get("REMOTE_CONTAINERS"))
