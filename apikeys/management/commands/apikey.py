"""python manage.py apikey list|deactivate|reactivate|delete|rotate

``list`` prints the project's keys on stdout (a table, or JSON for scripts);
``rotate`` prints the successor key alone on stdout. Every other message goes
to stderr.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from apikeys import services
from apikeys.flags import key_flags
from apikeys.management.base import (
    EXIT_CODES_HELP,
    BadInput,
    NotFound,
    OneLineParser,
    cli_actor,
    iso_utc,
    key_id,
)
from apikeys.management.base import (
    Command as CLICommand,
)
from apikeys.management.commands.createapikey import (
    add_expiry_arguments,
    expiring,
    expiry_from,
    project_from,
)
from apikeys.models import APIKey

ID_HELP = "the key's 12-character id, as `apikey list` shows it"

COLUMNS = (
    "id",
    "name",
    "permissions",
    "status",
    "flags",
    "created_at",
    "expires_at",
    "last_used_at",
    "created_by",
)


def key_row(key: APIKey, *, now: datetime, stale_threshold_days: int) -> dict[str, Any]:
    return {
        "id": key.key_id,
        "name": key.name,
        "permissions": list(key.permissions),
        "status": str(key.status(now)),
        "flags": [
            str(flag) for flag in key_flags(key, now, stale_threshold_days=stale_threshold_days)
        ],
        "created_at": iso_utc(key.created_at),
        "expires_at": iso_utc(key.expires_at),
        "last_used_at": iso_utc(key.last_used_at),
        "created_by": key.created_by.get_username() if key.created_by else None,
        # Empty: any address (JSON only, like the exposure below).
        "allowed_ips": list(key.allowed_ips),
        # When, how and where an exposed key leaked (JSON only; the table shows the status).
        "exposure": {
            "exposed_at": iso_utc(key.exposed_at),
            "source": key.exposure_source,
            "url": key.exposure_url or None,
        }
        if key.exposed_at is not None
        else None,
    }


def _cell(value: Any) -> str:
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        value = ",".join(value)
    # One key, one line: a control character in a name must not break the table.
    return "".join(char if char.isprintable() else "?" for char in str(value))


def format_table(rows: list[dict[str, Any]]) -> str:
    cells = [[column.upper() for column in COLUMNS]]
    cells += [[_cell(row[column]) for column in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def find_key(key_id_: str) -> APIKey:
    key = APIKey.objects.select_related("project").filter(key_id=key_id_).first()
    if key is None:
        raise NotFound(f"No key with id {key_id_!r} (see `apikey list --project SLUG`).")
    return key


class Command(CLICommand):
    help = (
        "List, deactivate, reactivate, delete or rotate API keys. ID is the key's "
        "12-character id, as `apikey list` shows it."
    )

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(
            dest="action",
            required=True,
            metavar="{list,deactivate,reactivate,delete,rotate}",
            parser_class=OneLineParser,
        )

        listing = actions.add_parser(
            "list",
            epilog=EXIT_CODES_HELP,
            help="the project's keys, newest first (times in ISO 8601, UTC)",
        )
        listing.add_argument("--project", required=True, metavar="SLUG")
        listing.add_argument("--format", choices=("table", "json"), default="table")

        for action, text in (
            ("deactivate", "refuse the key's requests from now on (reversible)"),
            ("reactivate", "accept the key again (not an expired or exposed key: rotate it)"),
            ("delete", "remove the key for good; the audit log keeps its record"),
        ):
            sub = actions.add_parser(action, help=text, description=text, epilog=EXIT_CODES_HELP)
            sub.add_argument("id", type=key_id, metavar="ID", help=ID_HELP)

        rotate = actions.add_parser(
            "rotate",
            epilog=EXIT_CODES_HELP,
            help="make a successor with the same permissions; print its key alone on stdout",
        )
        rotate.add_argument("id", type=key_id, metavar="ID", help=ID_HELP)
        rotate.add_argument(
            "--grace",
            choices=list(services.GRACE_PERIODS),
            help="the old key expires after this (default: active until deactivated)",
        )
        add_expiry_arguments(
            rotate, default_help="default: the policy's maximum lifetime, else 90 days"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"handle_{action}")(options)
        except CommandError as error:
            error.prog = f"apikey {action}"  # type: ignore[attr-defined]
            raise

    def handle_list(self, options: dict[str, Any]) -> None:
        project = project_from(options["project"])
        now = timezone.now()
        found = (
            APIKey.objects.filter(project=project)
            .select_related("created_by")
            .order_by("-created_at", "-id")
        )
        rows = [
            key_row(key, now=now, stale_threshold_days=project.stale_threshold_days)
            for key in found
        ]
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(format_table(rows))

    def handle_deactivate(self, options: dict[str, Any]) -> None:
        key = find_key(options["id"])
        if not key.is_active:
            state = "exposed (and disabled for good)" if key.is_exposed else "disabled"
            self.info(f"Key {key.key_id} ({key.name}) is already {state}.")
            return
        services.key_deactivate(key=key, actor=cli_actor())
        self.info(f"Deactivated key {key.key_id} ({key.name}); its requests are refused now.")

    def handle_reactivate(self, options: dict[str, Any]) -> None:
        key = find_key(options["id"])
        if key.is_exposed:
            raise BadInput(
                f"Key {key.key_id} ({key.name}) was exposed and can never be reactivated; "
                f"rotate it (python manage.py apikey rotate {key.key_id}) or delete it."
            )
        if key.is_expired():
            raise BadInput(
                f"Key {key.key_id} ({key.name}) has expired and cannot be reactivated; "
                f"rotate it instead: python manage.py apikey rotate {key.key_id}"
            )
        if key.is_active:
            self.info(f"Key {key.key_id} ({key.name}) is already active.")
            return
        try:
            services.key_reactivate(key=key, actor=cli_actor())
        except services.PolicyError as error:  # expired between the check and the lock
            raise BadInput(str(error)) from None
        self.info(f"Reactivated key {key.key_id} ({key.name}).")

    def handle_delete(self, options: dict[str, Any]) -> None:
        key = find_key(options["id"])
        services.key_delete(key=key, actor=cli_actor())
        self.info(f"Deleted key {key.key_id} ({key.name}) from project {key.project.slug}.")

    def handle_rotate(self, options: dict[str, Any]) -> None:
        key = find_key(options["id"])
        now = timezone.now()
        expires_at = expiry_from(options, now=now)
        grace = services.GRACE_PERIODS[options["grace"]] if options["grace"] else None
        try:
            successor, plaintext = services.key_rotate(
                key=key, actor=cli_actor(), grace=grace, expires_at=expires_at, now=now
            )
        except (services.KeyInputError, services.PolicyError) as error:
            raise BadInput(str(error)) from None
        old = APIKey.objects.get(pk=key.pk)

        self.stdout.write(plaintext)
        if old.is_exposed:
            old_fate = "The old key is exposed and stays refused; delete it once nothing uses it."
        elif not old.is_active:
            old_fate = "The old key is disabled."
        elif old.is_expired(now):
            old_fate = "The old key has expired."
        elif grace is not None:
            old_fate = f"The old key stops working at {iso_utc(old.expires_at)}."
        else:
            old_fate = (
                "The old key stays active until you deactivate it: "
                f"python manage.py apikey deactivate {old.key_id}"
            )
        earlier = list(old.successors.exclude(pk=successor.pk).values_list("key_id", flat=True))
        if earlier:
            old_fate += f" Note: it was rotated before, to {', '.join(earlier)}."
        self.info(
            f"Rotated key {old.key_id} ({old.name}) in project {old.project.slug}: "
            f"the successor is {successor.key_id} ({successor.name}), {expiring(successor)}; "
            f"it will not be shown again. {old_fate}"
        )
