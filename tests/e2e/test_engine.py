"""The embedded engine's promises on the real model: reproducible answers, exact constraints.

Nothing here compares the model's words with a literal: answers are compared with each
other (the same request must give the same bytes), and constrained output with its schema.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e
pytest.importorskip("llama_cpp")

from gateway.catalog import bundled_model  # noqa: E402
from gateway.engine import LoadedModel  # noqa: E402
from gateway.server import Gateway  # noqa: E402
from gateway.upstreams.embedded import EmbeddedUpstream  # noqa: E402

MODEL = "smollm2:135m"
SYSTEM = (
    "You are a writer on a small team. You plan, write and edit short articles about "
    "science and nature, and you keep every answer short and concrete. "
) * 3  # long enough that prompts span several cache chunks
OPTIONS = {"temperature": 0, "seed": 7, "num_predict": 24}


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    """A gateway over the embedded engine."""
    with Gateway(EmbeddedUpstream()) as server:
        yield server


def _messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


def _native(url: str, question: str, stream: bool) -> str:
    body = {"model": MODEL, "messages": _messages(question), "options": OPTIONS, "stream": stream}
    reply = httpx.post(f"{url}/api/chat", json=body, timeout=300)
    assert reply.status_code == 200, reply.text
    if not stream:
        return str(reply.json()["message"]["content"])
    lines = [json.loads(line) for line in reply.text.splitlines() if line.strip()]
    return "".join(line["message"]["content"] for line in lines)


def _openai(url: str, question: str, stream: bool) -> str:
    body = {
        "model": MODEL,
        "messages": _messages(question),
        "temperature": 0,
        "seed": 7,
        "max_tokens": 24,
        "stream": stream,
    }
    reply = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=300)
    assert reply.status_code == 200, reply.text
    if not stream:
        return str(reply.json()["choices"][0]["message"]["content"])
    text = ""
    for line in reply.text.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:])["choices"]:
                text += choice["delta"].get("content") or ""
    return text


def test_a_a_b_a_gives_the_same_a_every_way(gateway: Gateway) -> None:
    """A, A, B, A (B shares A's system prompt): every A is the same text, in all four forms."""
    answers = []
    questions = ("Name a colour.", "Name a colour.", "Tell me about the sea.", "Name a colour.")
    for ask in (_native, _openai):
        for stream in (False, True):
            a1, a2, _b, a3 = (ask(gateway.base_url, q, stream) for q in questions)
            assert a1 == a2 == a3, (ask.__name__, stream)
            answers.append(a1)
    assert len(set(answers)) == 1 and answers[0]


def test_the_same_request_answers_the_same_after_a_reload(gateway: Gateway) -> None:
    """Unloading the model (keep_alive 0) and loading it again changes no byte of an answer."""
    before = _native(gateway.base_url, "Describe the moon.", False)
    unload = {"model": MODEL, "messages": [], "keep_alive": 0}
    assert httpx.post(f"{gateway.base_url}/api/chat", json=unload).json()["done_reason"] == "unload"
    assert _native(gateway.base_url, "Describe the moon.", False) == before


def _last_logits(model: LoadedModel) -> Any:
    import numpy as np

    return np.ctypeslib.as_array(model.llm._ctx.get_logits(), shape=(model.llm.n_vocab(),))


def _logits(model: LoadedModel, tokens: list[int]) -> tuple[bytes, int]:
    """The next-token logits after `tokens`, the engine's way, and how many were evaluated."""
    evaluated = model.cache.prepare(tokens)
    model.llm.eval(tokens[-1:])  # what Llama.generate does next: the last token alone
    return _last_logits(model).tobytes(), evaluated


def _conversations(model: LoadedModel) -> list[list[int]]:
    rng = random.Random(3)
    words = ["alpha", "beta", "sea", "sky", "tree", "river", "stone", "fire", "moon", "sun"]
    turns, prompts = "", []
    for _ in range(6):
        question = " ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))
        prompts.append(_chatml(f"{turns}<|im_start|>user\n{question}<|im_end|>\n"))
        answer = " ".join(rng.choice(words) for _ in range(30))
        turns += f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n{answer}"
        turns += "<|im_end|>\n"
    return [model.tokenize(p) for p in prompts]


def _chatml(rest: str) -> str:
    return f"<|im_start|>system\n{SYSTEM}<|im_end|>\n{rest}<|im_start|>assistant\n"


def test_a_reused_cache_gives_the_logits_of_a_fresh_evaluation() -> None:
    """Prompts in any order, with answers generated between: logits bit-identical to fresh ones."""
    path = bundled_model()
    assert path is not None
    model = LoadedModel(path, 2048)
    try:
        prompts = _conversations(model)
        fresh = []
        for tokens in prompts:
            model.llm.reset()
            model.cache.clean = 0
            fresh.append(_logits(model, tokens)[0])
        rng, reused = random.Random(5), 0
        for _ in range(30):
            index = rng.randrange(len(prompts))
            logits, evaluated = _logits(model, prompts[index])
            assert logits == fresh[index], index
            reused += evaluated < len(prompts[index])
            for _ in range(rng.randint(0, 8)):  # an answer, one token at a time, as generated
                model.llm.eval([int(_last_logits(model).argmax())])
        assert reused > 0  # the cache was really used, not just cleared
    finally:
        model.close()


BOUNDED = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "maxLength": 40},
        "k": {"type": "integer", "minimum": 1, "maximum": 5},
    },
    "required": ["query", "k"],
}
SEARCH_TOOL = {
    "type": "function",
    "function": {"name": "search", "description": "Search the docs.", "parameters": BOUNDED},
}


def test_tool_arguments_stay_within_the_schema_bounds(gateway: Gateway) -> None:
    """Twenty sampled calls of a tool whose k allows 1-5: every k is in range, query fits."""
    from openai import OpenAI

    client = OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused")
    for seed in range(20):
        reply = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Search for refunds with k=10 results."}],
            tools=[SEARCH_TOOL],  # type: ignore[list-item]
            tool_choice={"type": "function", "function": {"name": "search"}},
            temperature=1.0,
            seed=seed,
        )
        arguments = json.loads(reply.choices[0].message.tool_calls[0].function.arguments)
        assert 1 <= arguments["k"] <= 5 and len(arguments["query"]) <= 40, arguments


def _format_answer(gateway: Gateway, schema: dict[str, Any], seed: int) -> Any:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Tell me a joke as JSON, k is 10."}],
        "format": schema,
        "stream": False,
        "options": {"temperature": 1.0, "seed": seed, "num_predict": 200},
    }
    reply = httpx.post(f"{gateway.base_url}/api/chat", json=body, timeout=300).json()
    return json.loads(reply["message"]["content"])


def test_format_keeps_bounds_and_property_order(gateway: Gateway) -> None:
    """A `format` schema's bounds hold on every sample, and keys come in the schema's order."""
    joke = {
        "type": "object",
        "properties": {
            "setup": {"type": "string", "maxLength": 60},
            "punchline": {"type": "string", "maxLength": 60},
            "k": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "required": ["setup", "punchline", "k"],
    }
    for seed in range(10):
        answer = _format_answer(gateway, joke, seed)
        assert list(answer) == ["setup", "punchline", "k"] and 1 <= answer["k"] <= 5
