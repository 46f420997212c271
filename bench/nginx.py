"""Debian's nginx in front of a gunicorn, configured from deploy/nginx.conf.

The slow-client test (tests/deploy/test_nginx.py) and the worker-class measurement
(bench/worker_class.py) run the shipped site file, not a copy of it: only what
cannot run on a test machine is changed, each change written out below. Started in
the foreground of its own process, with its own prefix and pid file, stopped by
that PID.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "deploy" / "nginx.conf"
NGINX = "/usr/sbin/nginx"


def derived_site(listen_port: int, upstream_port: int, folder: Path) -> str:
    """deploy/nginx.conf for a test machine: no TLS (no certificate here), plain HTTP on
    ``listen_port`` of the loopback, gunicorn on ``upstream_port``, logs in ``folder``."""
    lines = []
    for line in SITE.read_text().splitlines():
        code = line.split("#", 1)[0]
        if "ssl" in code or "[::]:80" in code:
            continue  # the 443 listeners and certificates; IPv6 may be off on the machine
        lines.append(line)
    site = "\n".join(lines) + "\n"
    replacements = [
        (r"listen 80;", f"listen 127.0.0.1:{listen_port};"),
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        (r"/var/log/nginx/", f"{folder}/"),
    ]
    for pattern, replacement in replacements:
        site, count = re.subn(pattern, replacement, site)
        if count == 0:
            raise RuntimeError(f"deploy/nginx.conf has no {pattern!r}: update bench/nginx.py")
    return site


def main_config(folder: Path, site: Path) -> str:
    """The nginx.conf Debian would have, reduced to what this run needs, in ``folder``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # temp files in a root-only folder
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
    access_log {folder}/access.log;
    include {site};
}}
"""


class Nginx:
    def __init__(self, folder: Path, upstream_port: int) -> None:
        self.folder = folder
        self.port = _free_port()
        self.upstream_port = upstream_port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not Path(NGINX).exists():
            raise RuntimeError("nginx is missing: apt-get install -y nginx")
        self.folder.mkdir(parents=True, exist_ok=True)
        site = self.folder / "nunu-admin.conf"
        site.write_text(derived_site(self.port, self.upstream_port, self.folder))
        config = self.folder / "nginx.conf"
        config.write_text(main_config(self.folder, site))
        log = open(self.folder / "nginx.out", "wb")  # noqa: SIM115 (nginx holds it)
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.folder), "-c", str(config), "-e", str(self.error_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited at start:\n{self.error_log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("nginx did not listen within 10 s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGQUIT)  # graceful: its workers finish, then exit
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # its own session: master and workers
                process.wait()

    @property
    def error_path(self) -> Path:
        return self.folder / "error.log"

    def error_log(self) -> str:
        with contextlib.suppress(OSError):
            return self.error_path.read_text(errors="replace")[-3000:]
        return "(no error log)"

    @staticmethod
    def available() -> bool:
        return Path(NGINX).exists()


def production_env(folder: Path, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off) on a fresh SQLite file in ``folder``, as they run
    behind the proxy: the client and the scheme come from nginx's headers. No TLS here, so
    plain HTTP is allowed on /api/ (production answers it 403 HTTPS_REQUIRED)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "APIKEYS_"))}
    clean.pop("REDIS_URL", None)
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "nunu_admin.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "APIKEYS_TRUSTED_PROXY_COUNT": "1",
        "DJANGO_TRUST_X_FORWARDED_PROTO": "1",
        "APIKEYS_REQUIRE_HTTPS": "0",
        "APIKEYS_RATE_LIMIT_ENABLED": "0",
        **extra,
    }


def seed(env: dict[str, str]) -> str:
    """Migrate, make a project and one key that reads runs; answer the key's plaintext
    (it stays in this process's memory)."""

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr}")
        return result.stdout

    manage("migrate", "--noinput")
    manage("createproject", "slow-clients")
    project = ("--project", "slow-clients", "--name", "ci")
    return manage("createapikey", *project, "--permission", "project:read-runs").strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
