"""The error of a tool call that the model reads and can act on.

It lives apart from `tools.base` so that the modules `base` builds on (`workspace`,
`embeddings`) can raise it without importing `base`.
"""

from __future__ import annotations


class ToolError(Exception):
    """A failure the model should read and can act on (a refused path, a bad expression)."""
