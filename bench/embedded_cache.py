"""What reproducibility costs the embedded engine: prompt-eval time under each cache policy.

A growing conversation (a system prompt, then one more exchange per turn, as in a tool
loop or a group chat) is sent through the gateway. At every turn each policy of
`LAB_LLAMA_CACHE` is measured on the same request, in rotating order (A B C, B C A, ...):
first the previous turn's prompt is sent (unmeasured, it leaves the cache as a
conversation would), then the turn's prompt, whose Ollama `prompt_eval_duration` is kept.

- `aligned` (the default): reuses whole 64-token chunks; reproducible.
- `off`: evaluates every prompt whole; reproducible.
- `prefix`: llama-cpp-python's own prefix reuse; fastest, not reproducible.

Prints per turn the prompt size and each policy's prompt-eval ms, then the medians of the
per-turn ratios against `prefix`, and whether every policy gave the same answers.

    .venv/bin/python bench/embedded_cache.py [--turns 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

POLICIES = ("aligned", "off", "prefix")
SYSTEM = (
    "You are the editor of a small science magazine. You answer in short, concrete "
    "sentences, you check every claim, and you never repeat yourself. " * 4
)
QUESTION = "Turn {n}: name one more fact about rivers and where it comes from."
ANSWER = (
    "Rivers carry sediment from mountains to the sea, and the amount they carry depends on "
    "the slope, the rock and the rain that falls on the basin; this is fact number {n}."
)


def conversation(turn: int) -> list[dict[str, str]]:
    """The messages of a conversation at `turn` (its last message the new question)."""
    messages = [{"role": "system", "content": SYSTEM}]
    for n in range(1, turn):
        messages.append({"role": "user", "content": QUESTION.format(n=n)})
        messages.append({"role": "assistant", "content": ANSWER.format(n=n)})
    messages.append({"role": "user", "content": QUESTION.format(n=turn)})
    return messages


def ask(url: str, messages: list[dict[str, str]], policy: str) -> dict[str, object]:
    """One greedy request under a cache policy; its final Ollama answer."""
    os.environ["LAB_LLAMA_CACHE"] = policy  # read by the engine at each request
    body = {
        "model": "smollm2:135m",
        "messages": messages,
        "stream": False,
        "options": {"temperature": 0, "seed": 1, "num_predict": 8, "num_ctx": 4096},
    }
    reply = httpx.post(f"{url}/api/chat", json=body, timeout=600)
    reply.raise_for_status()
    return dict(reply.json())


def main() -> int:
    """Measure the policies turn by turn and print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    args = parser.parse_args()
    os.environ["LAB_LLAMA_THREADS"] = str(args.threads)
    from gateway.server import Gateway
    from gateway.upstreams.embedded import EmbeddedUpstream

    ms: dict[str, list[float]] = {p: [] for p in POLICIES}
    answers: dict[str, list[str]] = {p: [] for p in POLICIES}
    with Gateway(EmbeddedUpstream()) as gateway:
        ask(gateway.base_url, conversation(1), "off")  # load the model before measuring
        print(
            f"{'turn':>4} {'prompt tokens':>13} " + " ".join(f"{p + ' ms':>11}" for p in POLICIES)
        )
        for turn in range(2, args.turns + 2):
            size = 0
            order = POLICIES[turn % 3 :] + POLICIES[: turn % 3]
            for policy in order:
                ask(gateway.base_url, conversation(turn - 1), policy)
                answer = ask(gateway.base_url, conversation(turn), policy)
                ms[policy].append(int(answer["prompt_eval_duration"]) / 1e6)  # type: ignore[arg-type]
                answers[policy].append(str(answer["message"]["content"]))  # type: ignore[index]
                size = int(answer["prompt_eval_count"])  # type: ignore[arg-type]
            cells = " ".join(f"{ms[p][-1]:>11.1f}" for p in POLICIES)
            print(f"{turn:>4} {size:>13} {cells}")
    for policy in ("aligned", "off"):
        ratios = [a / b for a, b in zip(ms[policy], ms["prefix"], strict=True)]
        print(
            f"{policy} / prefix: median {statistics.median(ratios):.2f}x "
            f"(range {min(ratios):.2f}-{max(ratios):.2f}) over {len(ratios)} turns; "
            f"median {statistics.median(ms[policy]):.0f} ms against "
            f"{statistics.median(ms['prefix']):.0f} ms"
        )
    same = all(answers[p] == answers["aligned"] for p in POLICIES)
    print(f"the three policies gave the same answers at every turn: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
