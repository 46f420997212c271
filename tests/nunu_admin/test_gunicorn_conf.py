"""gunicorn.conf.py as production runs it: the access log never holds a query string."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from apikeys import keys
from bench.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def start_gunicorn(tmp_path: Path, port: int, access_log: Path) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "APIKEYS_"))}
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "nunu_admin.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESSLOG": str(access_log),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "nunu_admin.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wait_until_up(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited at start"
        try:
            get(port, "/api/v1/runs")
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 60 s")


def test_the_access_log_has_the_path_but_never_the_query_string(tmp_path):
    key = keys.generate().plaintext
    access_log = tmp_path / "access.log"
    port = free_port()
    process = start_gunicorn(tmp_path, port, access_log)
    try:
        wait_until_up(process, port)
        # Plain HTTP to production settings: 403 HTTPS_REQUIRED, before any database.
        status = get(
            port,
            f"/api/v1/runs?api_key={key}&page=2",
            headers={"Referer": f"http://127.0.0.1/elsewhere/?api_key={key}"},
        )
        assert status == 403
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the arbiter and its worker
        process.wait(30)
    log = access_log.read_text()
    assert '"GET /api/v1/runs HTTP/1.1" 403' in log, log
    assert key not in log
    assert "api_key" not in log
    assert key.split("_")[1] not in log  # not even the key's public id
