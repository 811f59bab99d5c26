"""LangChain chat models for LangGraph runs, built from an `AgentModel`.

Provider `ollama` gets `ChatOllama` on the native `/api/chat`, with every option passed and
`num_ctx` always set; provider `openai` gets `ChatOpenAI` on an OpenAI-compatible `/v1`.
Nothing is contacted at construction.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from agents.base import AgentModel

_OLLAMA_OPTIONS = (
    "num_ctx",
    "temperature",
    "seed",
    "num_predict",
    "top_p",
    "top_k",
    "stop",
    "repeat_penalty",
)


def chat_model(spec: AgentModel) -> BaseChatModel:
    """The LangChain chat model that talks to `spec.base_url` as `spec` says."""
    if spec.provider == "openai":
        return _openai_model(spec)
    return _ollama_model(spec)


def _ollama_model(spec: AgentModel) -> BaseChatModel:
    from langchain_ollama import ChatOllama  # lazy: only the profiles that use it pay

    kwargs: dict[str, Any] = {k: spec.options[k] for k in _OLLAMA_OPTIONS if k in spec.options}
    if spec.keep_alive is not None:
        kwargs["keep_alive"] = spec.keep_alive
    # The base URL is the run's own gateway on plain-HTTP loopback: no TLS is ever spoken,
    # and skipping the certificate store saves ~60 ms per client (two per agent).
    return ChatOllama(
        model=spec.model, base_url=spec.base_url, client_kwargs={"verify": False}, **kwargs
    )


def _openai_model(spec: AgentModel) -> BaseChatModel:
    from langchain_openai import ChatOpenAI  # lazy: only openai profiles pay for it

    return ChatOpenAI(
        model=spec.model, base_url=spec.base_url, api_key=spec.api_key, **spec.openai_params()
    )
