"""Dependencies the fault tests start, break and stop themselves (SPEC §10).

A private ``redis-server`` on a free port (never the shared one), stopped with
SIGTERM and frozen with SIGSTOP by the PID this module started; a TCP listener
that accepts connections and never answers (a hung database or cache); a port
that refuses connections.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refused_port() -> int:
    """A port nothing listens on (bound and closed again: connections are refused)."""
    return free_port()


class PrivateRedis:
    """One ``redis-server`` this test owns: start, stop (SIGTERM), freeze, thaw."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.frozen = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn,
            ):
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.frozen:
            self.thaw()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)
        self.frozen = False


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def redis_caches(url: str) -> dict[str, Any]:
    """settings.CACHES as production builds it for REDIS_URL=url."""
    return {
        "default": {
            "BACKEND": "apikeys.contrib.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "nunu",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }


class SilentListener:
    """Accepts TCP connections and never answers: a hung server."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.socket.close()


@pytest.fixture
def silent_listener() -> Iterator[SilentListener]:
    listener = SilentListener()
    try:
        yield listener
    finally:
        listener.close()


class Hung(AssertionError):
    pass


def finishes(call: Callable[[], Any], *, within: float = 30.0) -> Any:
    """Run ``call`` and answer its result; fail if it has not finished within ``within``
    seconds (a hang, not a speed measurement: generous on purpose).

    In the main thread a SIGALRM interrupts a call blocked on a socket, so the
    call runs in the test's own thread and sees the test's database transaction."""
    if threading.current_thread() is not threading.main_thread():
        return _finishes_in_thread(call, within)

    hung = []

    def interrupt(signum: int, frame: Any) -> None:
        hung.append(True)  # the code under test may catch the exception below: remember
        raise Hung(f"the call did not finish within {within} s: it hangs")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, within)
    try:
        result = call()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if hung:
        raise Hung(f"the call did not finish within {within} s: it hangs")
    return result


def _finishes_in_thread(call: Callable[[], Any], within: float) -> Any:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    if thread.is_alive():
        raise Hung(f"the call did not finish within {within} s: it hangs")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
