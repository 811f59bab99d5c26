"""Prompt templates shipped as package data, referenced by name from scenarios.

A template is a Markdown file in this folder; `{role}`, `{goal}`, `{backstory}` and the
scenario's inputs (`{topic}`) are filled in when the agent's system prompt is built.
"""

from __future__ import annotations

from importlib import resources


def names() -> list[str]:
    """The names of the shipped templates (file names without `.md`)."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name.removesuffix(".md") for f in files if f.name.endswith(".md"))


def load(name: str) -> str:
    """The text of template `name`; KeyError naming the known ones if there is none."""
    path = resources.files(__name__) / f"{name}.md"
    if not path.is_file():
        raise KeyError(f"unknown prompt template {name!r} (known: {', '.join(names())})")
    return path.read_text(encoding="utf-8")
