"""A scripted chat model that can call tools, for tests of the tool loop and structured output.

Each scripted reply is a string (a text answer) or a list of `(tool, args)` pairs (a reply
that calls those tools). The model records every prompt and every `bind_tools` schema.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from tests.fakes import StructuredChatModel


def calls(*pairs: tuple[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """A scripted reply that calls these tools (each a name and its arguments)."""
    return list(pairs)


class ToolCallingModel(StructuredChatModel):
    """A scripted model with `bind_tools` and structured output; list replies call tools."""

    bound: list[list[dict[str, Any]]] = Field(default_factory=list)

    def bind_tools(self, tools: Any, **kwargs: Any) -> ToolCallingModel:
        """Record the tool schemas offered and answer from the same script."""
        self.bound.append(list(tools))
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        """The next scripted reply: text, or an AIMessage with tool calls."""
        index = len(self.received)
        if index < len(self.replies) and isinstance(self.replies[index], list):
            self.received.append(list(messages))
            tool_calls = [
                {"name": name, "args": args, "id": f"c{index}_{i}", "type": "tool_call"}
                for i, (name, args) in enumerate(self.replies[index])
            ]
            message = AIMessage("", tool_calls=tool_calls)
            return ChatResult(generations=[ChatGeneration(message=message)])
        return super()._generate(messages, stop, run_manager, **kwargs)
