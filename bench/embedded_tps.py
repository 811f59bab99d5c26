"""Embedded tokens/s for smollm2:135m, measured through the gateway with the ollama client.

Each prompt runs `--runs` times (greedy, fixed num_predict). Before each run the model is
unloaded (`keep_alive: 0`), so the prompt is evaluated in full rather than from the KV
prefix cache; the load time is reported apart (load_duration). The table shows Ollama's
own metrics of every run and the median eval speed.

    .venv/bin/python bench/embedded_tps.py [--num-predict 128] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS = (
    "Write a short story about a robot who learns to paint.",
    "Explain in a few sentences why the sky is blue.",
    "List five tips for writing clear documentation.",
)
HEADER = (
    "prompt",
    "eval speed [tokens/s]",
    "total duration",
    "prompt duration",
    "eval duration",
    "eval count",
    "prompt count",
)


def seconds(ns: int) -> str:
    """A nanosecond duration in seconds, 3 decimals."""
    return f"{ns / 1e9:.3f}s"


def row(label: str, reply: object) -> tuple[str, ...]:
    """One table row from an ollama ChatResponse."""
    speed = reply.eval_count / reply.eval_duration * 1e9  # type: ignore[attr-defined]
    return (
        label,
        f"{speed:.1f}",
        seconds(reply.total_duration),
        seconds(reply.prompt_eval_duration),  # type: ignore[attr-defined]
        seconds(reply.eval_duration),
        str(reply.eval_count),
        str(reply.prompt_eval_count),
    )  # type: ignore[attr-defined]


def main() -> int:
    """Run the prompts and print the tokens/s table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-predict", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--num-ctx", type=int, default=2048)
    args = parser.parse_args()
    import ollama

    from gateway.engine import threads
    from gateway.server import Gateway
    from gateway.upstreams.embedded import EmbeddedUpstream

    options = {"num_predict": args.num_predict, "temperature": 0, "num_ctx": args.num_ctx}
    rows, speeds = [], []
    with Gateway(EmbeddedUpstream()) as gateway:
        client = ollama.Client(host=gateway.base_url)
        warm = client.chat(
            model="smollm2:135m",
            messages=[{"role": "user", "content": "Hi"}],
            options={**options, "num_predict": 4},
        )
        for i, prompt in enumerate(PROMPTS, 1):
            for run in range(1, args.runs + 1):
                client.chat(model="smollm2:135m", messages=[], keep_alive=0)
                reply = client.chat(
                    model="smollm2:135m",
                    options=options,
                    messages=[{"role": "user", "content": prompt}],
                )
                rows.append(row(f"p{i} run {run}", reply))
                speeds.append(reply.eval_count / reply.eval_duration * 1e9)
    print(
        f"smollm2:135m (Q4_1) embedded llama.cpp, {threads()} threads, num_ctx {args.num_ctx}, "
        f"num_predict {args.num_predict}, greedy; load {seconds(warm.load_duration)}"
    )
    widths = [max(len(r[c]) for r in (HEADER, *rows)) for c in range(len(HEADER))]
    for line in (HEADER, *rows):
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
    print(f"median eval speed: {statistics.median(speeds):.1f} tokens/s over {len(speeds)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
