"""`retrieve`: semantic search over the documents in the run's workspace, backed by chromadb.

Markdown, text and (when pdfminer.six is installed) PDF files anywhere in the workspace are
cut into chunks and embedded with an explicit, offline embedding function
(`tools.embeddings`). The index persists in the workspace (`.lab-index/chroma`); before each
search it is brought up to date: chunks of files that changed or disappeared are dropped,
new and changed files are embedded. Each chunk remembers its file's content hash.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tools.base import Tool, ToolError
from tools.embeddings import embedder_id, embedding_function
from tools.workspace import INDEX_DIR, ToolContext

DOC_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".pdf")
MAX_DOC_BYTES = 5 * 1024 * 1024
CHUNK_CHARS = 800
BATCH = 64
_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


class RetrieveArgs(BaseModel):
    """Arguments of `retrieve`."""

    query: str = Field(min_length=1, max_length=1000)
    k: int = Field(2, ge=1, le=5)


@dataclass(frozen=True)
class Hit:
    """One found passage: its file (relative to the workspace), distance and text."""

    path: str
    distance: float
    text: str


def document_files(workspace: Path) -> dict[str, Path]:
    """Searchable files by relative path (hidden names, symlinks and huge files skipped)."""
    root = workspace.resolve()
    found = {}
    for current, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(current) / name
            if _searchable(path):
                found[path.relative_to(root).as_posix()] = path
    return found


def _searchable(path: Path) -> bool:
    if path.name.startswith(".") or path.suffix.lower() not in DOC_SUFFIXES:
        return False
    return not path.is_symlink() and path.is_file() and path.stat().st_size <= MAX_DOC_BYTES


def stamp(path: Path) -> str:
    """What tells a changed file from an unchanged one: the hash of its bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def document_text(path: Path) -> str:
    """The text of a document (PDF through pdfminer.six; a ToolError if it cannot be read)."""
    if path.suffix.lower() != ".pdf":
        return path.read_text(encoding="utf-8", errors="replace")
    try:  # pdfminer.six is optional (the tools extra), and only a PDF needs it
        from pdfminer.high_level import extract_text
    except ImportError:
        return ""  # PDFs are searched only where pdfminer.six is installed
    return extract_text(str(path))


def chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Paragraph-aligned chunks of at most `size` characters; a heading starts a new one."""
    out: list[str] = []
    current = ""
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not paragraph:
            continue
        if current and (paragraph.startswith("#") or len(current) + len(paragraph) > size):
            out.append(current)
            current = ""
        while len(paragraph) > size:
            out.append(paragraph[:size])
            paragraph = paragraph[size:]
        current = f"{current}\n\n{paragraph}".strip()
    return [*out, current] if current else out


def _lock_for(folder: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(folder, threading.Lock())


def open_collection(workspace: Path, setting: str) -> Any:
    """The workspace's chromadb collection for this embedder (created on first use)."""
    # chromadb is optional (the tools extra) and slow to import: only a search needs it
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(
        path=str(workspace / INDEX_DIR / "chroma"),
        settings=Settings(anonymized_telemetry=False),
    )
    name = "docs-" + re.sub(r"[^a-zA-Z0-9_-]+", "-", embedder_id(setting)).strip("-")
    return client.get_or_create_collection(
        name=name, embedding_function=embedding_function(setting)
    )


def sync(collection: Any, workspace: Path) -> tuple[int, int]:
    """Bring the index up to date with the files; how many files were (re)indexed, dropped."""
    indexed = {m["path"]: m["stamp"] for m in collection.get(include=["metadatas"])["metadatas"]}
    files = document_files(workspace)
    current = {rel: stamp(path) for rel, path in files.items()}
    stale = [p for p in indexed if current.get(p) != indexed[p]]
    if stale:
        collection.delete(where={"path": {"$in": stale}})
    fresh = [p for p in current if indexed.get(p) != current[p]]
    for rel in fresh:
        _add_file(collection, rel, files[rel], current[rel])
    return len(fresh), len([p for p in stale if p not in current])


def _add_file(collection: Any, rel: str, path: Path, file_stamp: str) -> None:
    pieces = chunks(document_text(path))
    for start in range(0, len(pieces), BATCH):
        batch = pieces[start : start + BATCH]
        collection.add(
            ids=[f"{rel}#{start + i}" for i in range(len(batch))],
            documents=batch,
            metadatas=[{"path": rel, "stamp": file_stamp} for _ in batch],
        )


def search(workspace: Path, query: str, k: int = 2, setting: str = "local") -> list[Hit]:
    """The `k` best documents for `query`, each with its best passage, best first."""
    workspace = workspace.resolve()
    with _lock_for(workspace):
        collection = open_collection(workspace, setting)
        sync(collection, workspace)
        count = collection.count()
        if count == 0:
            return []
        found = collection.query(query_texts=[query], n_results=min(count, k * 4))
    return _best_per_document(found, k)


def _best_per_document(found: dict[str, Any], k: int) -> list[Hit]:
    hits: dict[str, Hit] = {}
    rows = zip(found["metadatas"][0], found["distances"][0], found["documents"][0], strict=True)
    for meta, distance, text in rows:
        if meta["path"] not in hits:
            hits[meta["path"]] = Hit(meta["path"], round(float(distance), 4), text)
    return list(hits.values())[:k]


def retrieve(args: RetrieveArgs, context: ToolContext) -> str:
    """Run `retrieve`: the best passages, each under its file name."""
    hits = search(context.workspace, args.query, args.k, context.embeddings)
    if not hits:
        raise ToolError("there are no documents in the workspace to search")
    return "\n\n".join(f"[{i}] {h.path}\n{h.text}" for i, h in enumerate(hits, 1))


TOOL = Tool(
    "retrieve",
    "Search the documents in the workspace by meaning; returns the most relevant passages "
    "with their file names.",
    RetrieveArgs,
    retrieve,
)
