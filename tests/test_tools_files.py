"""The files tools: confined to the workspace, bounded, and failing as messages to the model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools import call_tool, get
from tools.base import ToolError
from tools.files import MAX_READ_CHARS, MAX_WRITE_BYTES, resolve_inside
from tools.workspace import INDEX_DIR, ToolContext


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with one file, and a secret beside it (outside the workspace)."""
    root = tmp_path / "ws"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "a.md").write_text("hello")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    return root


def _call(workspace: Path, tool: str, **args: object) -> tuple[str, str | None]:
    result = call_tool(get(tool), args, ToolContext(workspace))
    return result.result, result.error


def test_write_list_and_read_round_trip(workspace: Path) -> None:
    """A file written in a new folder is listed with its size and read back unchanged."""
    text, error = _call(workspace, "write_file", path="plans/plan.json", content='{"a": 1}')
    assert error is None and text == "wrote 8 bytes to plans/plan.json"
    listing, _ = _call(workspace, "list_files")
    assert listing.splitlines() == ["notes/a.md (5 bytes)", "plans/plan.json (8 bytes)"]
    assert _call(workspace, "read_file", path="plans/plan.json") == ('{"a": 1}', None)


@pytest.mark.parametrize(
    ("tool", "path", "message"),
    [
        ("read_file", "../secret.txt", "'..' may not leave"),
        ("read_file", "notes/../../secret.txt", "'..' may not leave"),
        ("read_file", "/etc/passwd", "absolute path"),
        ("read_file", "C:\\Windows\\win.ini", "absolute path"),
        ("write_file", "../evil.txt", "'..' may not leave"),
        ("write_file", "/tmp/evil.txt", "absolute path"),
        ("list_files", "..", "'..' may not leave"),
        ("read_file", f"{INDEX_DIR}/chroma/chroma.sqlite3", "search index"),
        ("read_file", "", "relative to the workspace"),
    ],
)
def test_paths_out_of_the_workspace_are_refused(
    workspace: Path, tool: str, path: str, message: str
) -> None:
    """Traversal, absolute paths and the index folder are refused with a tool error."""
    args = {"path": path, "content": "x"} if tool == "write_file" else {"path": path}
    text, error = _call(workspace, tool, **args)
    assert text == "" and error is not None and message in error
    assert not (workspace.parent / "evil.txt").exists()


def test_symlinks_out_of_the_workspace_are_refused(workspace: Path) -> None:
    """A symlinked file or folder pointing outside cannot be read, written or listed."""
    (workspace / "link.txt").symlink_to(workspace.parent / "secret.txt")
    (workspace / "outside").symlink_to(workspace.parent)
    for tool, args in [
        ("read_file", {"path": "link.txt"}),
        ("read_file", {"path": "outside/secret.txt"}),
        ("write_file", {"path": "outside/evil.txt", "content": "x"}),
        ("write_file", {"path": "link.txt", "content": "overwritten"}),
        ("list_files", {"path": "outside"}),
    ]:
        text, error = _call(workspace, tool, **args)
        assert error is not None and "out of the workspace" in error, (tool, args)
        assert "TOP SECRET" not in text
    assert (workspace.parent / "secret.txt").read_text() == "TOP SECRET"
    assert not (workspace.parent / "evil.txt").exists()
    listing, _ = _call(workspace, "list_files")
    assert "link.txt" not in listing and "secret" not in listing


def test_symlinks_inside_the_workspace_are_followed(workspace: Path) -> None:
    """A symlink that stays inside the workspace reads its target."""
    (workspace / "alias.md").symlink_to(workspace / "notes" / "a.md")
    assert _call(workspace, "read_file", path="alias.md") == ("hello", None)


def test_a_huge_file_is_read_only_in_part(workspace: Path) -> None:
    """Reading a 20 MB file returns its start and its size, not the whole file."""
    with (workspace / "big.txt").open("w") as handle:
        handle.write("x" * 20_000_000)
    text, error = _call(workspace, "read_file", path="big.txt")
    assert error is None
    assert len(text) < MAX_READ_CHARS + 100
    assert "file is 20000000 bytes; only the start is shown" in text


def test_a_huge_write_is_refused(workspace: Path) -> None:
    """Content over the write limit is refused and nothing is written."""
    _text, error = _call(
        workspace, "write_file", path="big.txt", content="x" * (MAX_WRITE_BYTES + 1)
    )
    assert error is not None and "the limit is" in error
    assert not (workspace / "big.txt").exists()


def test_binary_files_are_not_shown(workspace: Path) -> None:
    """A file with NUL bytes is described, not dumped into the model's context."""
    (workspace / "blob.bin").write_bytes(b"\x00\x01\x02" * 10)
    text, error = _call(workspace, "read_file", path="blob.bin")
    assert (
        error is None and text == "blob.bin is a binary file (30 bytes); it cannot be shown as text"
    )


def test_missing_files_and_folders_say_what_to_do(workspace: Path) -> None:
    """Reading a missing file or a folder names the tool that shows what is there."""
    assert "call list_files" in (_call(workspace, "read_file", path="nope.md")[1] or "")
    assert "call list_files" in (_call(workspace, "read_file", path="notes")[1] or "")


def test_bad_arguments_become_tool_errors(workspace: Path) -> None:
    """A call missing `path`, or with arguments that are not JSON, is an error for the model."""
    missing = call_tool(get("read_file"), {}, ToolContext(workspace))
    assert missing.error == "bad arguments for read_file: path: Field required"
    garbled = call_tool(get("read_file"), "{not json", ToolContext(workspace))
    assert garbled.error is not None and "not valid JSON" in garbled.error


def test_resolve_inside_refuses_nul_bytes(workspace: Path) -> None:
    """A path with a NUL byte is refused rather than passed to the OS."""
    with pytest.raises(ToolError):
        resolve_inside(workspace, "notes/a.md\x00.txt")


def test_writing_through_an_inside_symlink_changes_its_target(workspace: Path) -> None:
    """Writing through an inside symlink to an inside file replaces that file's text."""
    (workspace / "alias.md").symlink_to(workspace / "notes" / "a.md")
    _text, error = _call(workspace, "write_file", path="alias.md", content="changed")
    assert error is None
    assert (workspace / "notes" / "a.md").read_text() == "changed"
    assert os.path.islink(workspace / "alias.md")
