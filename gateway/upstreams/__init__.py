"""Upstreams the gateway forwards to: a real Ollama, or the embedded llama.cpp engine."""

from gateway.upstreams.base import Reply, Upstream

__all__ = ["Reply", "Upstream"]
