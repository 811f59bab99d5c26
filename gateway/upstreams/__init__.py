"""Upstreams the gateway forwards to: a real Ollama, the embedded llama.cpp engine, a replay."""

from gateway.upstreams.base import Reply, Upstream

__all__ = ["Reply", "Upstream"]
