"""python manage.py seed_demo: demo data for a local machine (`make run` runs it every time).

Idempotent: it only adds what is missing (api.demo.seeder), so running it twice
adds nothing and fails on nothing. What the demo holds is in api.demo.

The demo passwords are fixed strings on purpose: this is demo data for
127.0.0.1, and they are set only when this command creates the users. No demo
key's plaintext is printed, except the one "Quick start key", once, when it
is first created, so the README's curl example can be tried at once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction
from django.utils import timezone

from api.demo.seeder import ADMIN, AUDITOR, DEMO_SLUG, OTHER_SLUG, Seeder
from apikeys.management.base import BadInput
from apikeys.management.base import Command as CLICommand

# Where the dev server listens; `make run` passes the HOST and PORT it chose.
DEFAULT_URL = "http://127.0.0.1:8000"


class Command(CLICommand):
    help = (
        "Create demo data: a project with keys in every state, runs, bugs and builds, "
        "an admin and an auditor. Safe to run again: it only adds what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default=DEFAULT_URL,
            help=f"The server's address, for the URLs printed (default {DEFAULT_URL}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = server_url(options["url"])
        now = timezone.now()
        with transaction.atomic():
            seeded = Seeder(now)
            seeded.run()
        self.report(seeded, base)

    def report(self, seeded: Seeder, base: str) -> None:
        out = self.stdout.write
        login_url, api_url = f"{base}/accounts/login/", f"{base}/api/v1/runs"
        if seeded.created:
            out(f"Demo data created: {', '.join(seeded.created)}.")
        else:
            out("Demo data already present; nothing added.")
        out("")
        out(f"Sign in at {login_url}")
        out(
            f"  {ADMIN[0] + ' / ' + ADMIN[1]:<30}  superuser; admin of {DEMO_SLUG!r} "
            f"and {OTHER_SLUG!r}"
        )
        out(
            f"  {AUDITOR[0] + ' / ' + AUDITOR[1]:<30}  read-only auditor of {DEMO_SLUG!r}; "
            f"not a member of {OTHER_SLUG!r} (its pages answer 404)"
        )
        out("  (passwords are set only when seed_demo creates the users)")
        out("")
        if seeded.quick_start_plaintext:
            out("Try the API with this demo key (it will not be shown again):")
            out(f"  export NUNU_API_KEY={seeded.quick_start_plaintext}")
        else:
            out("Try the API with a new key (printed once, on stdout):")
            out(
                "  export NUNU_API_KEY=$(DJANGO_DEBUG=1 .venv/bin/python manage.py createapikey "
                f"--project {DEMO_SLUG} "
                '--name "curl $(date +%s)" --preset monitoring --expires-in 7d)'
            )
        out(f'  curl -H "X-Api-Key: $NUNU_API_KEY" {api_url}')


def server_url(value: str) -> str:
    """``http://host:port`` without a trailing slash; a wildcard host reads as 127.0.0.1."""
    url = value.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    scheme, _, rest = url.partition("://")
    host, sep, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if host in ("0.0.0.0", "", "[::]", "::"):  # noqa: S104  # a listening address, not a bind
        host = "127.0.0.1"
    if scheme not in ("http", "https") or not (port.isdigit() or not sep):
        raise BadInput(f"--url must look like http://127.0.0.1:8000, not {value!r}.")
    return f"{scheme}://{host}{sep}{port}"
