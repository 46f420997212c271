"""deploy/nginx.conf in front of gunicorn (SPEC §10 "Slow clients"): stalled and slow
clients never delay a valid request. Marker ``slow``: `make test-slow` runs it.

Debian's nginx (apt-get install nginx) runs the shipped site file with only
what a test machine cannot have changed (bench/nginx.py: no TLS, a free port, its
own prefix and pid file); gunicorn runs gunicorn.conf.py with production settings.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.nginx import Nginx, production_env, seed
from bench.servers import Gunicorn

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 64
# A bounded functional check, not a speed measurement: the same request takes a few
# milliseconds when nothing else is connected; held behind slow clients it waited 31 s.
WITHIN = 1.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[tuple[Gunicorn, Nginx, str]]:
    if not Nginx.available():
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    folder = tmp_path_factory.mktemp("nginx-stack")
    env = production_env(folder)
    key = seed(env)
    server = Gunicorn("slow-clients", env, folder, threads=None)  # gunicorn.conf.py's class
    proxy = Nginx(folder / "nginx", server.port)
    try:
        server.start()
        server.wait_ready("/api/openapi.json")
        proxy.start()
        yield server, proxy, key
    finally:
        proxy.stop()
        server.stop()


def timed_get(port: int, path: str, key: str | None = None, timeout: float = 10.0):
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"X-Api-Key": key} if key else {})
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders()), time.monotonic() - started
    finally:
        connection.close()


class SlowClients:
    """Connections that send a request's headers only in part (stalled), and ones that
    send whole headers and then a body a byte at a time (slow bodies)."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.key = key
        self.stalled: list[socket.socket] = []
        self.slow_bodies: list[socket.socket] = []
        self._stop = threading.Event()
        self._trickle = threading.Thread(target=self._send_bodies, daemon=True)

    def open(self, count: int) -> None:
        for _ in range(count):
            stalled = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            stalled.sendall(b"GET /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: nun")
            self.stalled.append(stalled)
            slow = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            slow.sendall(
                b"POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"X-Api-Key: " + self.key.encode() + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
            self.slow_bodies.append(slow)
        self._trickle.start()

    def _send_bodies(self) -> None:
        while not self._stop.wait(0.25):
            for slow in self.slow_bodies:
                with contextlib.suppress(OSError):
                    slow.sendall(b" ")

    def all_still_open(self) -> bool:
        """No connection was answered or closed: each is still waiting on its client."""
        readable, _, _ = select.select(self.stalled + self.slow_bodies, [], [], 0)
        return not readable  # readable: an answer or a close arrived

    def close(self) -> None:
        self._stop.set()
        if self._trickle.is_alive():
            self._trickle.join(5)
        for connection in self.stalled + self.slow_bodies:
            connection.close()


def test_the_proxy_passes_the_api_on_plain_http_and_redirects_the_dashboard(stack):
    _, proxy, key = stack
    status, _, _ = timed_get(proxy.port, "/api/v1/runs", key)
    assert status == 200
    status, headers, _ = timed_get(proxy.port, "/accounts/login/?next=/")
    assert status == 301
    assert headers["Location"] == "https://127.0.0.1/accounts/login/?next=/"


def test_stalled_headers_and_slow_bodies_do_not_delay_a_valid_request(stack):
    _, proxy, key = stack
    slow = SlowClients(proxy.port, key)
    try:
        slow.open(SLOW_CLIENTS)
        time.sleep(0.5)  # every slow connection is in: nginx holds all 128
        for _ in range(10):
            status, _, elapsed = timed_get(proxy.port, "/api/v1/runs", key)
            assert status == 200
            assert elapsed < WITHIN, f"a valid request took {elapsed:.2f} s behind slow clients"
        assert slow.all_still_open()
    finally:
        slow.close()


def test_without_the_proxy_the_same_slow_clients_hold_gunicorn(stack):
    """The control: the check above can fail. Straight to gunicorn, the slow clients
    take its workers and the valid request is not answered within the bound."""
    server, _, key = stack
    slow = SlowClients(server.port, key)
    try:
        slow.open(SLOW_CLIENTS)
        time.sleep(0.5)
        with pytest.raises(TimeoutError):
            timed_get(server.port, "/api/v1/runs", key, timeout=WITHIN)
    finally:
        slow.close()
    # Once they are gone, gunicorn answers again.
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(OSError):
            status, _, _ = timed_get(server.port, "/api/v1/runs", key, timeout=5)
            if status == 200:
                break
        assert time.monotonic() < deadline, "gunicorn did not recover after the slow clients"


def test_nginx_logs_the_path_without_the_query_string(stack):
    _, proxy, _ = stack
    timed_get(proxy.port, "/api/v1/runs?page=2&api_key=not-a-key-but-secret")
    log = (Path(proxy.folder) / "nunu-admin.access.log").read_text()
    assert '"GET /api/v1/runs HTTP/1.1"' in log
    assert "not-a-key-but-secret" not in log
