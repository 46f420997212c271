"""The arrows point one way: the core and the CLI never import the dashboard."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE_AND_CLI = [
    "apikeys.keys",
    "apikeys.permissions",
    "apikeys.models",
    "apikeys.flags",
    "apikeys.services",
    "apikeys.selectors",
    "apikeys.checks",
    "apikeys.admin",
    "apikeys.middleware",
    "apikeys.decorators",
    "apikeys.reports.review",
    "apikeys.reports.transition",
    "apikeys.reports.exports",
    *(
        f"apikeys.management.commands.{path.stem}"
        for path in sorted((ROOT / "apikeys/management/commands").glob("*.py"))
        if path.stem != "__init__"
    ),
]


def test_the_core_and_the_cli_load_no_dashboard_module():
    probe = (
        "import django, importlib, sys\n"
        "django.setup()\n"
        # The app's ready() may connect the dashboard's signal receivers; what counts
        # is what the core and the CLI modules pull in on top of that.
        "before = set(sys.modules)\n"
        f"for name in {CORE_AND_CLI!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('apikeys.dashboard')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "nunu_admin.settings_test", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_only_the_front_ends_import_rest_framework_or_ninja():
    """DRF and django-ninja are optional: no module of apikeys but its front end for
    each framework imports it (SPEC §12)."""
    probe = (
        "import django, importlib, pkgutil, sys\n"
        "django.setup()\n"
        "import apikeys\n"
        "skip = {'apikeys.contrib.drf', 'apikeys.contrib.ninja'}\n"
        "for info in pkgutil.walk_packages(apikeys.__path__, 'apikeys.'):\n"
        "    if info.name not in skip and '.migrations.' not in info.name:\n"
        "        importlib.import_module(info.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'rest_framework', 'ninja'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "nunu_admin.settings_test", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
