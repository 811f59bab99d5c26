"""`Gateway`: the app served by uvicorn in a daemon thread, on a free loopback port."""

from __future__ import annotations

import errno
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import uvicorn

from gateway.app import create_app
from gateway.recording import Recorders
from gateway.upstreams.base import Upstream
from scenarios.errors import EXIT_BAD_INPUT, EXIT_RUN_FAILED, LabError

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
PORT_ERRNOS = (errno.EADDRINUSE, errno.EACCES)  # the port is taken, or privileged


class GatewayError(LabError):
    """The gateway could not start (server crashed or never came up)."""

    exit_code = EXIT_RUN_FAILED


class AddressError(GatewayError):
    """The address asked for (`--host`, `--port`) cannot be listened on: the user must change it."""

    exit_code = EXIT_BAD_INPUT


class Gateway:
    """A local Ollama-API server in front of one upstream, recording model calls."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        record_dir: Path | None = None,
    ) -> None:
        self.upstream = upstream
        self.host = host
        self.port = port
        self.recorders = Recorders(record_dir)
        self.app = create_app(upstream, self.recorders)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>` once started."""
        if self._base_url is None:
            raise GatewayError("the gateway is not started: call start() first")
        return self._base_url

    def agent_url(self, run_id: str, agent: str) -> str:
        """The base URL a framework client uses so its calls are attributed to run and agent."""
        return f"{self.base_url}/r/{quote(run_id, safe='')}/a/{quote(agent, safe='')}"

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            fix = "choose another --port" if exc.errno in PORT_ERRNOS else "check --host"
            raise AddressError(
                f"cannot listen on {self.host}:{self.port} ({exc.strerror}): {fix}"
            ) from None
        sock.listen(128)
        return sock

    def start(self) -> str:
        """Serve in a daemon thread; return the base URL once the server accepts requests."""
        sock = self._bind()
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",  # the app's shutdown closes the upstream's connections on this loop
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"gateway-{port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._abandon(sock)
                raise GatewayError(f"the gateway did not start on {self.host}:{port}")
            time.sleep(0.01)
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._base_url = f"http://{host}:{port}"
        return self._base_url

    def _abandon(self, sock: socket.socket) -> None:
        """Undo a failed start: stop the server thread, close the socket, forget both."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        sock.close()
        self._server = self._thread = None

    def serve_forever(self) -> None:
        """Block until the server stops (Ctrl-C in the foreground)."""
        # Sleep, not join: a Ctrl-C that interrupts Thread.join marks the still running thread
        # stopped (CPython 3.11, bpo-45274), and stop() would then not wait for the shutdown.
        while self._thread is not None and self._thread.is_alive():
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop serving and close the gateway's own trace files."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        self._server = self._thread = None
        self.recorders.close()

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
