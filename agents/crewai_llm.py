"""A `crewai.BaseLLM` over Ollama's native `/api/chat`, so CrewAI agents get `num_ctx`.

CrewAI's own `LLM(model="ollama/...")` goes to Ollama's OpenAI-compatible `/v1`, where
`num_ctx` cannot be set. This class talks to `/api/chat` through the `ollama` client, with
`host` set to the agent's gateway URL (its path carries the run and agent), and sends the
scenario's options unchanged, so the wire request matches the other frameworks'. CrewAI's
ReAct stop words are applied to the reply here rather than sent, for the same reason.

Import this module only after `agents._crewai_env.prepare()` (it imports crewai).
"""

from __future__ import annotations

import json
from typing import Any

import ollama
from crewai import BaseLLM
from crewai.events.types.llm_events import LLMCallType
from crewai.llms.base_llm import llm_call_context
from pydantic import BaseModel, PrivateAttr

from agents.base import AgentModel

CONTEXT_RESERVE = 0.85  # CrewAI keeps 15% of the window free, as its providers do


class OllamaNativeLLM(BaseLLM):
    """A CrewAI model that calls Ollama's `/api/chat` with fixed options and keep_alive."""

    llm_type: str = "ollama_native"
    provider: str = "ollama"
    host: str
    options: dict[str, Any] = {}
    keep_alive: str | int | None = None
    _client: ollama.Client | None = PrivateAttr(default=None)
    _task_formats: dict[int, dict[str, Any]] = PrivateAttr(default_factory=dict)

    def format_for(self, task: Any, json_schema: dict[str, Any]) -> None:
        """Send `json_schema` as Ollama's `format` on this model's calls for `task`."""
        self._task_formats[id(task)] = json_schema

    @classmethod
    def from_agent_model(cls, spec: AgentModel) -> OllamaNativeLLM:
        """The model `spec` describes (provider `ollama` only)."""
        options = dict(spec.options)
        return cls(
            model=spec.model,
            host=spec.base_url,
            options=options,
            keep_alive=spec.keep_alive,
            temperature=options.get("temperature"),
            seed=options.get("seed"),
            max_tokens=options.get("num_predict"),
        )

    def client(self) -> ollama.Client:
        """The `ollama` client for this agent's gateway URL (made on first use)."""
        if self._client is None:
            self._client = ollama.Client(host=self.host)
        return self._client

    def call(
        self,
        messages: str | list[Any],
        tools: list[dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Any | None = None,
        from_agent: Any | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> str:
        """One non-streamed `/api/chat` request; the reply text, cut at CrewAI's stop words."""
        with llm_call_context():
            self._emit_call_started_event(
                messages=messages,
                tools=tools,
                callbacks=callbacks,
                available_functions=available_functions,
                from_task=from_task,
                from_agent=from_agent,
            )
            try:
                text = self._chat(messages, response_model, from_task)
            except Exception as exc:
                self._emit_call_failed_event(str(exc), from_task, from_agent)
                raise
            self._emit_call_completed_event(
                text, LLMCallType.LLM_CALL, from_task, from_agent, messages=messages
            )
            return text

    def _chat(
        self, messages: str | list[Any], response_model: type[BaseModel] | None, task: Any
    ) -> str:
        kwargs: dict[str, Any] = {"options": self.options}
        if self.keep_alive is not None:
            kwargs["keep_alive"] = self.keep_alive
        if response_model is not None:
            kwargs["format"] = response_model.model_json_schema()
        elif task is not None and id(task) in self._task_formats:
            kwargs["format"] = self._task_formats[id(task)]
        response = self.client().chat(
            model=self.model,
            messages=wire_messages(self._format_messages(messages)),
            stream=False,
            **kwargs,
        )
        return self._apply_stop_words(response.message.content or "")

    def get_input_tokens_count(
        self, messages: str | list[Any], tools: Any = None, response_model: Any = None
    ) -> int:
        """CrewAI's own estimate (four characters a token), without its warning on each call."""
        if isinstance(messages, str):
            return (len(messages) + 3) // 4
        return (sum(len(_text(m.get("content"))) for m in messages) + 3) // 4

    def supports_function_calling(self) -> bool:
        """False: CrewAI then uses its text (ReAct) protocol for tools and delegation."""
        return False

    def supports_stop_words(self) -> bool:
        """True: stop words are honoured (applied to the reply, see the module docstring)."""
        return True

    def get_context_window_size(self) -> int:
        """The usable part of the `num_ctx` this agent's calls are sent with."""
        return int(int(self.options.get("num_ctx", 2048)) * CONTEXT_RESERVE)


def wire_messages(messages: list[Any]) -> list[dict[str, str]]:
    """CrewAI's message dicts as Ollama chat messages (role and text content only)."""
    return [{"role": m["role"], "content": _text(m.get("content"))} for m in messages]


def _text(content: Any) -> str:
    """Message content as text: strings as they are, content blocks joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return "" if content is None else json.dumps(content)
