"""`read_file`, `list_files`, `write_file`: file access confined to the run's workspace.

Paths are relative to the workspace. Absolute paths, `..`, and paths that lead out of the
workspace through a symlink are refused with an error the model reads; so is the index
folder `retrieve` keeps there. Reads and writes are bounded, so a huge file cannot flood
the model's context or the disk.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from pydantic import BaseModel, Field

from tools.base import Tool, ToolError
from tools.workspace import INDEX_DIR, ToolContext

MAX_READ_CHARS = 6000
MAX_WRITE_BYTES = 256 * 1024
MAX_LISTED = 200


def resolve_inside(workspace: Path, relative: str) -> Path:
    """The real path of `relative` inside `workspace`; a ToolError if it would leave it."""
    text = relative.strip().replace("\\", "/")
    if not text or "\x00" in text:
        raise ToolError("give a file path relative to the workspace, e.g. notes/plan.md")
    if PurePosixPath(text).is_absolute() or PureWindowsPath(relative).drive:
        raise ToolError(
            f"absolute path {relative!r} refused: give a path relative to the workspace"
        )
    parts = PurePosixPath(text).parts
    if ".." in parts:
        raise ToolError(f"path {relative!r} refused: '..' may not leave the workspace")
    if parts and parts[0] == INDEX_DIR:
        raise ToolError(f"path {relative!r} refused: {INDEX_DIR} is the search index, not a file")
    root = workspace.resolve()
    target = (root / text).resolve()
    if target != root and not target.is_relative_to(root):
        raise ToolError(f"path {relative!r} refused: it leads out of the workspace (a symlink)")
    return target


def shown(workspace: Path, path: Path) -> str:
    """A path as the model sees it: relative to the workspace, with forward slashes."""
    return path.relative_to(workspace.resolve()).as_posix() or "."


class ReadFileArgs(BaseModel):
    """Arguments of `read_file`."""

    path: str = Field(description="File path relative to the workspace, e.g. docs/faq.md")


class ListFilesArgs(BaseModel):
    """Arguments of `list_files`."""

    path: str = Field(".", description="Folder relative to the workspace; '.' for all of it")


class WriteFileArgs(BaseModel):
    """Arguments of `write_file`."""

    path: str = Field(description="File path relative to the workspace, e.g. plan.json")
    content: str = Field(description="The whole text to write; replaces the file")


def read_file(args: ReadFileArgs, context: ToolContext) -> str:
    """Run `read_file`: the file's text, cut at `MAX_READ_CHARS`."""
    target = resolve_inside(context.workspace, args.path)
    if target.is_dir():
        raise ToolError(f"{args.path!r} is a folder: call list_files to see what is in it")
    if not target.is_file():
        raise ToolError(f"no file {args.path!r} in the workspace: call list_files to see names")
    size = target.stat().st_size
    with target.open("rb") as handle:
        head = handle.read(MAX_READ_CHARS * 4 + 1)
    if b"\x00" in head:
        return f"{args.path} is a binary file ({size} bytes); it cannot be shown as text"
    text = head.decode("utf-8", errors="replace")
    if len(text) <= MAX_READ_CHARS and len(head) == size:
        return text
    return f"{text[:MAX_READ_CHARS]}\n… [file is {size} bytes; only the start is shown]"


def list_files(args: ListFilesArgs, context: ToolContext) -> str:
    """Run `list_files`: the files under a folder, one relative path and size a line."""
    folder = resolve_inside(context.workspace, args.path)
    if not folder.is_dir():
        raise ToolError(f"no folder {args.path!r} in the workspace: try '.'")
    lines = [f"{shown(context.workspace, p)} ({p.stat().st_size} bytes)" for p in _files(folder)]
    if not lines:
        return f"no files under {args.path}"
    more = len(lines) - MAX_LISTED
    return "\n".join(lines[:MAX_LISTED]) + (f"\n… and {more} more" if more > 0 else "")


def _files(folder: Path) -> list[Path]:
    """Regular files under `folder`; symlinks, hidden names and the index are skipped."""
    found: list[Path] = []
    for current, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(current) / name
            if not name.startswith(".") and not path.is_symlink() and path.is_file():
                found.append(path)
        if len(found) > MAX_LISTED * 5:
            break
    return found


def write_file(args: WriteFileArgs, context: ToolContext) -> str:
    """Run `write_file`: replace (or create) a file in the workspace with the given text."""
    data = args.content.encode("utf-8")
    if len(data) > MAX_WRITE_BYTES:
        raise ToolError(f"content is {len(data)} bytes; the limit is {MAX_WRITE_BYTES}: shorten it")
    target = resolve_inside(context.workspace, args.path)
    if target.is_dir():
        raise ToolError(f"{args.path!r} is a folder: give a file name inside it")
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return f"wrote {len(data)} bytes to {shown(context.workspace, target)}"


READ_FILE = Tool(
    "read_file",
    "Read a text file from the workspace. Paths are relative, e.g. docs/faq.md.",
    ReadFileArgs,
    read_file,
)
LIST_FILES = Tool(
    "list_files",
    "List the files in the workspace (or one folder of it) with their sizes.",
    ListFilesArgs,
    list_files,
)
WRITE_FILE = Tool(
    "write_file",
    "Write a text file in the workspace (created or replaced). Paths are relative.",
    WriteFileArgs,
    write_file,
)
