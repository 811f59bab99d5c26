"""Prompt text for the embedded engine: the model's chat template, or ChatML with tools.

Tool calling follows llama-cpp-python's `chatml-function-calling` format: the system
message lists each tool as `functions.<name>:` with its JSON schema, and the model answers
either `message:` + text or `functions.<name>:` + JSON arguments; grammars constrain both.
"""

from __future__ import annotations

import json
from typing import Any

CHATML_DEFAULT_SYSTEM = "You are a helpful AI assistant."
TOOLS_PREAMBLE = (
    "\n\nYou have access to the following functions:\n{listing}\n\n"
    "You can respond to users messages with either a single message or a function call."
    "\n\nTo respond with a message begin the message with 'message:', use the following format:"
    "\n\nmessage:\n<message>"
    "\n\nTo respond with a function call begin the message with 'functions.<function_name>:', "
    'use the following format:\n\nfunctions.<function_name>:\n{{ "arg1": "value1" }}'
)


def text_of(content: Any) -> str:
    """A message's content as text (OpenAI content parts joined, None as empty)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _call_text(call: dict[str, Any]) -> str:
    function = call.get("function") or {}
    arguments = function.get("arguments")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments or {})
    return f"functions.{function.get('name', '')}:\n{arguments}"


def plain_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages reduced to role and text, tool calls and tool results written out."""
    out = []
    for message in messages:
        role = message.get("role", "user")
        content = text_of(message.get("content"))
        calls = message.get("tool_calls") or []
        if calls:
            content = "\n".join([content, *(_call_text(c) for c in calls)]).strip()
        if role == "tool":
            name = message.get("tool_name") or message.get("name") or "the function"
            role, content = "user", f"Result of {name}: {content}"
        out.append({"role": role, "content": content})
    return out


def chatml(messages: list[dict[str, str]]) -> str:
    """ChatML text of messages, ending with the assistant's turn."""
    turns = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(turns) + "<|im_start|>assistant\n"


def tools_system(system: str, tools: list[dict[str, Any]]) -> str:
    """The system message with the tools listed the `chatml-function-calling` way."""
    listing = "".join(
        f"\nfunctions.{t['function']['name']}:\n"
        f"{t['function'].get('description', '')}\n"
        f"{json.dumps(t['function'].get('parameters') or {})}\n"
        for t in tools
    )
    return system + TOOLS_PREAMBLE.format(listing=listing)


def render_with_tools(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> str:
    """ChatML prompt text with the tools in the system message."""
    plain = plain_messages(messages)
    for message, original in zip(plain, messages, strict=True):
        is_text_answer = original.get("role") == "assistant" and not original.get("tool_calls")
        if is_text_answer and message["content"]:
            message["content"] = "message:\n" + message["content"]
    if plain and plain[0]["role"] == "system":
        plain[0] = {"role": "system", "content": tools_system(plain[0]["content"], tools)}
    else:
        plain.insert(0, {"role": "system", "content": tools_system(CHATML_DEFAULT_SYSTEM, tools)})
    return chatml(plain)


def tool_choice_grammar(tools: list[dict[str, Any]]) -> str:
    """GBNF that lets the model pick a message or one of the tools."""
    names = " | ".join(json.dumps(f"functions.{t['function']['name']}:") for t in tools)
    return f'root ::= functions | "message:"\nfunctions ::= {names}\n'


def forced_tool(tools: list[dict[str, Any]], choice: Any) -> dict[str, Any] | None:
    """The tool a `tool_choice` forces (OpenAI's object form, or 'required' with one tool)."""
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return next((t for t in tools if t["function"]["name"] == name), None)
    if choice == "required" and len(tools) == 1:
        return tools[0]
    return None
