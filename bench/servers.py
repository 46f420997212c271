"""gunicorn as production runs it, started and always stopped by the benchmark.

Each server runs in a process group of its own so that stopping it (or a
Ctrl-C of the benchmark) also ends its workers, and only them.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    """One GET: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


class Gunicorn:
    def __init__(
        self,
        name: str,
        env: dict[str, str],
        folder: Path,
        workers: int = 2,
        threads: int | None = 1,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = folder / f"gunicorn-{name}.log"
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_ACCESSLOG": "",
            "GUNICORN_MAX_REQUESTS": "0",
        }
        # threads=1: sync workers, as every recorded benchmark run used, so the ratios
        # compare the guard with its alternatives on one worker class. Production runs
        # gthread behind nginx (gunicorn.conf.py); threads=None keeps its default.
        if threads is None:
            self.env.pop("GUNICORN_THREADS", None)
        else:
            self.env["GUNICORN_THREADS"] = str(threads)
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None

    def start(self) -> None:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "nunu_admin.wsgi", "-c", "gunicorn.conf.py"],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"gunicorn ({self.name}) exited at start:\n{self.log_tail()}")
            try:
                status, _, _ = get(self.port, path, timeout=5)
            except OSError:
                time.sleep(0.2)
                continue
            if status == 200:
                return
            raise RuntimeError(f"gunicorn ({self.name}) answered {status} on {path}")
        raise RuntimeError(f"gunicorn ({self.name}) was not ready in {timeout:.0f} s")

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful (SIGTERM: workers finish and flush their usage counts), then forced."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
        if process is not None:
            # A worker that outlived its arbiter keeps the group alive: end it too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
