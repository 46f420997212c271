"""Production settings: `check --deploy` clean, and no start without a real secret key."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "APIKEYS_")) and k != "REDIS_URL"
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "nunu_admin.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "keys.example.com"}


def test_production_settings_pass_check_deploy():
    # check never connects to the cache: any Redis URL will do.
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_production_runs_without_redis():
    result = manage("check", "--deploy", **PRODUCTION, DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stderr  # a warning, not an error
    assert "apikeys.W001" in result.stderr
    assert "REDIS_URL" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "manage.py: error: Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 on a developer's machine)."
    ]


def test_a_django_log_line_is_printed_once_with_debug_on():
    # Django's own logging gives "django" a console handler of its own under DEBUG.
    result = manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('django.request').warning('once-marker')",
        DJANGO_DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("once-marker") == 1
