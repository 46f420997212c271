"""python manage.py createapikey --project SLUG --name NAME (--permission CODE ... | --preset P)
    [--expires-in 30d | --expires-at ISO8601] [--allow-ip CIDR ...]

The key is printed alone on stdout, so ``KEY=$(python manage.py createapikey ...)``
works; everything else goes to stderr.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from apikeys import services
from apikeys.management.base import (
    BadInput,
    NotFound,
    allowed_ip,
    cli_actor,
    duration,
    iso_datetime,
    iso_utc,
)
from apikeys.management.base import (
    Command as CLICommand,
)
from apikeys.models import APIKey, Project
from apikeys.permissions import normalize, registry


def add_expiry_arguments(parser: Any, *, default_help: str) -> None:
    expiry = parser.add_mutually_exclusive_group()
    expiry.add_argument(
        "--expires-in",
        type=duration,
        metavar="DURATION",
        help=f"lifetime from now: 30d, 12h, 90m or 45s ({default_help})",
    )
    expiry.add_argument(
        "--expires-at",
        type=iso_datetime,
        metavar="ISO8601",
        help="expiry date and time, e.g. 2026-12-31T18:00:00Z (no time zone: UTC)",
    )


def expiry_from(options: dict[str, Any], *, now: datetime) -> datetime | None:
    """The chosen expiry, or None; a date in the past is refused here, quoted."""
    if options.get("expires_in") is not None:
        return now + options["expires_in"]
    expires_at = options.get("expires_at")
    if expires_at is not None and expires_at <= now:
        raise BadInput(f"--expires-at {iso_utc(expires_at)} is in the past; give a future date.")
    return expires_at


def expiring(key: APIKey) -> str:
    return f"expiring {iso_utc(key.expires_at)}" if key.expires_at else "with no expiry"


def project_from(slug: str) -> Project:
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise NotFound(f"No project with slug {slug!r} (python manage.py createproject SLUG).")
    return project


def permissions_from(options: dict[str, Any]) -> list[str]:
    if options.get("preset"):
        return list(registry.presets[options["preset"]].permissions)
    codes = [
        code.strip()
        for value in options.get("permission") or []
        for code in value.split(",")
        if code.strip()
    ]
    try:
        return normalize(codes)
    except ValueError as error:
        raise BadInput(str(error)) from None


class Command(CLICommand):
    help = (
        "Create an API key and print it alone on stdout (KEY=$(python manage.py "
        "createapikey ...)); the key is shown only this once. Messages go to stderr. "
        f"Permissions: {', '.join(registry.codes)}."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--name", required=True, help="unique within the project")
        parser.add_argument("--description", default="", metavar="TEXT")
        chosen = parser.add_mutually_exclusive_group(required=True)
        chosen.add_argument(
            "--permission",
            action="append",
            metavar="CODE",
            help="a permission code; repeat it or separate codes with commas",
        )
        chosen.add_argument("--preset", choices=list(registry.presets))
        add_expiry_arguments(parser, default_help="default: no expiry, where policy allows")
        parser.add_argument(
            "--allow-ip",
            action="append",
            type=allowed_ip,
            metavar="CIDR",
            help="an address or CIDR range the key may be used from (repeat it, at most "
            "50); default: any address",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        project = project_from(options["project"])
        permissions = permissions_from(options)
        expires_at = expiry_from(options, now=now)
        try:
            key, plaintext = services.key_create(
                project=project,
                name=options["name"],
                description=options["description"],
                permissions=permissions,
                expires_at=expires_at,
                allowed_ips=options.get("allow_ip") or [],
                actor=cli_actor(),
                now=now,
            )
        except (services.KeyInputError, services.PolicyError) as error:
            raise BadInput(str(error)) from None

        self.stdout.write(plaintext)
        self.info(
            f"Created key {key.key_id} ({key.name}) in project {project.slug} "
            f"with {', '.join(key.permissions)}, {expiring(key)}"
            + (f", from {', '.join(key.allowed_ips)} only" if key.allowed_ips else "")
            + "; it will not be shown again."
        )
