"""The Makefile's first run: `make run` installs the runtime only and prints the real address."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str, venv: Path) -> str:
    """What `make -n` would run, in a virtualenv that does not exist yet."""
    return subprocess.run(
        ["make", "-n", "-C", str(ROOT), f"VENV={venv}", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout


def test_make_run_installs_only_the_runtime_requirements(tmp_path):
    commands = dry_run("run", venv=tmp_path / "venv")
    assert "-r requirements.txt" in commands
    assert "requirements-dev.txt" not in commands
    assert ".installed-run" in commands


def test_make_test_still_installs_the_test_tools(tmp_path):
    commands = dry_run("test", venv=tmp_path / "venv")
    assert "-r requirements-dev.txt" in commands


def test_make_test_also_runs_the_example_host_with_its_own_settings(tmp_path):
    commands = dry_run("test", venv=tmp_path / "venv")
    assert "pytest -c tests/example_host/pytest.ini tests/example_host" in commands


@pytest.mark.parametrize(
    ("args", "url"),
    [
        ((), "http://127.0.0.1:8000"),
        (("PORT=8171",), "http://127.0.0.1:8171"),
        (("HOST=0.0.0.0", "PORT=9000"), "http://127.0.0.1:9000"),
    ],
)
def test_make_run_prints_the_address_it_serves(tmp_path, args, url):
    commands = dry_run("run", *args, venv=tmp_path / "venv")
    assert f"seed_demo --url {url}" in commands
    assert f"Open {url}/" in commands
    port = url.rsplit(":", 1)[1]
    assert (
        f"runserver {dict(a.split('=') for a in args).get('HOST', '127.0.0.1')}:{port}" in commands
    )
