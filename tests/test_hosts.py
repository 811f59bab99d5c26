"""Where the lab looks for Ollama: profile base URL, OLLAMA_HOST in Ollama's forms, localhost."""

from __future__ import annotations

import pytest

from gateway.hosts import normalize_host, ollama_host


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("localhost", "http://localhost:11434"),
        ("127.0.0.1:11500", "http://127.0.0.1:11500"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("http://host.docker.internal:11434", "http://host.docker.internal:11434"),
        ("http://example.internal", "http://example.internal:11434"),
        ("https://ollama.example.internal", "https://ollama.example.internal:443"),
        ("http://gpu-box:11434/", "http://gpu-box:11434"),
        ("[::1]:11434", "http://[::1]:11434"),
    ],
)
def test_normalize_host_accepts_ollama_forms(value: str, expected: str) -> None:
    """Host-only, host:port and URL forms become scheme://host:port, 0.0.0.0 reached on loopback."""
    assert normalize_host(value) == expected


def test_profile_base_url_wins_over_environment() -> None:
    """A profile's base_url is used even when OLLAMA_HOST is set."""
    assert ollama_host("http://gpu:9999", {"OLLAMA_HOST": "other:1"}) == "http://gpu:9999"


def test_environment_then_default() -> None:
    """Without a base_url, OLLAMA_HOST is used, and without it localhost:11434."""
    assert ollama_host(None, {"OLLAMA_HOST": "10.1.2.3"}) == "http://10.1.2.3:11434"
    assert ollama_host(None, {}) == "http://localhost:11434"
