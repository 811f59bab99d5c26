"""Test-wide guards: no connection and no name lookup may leave loopback.

The guard patches the socket layer at import time, so it also covers threads and libraries
that swallow connection errors (telemetry): every attempt is recorded, and the autouse
fixture fails the test that made it, even if the code under test caught the refusal.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_violations: list[str] = []


def is_loopback(host: Any) -> bool:
    """Whether a host (name or address) is on this machine's loopback."""
    if host is None:
        return True
    host = str(host).strip("[]").lower()
    if host in _LOOPBACK_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: Any, what: str) -> None:
    if isinstance(address, tuple) and address and not is_loopback(address[0]):
        _violations.append(f"{what} to {address!r}")
        raise ConnectionRefusedError(f"test guard: {what} to non-loopback {address!r}")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address, "connect")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address, "connect")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not is_loopback(host.decode() if isinstance(host, bytes) else host):
        _violations.append(f"name lookup of {host!r}")
        raise socket.gaierror(f"test guard: name lookup of non-loopback host {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(autouse=True)
def no_network_beyond_loopback() -> Iterator[None]:
    """Fail the test if it tried to reach beyond loopback, even if the attempt was caught."""
    start = len(_violations)
    yield
    tried = _violations[start:]
    assert not tried, f"test tried to leave loopback: {tried}"
