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
