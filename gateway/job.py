"""A chat or generate request as the engine takes it, protocol-neutral, and its sampling."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sampling:
    """Sampling options with Ollama's defaults."""

    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.0
    typical_p: float = 1.0
    repeat_penalty: float = 1.1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int | None = None
    num_predict: int = -1
    stop: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: dict[str, Any] | None) -> Sampling:
        """Sampling from an Ollama `options` object (unknown keys ignored)."""
        options = options or {}
        known = {k: options[k] for k in cls.__dataclass_fields__ if options.get(k) is not None}
        stop = known.get("stop")
        if stop is not None:
            known["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
        return cls(**known)

    def generate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `Llama.generate`."""
        return {
            "temp": self.temperature,
            "top_k": self.top_k,
            "top_p": self.top_p,
            "min_p": self.min_p,
            "typical_p": self.typical_p,
            "repeat_penalty": self.repeat_penalty,
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
        }


@dataclass
class ChatJob:
    """One chat or generate request, protocol-neutral (messages in Ollama's shape)."""

    messages: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = "auto"
    format: Any = None
    raw_prompt: str | None = None
