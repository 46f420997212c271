"""upload_build, the reference client, against a live server: the protocol end to end.

The last test is the memory measurement: a 200 MB multipart upload through a
gunicorn worker in its own process, whose peak RSS (VmHWM) must stay under
150 MB. It is marked slow: `make test-slow` runs it, once per CI run (10-20 seconds).
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from api.management.commands import upload_build
from api.models import Build
from api.permissions import MANAGE_BUILD_STORAGE
from tests.upload_helpers import payload

PART = 1024
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def server(live_server, settings, tmp_path, transactional_db):
    settings.BUILDS_PART_SIZE = PART
    settings.BUILDS_MULTIPART_THRESHOLD = 4 * PART
    settings.STORAGES = {
        **settings.STORAGES,
        "builds": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media", "allow_overwrite": True},
        },
    }
    return live_server.url


@pytest.fixture
def key_env(monkeypatch, project, make_key) -> str:
    _, plaintext = make_key(project, [MANAGE_BUILD_STORAGE])
    monkeypatch.setenv("NUNU_API_KEY", plaintext)
    return "NUNU_API_KEY"


def _upload(server: str, path: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "upload_build",
        str(path),
        "--url",
        server,
        "--name",
        "Nightly",
        "--platform",
        "windows",
        *extra,
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue().strip()


def test_a_large_file_goes_up_in_parallel_parts_and_the_build_id_is_printed(
    server, key_env, tmp_path
):
    data = payload(7 * PART + 5)
    path = tmp_path / "game.zip"
    path.write_bytes(data)

    build_id = _upload(server, path, "--parallel", "3", "--tag", "nightly")

    build = Build.objects.get(id=build_id)
    assert build.status == Build.Status.READY and build.multipart
    assert build.total_parts == 8 and build.tags == ["nightly"]
    assert build.sha256 == hashlib.sha256(data).hexdigest()


def test_a_small_file_goes_up_in_one_put(server, key_env, tmp_path):
    path = tmp_path / "small.apk"
    path.write_bytes(payload(100))
    build = Build.objects.get(id=_upload(server, path))
    assert not build.multipart and build.status == Build.Status.READY


def test_a_failed_part_is_retried(server, key_env, tmp_path, monkeypatch):
    real_put = upload_build.put_part
    failures = {"left": 2}

    def flaky(url, *args):
        if "/3?" in url and failures["left"]:
            failures["left"] -= 1
            raise urllib.error.URLError("connection reset")
        return real_put(url, *args)

    monkeypatch.setattr(upload_build, "put_part", flaky)
    monkeypatch.setattr(upload_build.time, "sleep", lambda seconds: None)
    data = payload(5 * PART, seed=9)
    path = tmp_path / "game.zip"
    path.write_bytes(data)

    build = Build.objects.get(id=_upload(server, path))

    assert failures["left"] == 0
    assert build.sha256 == hashlib.sha256(data).hexdigest()


def test_a_refused_key_fails_with_one_line(server, monkeypatch, tmp_path, transactional_db):
    monkeypatch.setenv("NUNU_API_KEY", "nunu_not_a_key")
    path = tmp_path / "game.zip"
    path.write_bytes(b"x")
    with pytest.raises(CommandError, match="INVALID_API_KEY"):
        _upload(server, path)


def test_a_missing_key_variable_is_an_error(monkeypatch, tmp_path):
    monkeypatch.delenv("NUNU_API_KEY", raising=False)
    with pytest.raises(CommandError, match="NUNU_API_KEY"):
        _upload("http://127.0.0.1:9", tmp_path / "missing.zip")


# --- the memory measurement -----------------------------------------------------------

MB = 1024 * 1024
BIG = 200 * MB
RSS_LIMIT_KB = 150 * 1024
CLI_ARGS = ("--name", "big", "--platform", "linux", "--parallel", "4")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.slow  # once per CI run (`make test-slow`); it uses its own SQLite database
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_200_mb_upload_keeps_the_server_under_150_mb_of_rss(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nunu_admin.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "BUILDS_PART_SIZE": str(16 * MB),
        "BUILDS_MULTIPART_THRESHOLD": str(32 * MB),
        "REDIS_URL": "",
    }
    python = sys.executable
    manage = str(ROOT / "manage.py")
    subprocess.run([python, manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    script = (
        "from apikeys import services\n"
        "from apikeys.models import Project\n"
        "p = Project.objects.create(slug='mem', name='Mem')\n"
        "_, k = services.key_create(project=p, name='mem', "
        "permissions=['project:manage-build-storage'], actor=services.Actor.cli('test'))\n"
        "print(k)\n"
    )
    key = (
        subprocess.run(
            [python, manage, "shell", "-c", script],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    path = tmp_path / "big.bin"
    with path.open("wb") as out:
        block = os.urandom(MB)
        for _ in range(BIG // MB):
            out.write(block)

    port = _free_port()
    gunicorn = [python, "-m", "gunicorn", "nunu_admin.wsgi", "-b", f"127.0.0.1:{port}"]
    gunicorn += ["-w", "1", "--threads", "4", "--timeout", "120", "--log-level", "warning"]
    master = subprocess.Popen(gunicorn, env=env, cwd=ROOT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/api/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        (worker,) = _children(master.pid)
        before = _vm_hwm_kb(worker)
        started = time.monotonic()
        upload = subprocess.run(
            [python, manage, "upload_build", str(path), "--url", url, *CLI_ARGS],
            env={**env, "NUNU_API_KEY": key},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        elapsed = time.monotonic() - started
        assert upload.returncode == 0, upload.stderr
        peak = _vm_hwm_kb(worker)
    finally:
        master.terminate()
        master.wait(timeout=30)
    print(
        f"\n200 MB upload: server worker peak RSS {peak / 1024:.1f} MB "
        f"(before the upload {before / 1024:.1f} MB), {elapsed:.1f} s"
    )
    assert peak < RSS_LIMIT_KB
