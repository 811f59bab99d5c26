"""Added latency of the gateway hop: a client to a fake Ollama, direct vs through the gateway.

The fake Ollama (a bare ASGI app under uvicorn, in its own process) answers `/api/chat`
instantly, so the difference between the two paths is the gateway itself. The gateway runs
in this process, in a thread, as the run harness starts it. Three paths are timed, each
over N calls on one keep-alive connection after a warm-up: direct, through the gateway
unattributed (not recorded), and through an agent URL of a registered run (recorded).

    .venv/bin/python bench/gateway_latency.py [--calls 500]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ANSWER = json.dumps(
    {
        "model": "fake:1b",
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": "ok"},
        "done": True,
        "done_reason": "stop",
        "total_duration": 1000,
        "load_duration": 0,
        "prompt_eval_count": 3,
        "prompt_eval_duration": 400,
        "eval_count": 1,
        "eval_duration": 500,
    }
).encode()
BODY = {"model": "fake:1b", "messages": [{"role": "user", "content": "hi"}], "stream": False}


async def fake_ollama(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app answering every request with one canned chat answer."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(ANSWER)).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": ANSWER})


def serve_fake(port: int) -> None:
    """Run the fake Ollama on a loopback port (in a child process)."""
    import uvicorn

    uvicorn.run(fake_ollama, host="127.0.0.1", port=port, log_level="error", access_log=False)


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str) -> None:
    """Poll until the server answers."""
    import httpx

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


def time_calls(url: str, calls: int, warmup: int = 30) -> list[float]:
    """Milliseconds per POST /api/chat over one keep-alive connection."""
    import httpx

    payload = json.dumps(BODY).encode()
    headers = {"content-type": "application/json"}
    samples = []
    with httpx.Client(timeout=10) as client:
        for i in range(warmup + calls):
            start = time.perf_counter()
            response = client.post(f"{url}/api/chat", content=payload, headers=headers)
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.text
            if i >= warmup:
                samples.append(elapsed)
    return samples


def time_standalone(fake: str, record_dir: Path, calls: int) -> list[float]:
    """Time a `python -m gateway --upstream ollama --record DIR` in its own process."""
    import subprocess

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gateway",
        "--upstream",
        "ollama",
        "--ollama-host",
        fake,
        "--port",
        str(port),
        "--record",
        str(record_dir),
    ]
    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        return time_calls(f"http://127.0.0.1:{port}", calls)
    finally:
        server.terminate()
        server.wait(10)


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) of samples."""
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    """Time the three paths and print p50/p95, added ms and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument(
        "--process",
        action="store_true",
        help="also time a standalone gateway in its own process (python -m gateway)",
    )
    args = parser.parse_args()
    from gateway.server import Gateway
    from gateway.upstreams.ollama import OllamaUpstream
    from traces import recorder as trace_recorder

    port = free_port()
    child = multiprocessing.get_context("spawn").Process(
        target=serve_fake, args=(port,), daemon=True
    )
    child.start()
    fake = f"http://127.0.0.1:{port}"
    wait_until_up(fake)
    with tempfile.TemporaryDirectory() as tmp, Gateway(OllamaUpstream(fake)) as gateway:
        run = trace_recorder.TraceRecorder(Path(tmp) / "bench.jsonl", "bench")
        trace_recorder.register(run)
        paths = {
            "direct": fake,
            "gateway (not recorded)": gateway.base_url,
            "gateway (recorded)": gateway.agent_url("bench", "agent"),
        }
        results = {name: time_calls(url, args.calls) for name, url in paths.items()}
        recorded = sum(1 for _ in (Path(tmp) / "bench.jsonl").open())
        run.close()
        if args.process:
            results["gateway process (recorded)"] = time_standalone(fake, Path(tmp), args.calls)
    child.terminate()
    report(results, args.calls, recorded)
    return 0


def report(results: dict[str, list[float]], calls: int, recorded: int) -> None:
    """Print the table."""
    base50 = percentile(results["direct"], 50)
    base95 = percentile(results["direct"], 95)
    print(f"gateway hop latency, {calls} calls per path (POST /api/chat, stream false, keep-alive)")
    print(f"{'path':<26}{'p50 ms':>9}{'p95 ms':>9}{'added p50':>11}{'added p95':>11}{'x p50':>8}")
    for name, samples in results.items():
        p50, p95 = percentile(samples, 50), percentile(samples, 95)
        print(
            f"{name:<26}{p50:>9.3f}{p95:>9.3f}{p50 - base50:>11.3f}{p95 - base95:>11.3f}"
            f"{p50 / base50:>8.2f}"
        )
    print(f"llm_call events recorded on the recorded path: {recorded - 30} (+30 warm-up)")


if __name__ == "__main__":
    sys.exit(main())
