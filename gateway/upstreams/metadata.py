"""What the embedded upstream says about its models: `/api/tags`, `/api/ps`, `/api/show`, `/v1`.

A GGUF file's `details` (family, size label, quantization name) come from its metadata, its
digest is the SHA-256 of the file (cached by path and mtime). all-MiniLM-L6-v2 is described
as Ollama describes `all-minilm`: an embedding-only BERT model.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from gateway import minilm
from gateway.catalog import model_info
from gateway.wire import utc_iso

VERSION = "0.12.0"  # the Ollama version the embedded upstream answers like
NEVER_EXPIRES = "2318-01-01T00:00:00Z"  # Ollama's `expires_at` of a model kept for ever
QUANT_NAMES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    12: "Q3_K_M",
    15: "Q4_K_M",
    17: "Q5_K_M",
    18: "Q6_K",
}


@lru_cache(maxsize=32)
def digest(path: Path, mtime: float) -> str:
    """The SHA-256 of a file (cached while its mtime stays the same)."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def details(tag: str, path: Path) -> dict[str, Any]:
    """Ollama's `details` object for a GGUF file."""
    meta = model_info(path)["metadata"]
    arch = meta.get("general.architecture", "llama")
    quant = QUANT_NAMES.get(meta.get("general.file_type", -1)) or _quant_from_name(path.name)
    size_label = meta.get("general.size_label") or (tag.split(":")[1].upper() if ":" in tag else "")
    return {
        "parent_model": "",
        "format": "gguf",
        "family": arch,
        "families": [arch],
        "parameter_size": str(size_label),
        "quantization_level": quant,
    }


def _quant_from_name(name: str) -> str:
    match = re.search(r"(Q\d_[A-Z0-9_]+|F16|F32|BF16)", name.upper())
    return match.group(1).rstrip("_") if match else "unknown"


def tag_entry(tag: str, path: Path) -> dict[str, Any]:
    """The `/api/tags` entry of a served GGUF model."""
    stat = path.stat()
    return {
        "name": tag,
        "model": tag,
        "modified_at": utc_iso(stat.st_mtime),
        "size": stat.st_size,
        "digest": digest(path, stat.st_mtime),
        "details": details(tag, path),
    }


def running_entry(tag: str, path: Path, expires: float | None, num_ctx: int) -> dict[str, Any]:
    """The `/api/ps` entry of a loaded model (`expires` a time, or None/0 for never)."""
    entry = tag_entry(tag, path)
    entry.pop("modified_at")
    return {
        **entry,
        "expires_at": utc_iso(expires) if expires else NEVER_EXPIRES,
        "size_vram": 0,
        "context_length": num_ctx,
    }


def show(tag: str, path: Path) -> dict[str, Any]:
    """The `/api/show` answer for a served GGUF model."""
    meta = model_info(path)["metadata"]
    return {
        "modelfile": f"# embedded llama.cpp model (scenario lab gateway)\nFROM {path}\n",
        "parameters": "",
        "template": meta.get("tokenizer.chat_template", ""),
        "details": details(tag, path),
        "model_info": {k: v for k, v in meta.items() if not k.startswith("tokenizer.")},
        "capabilities": ["completion", "tools"],
        "modified_at": utc_iso(path.stat().st_mtime),
    }


def v1_entry(tag: str, path: Path) -> dict[str, Any]:
    """The `/v1/models` entry of a served model."""
    return {
        "id": tag,
        "object": "model",
        "created": int(path.stat().st_mtime),
        "owned_by": "library",
    }


def minilm_details() -> dict[str, Any]:
    """Ollama's `details` of all-MiniLM-L6-v2 (safetensors run by sentence-transformers)."""
    return {
        "parent_model": "",
        "format": "safetensors",
        "family": "bert",
        "families": ["bert"],
        "parameter_size": "23M",
        "quantization_level": "F32",
    }


def minilm_entry() -> dict[str, Any]:
    """The `/api/tags` entry of `all-minilm:latest`."""
    weights = minilm.model_path() / "model.safetensors"
    stat = weights.stat()
    return {
        "name": minilm.TAG,
        "model": minilm.TAG,
        "modified_at": utc_iso(stat.st_mtime),
        "size": stat.st_size,
        "digest": digest(weights, stat.st_mtime),
        "details": minilm_details(),
    }


def minilm_show() -> dict[str, Any]:
    """The `/api/show` answer for `all-minilm`: an embedding-only BERT model."""
    conf = minilm.config()
    path = minilm.model_path()
    return {
        "modelfile": f"# all-MiniLM-L6-v2 via sentence-transformers (scenario lab)\nFROM {path}\n",
        "parameters": "",
        "template": "",
        "details": minilm_details(),
        "model_info": {
            "general.architecture": "bert",
            "general.basename": minilm.MODEL_ID,
            "bert.block_count": conf.get("num_hidden_layers"),
            "bert.context_length": conf.get("max_position_embeddings"),
            "bert.embedding_length": conf.get("hidden_size"),
            "bert.attention.head_count": conf.get("num_attention_heads"),
        },
        "capabilities": ["embedding"],
        "modified_at": utc_iso((path / "model.safetensors").stat().st_mtime),
    }
