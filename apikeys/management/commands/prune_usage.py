"""python manage.py prune_usage [--dry-run]

Deletes per-address usage (which client IPs used each key, per day) older than
APIKEYS_ADDRESS_USAGE_DAYS (default 90) days: apikeys.services.retention. Run it
from cron, daily; running it again the same day removes nothing more.
"""

from __future__ import annotations

from typing import Any

from apikeys import services
from apikeys.conf import apikeys_settings
from apikeys.management.base import BadInput
from apikeys.management.base import Command as CLICommand


class Command(CLICommand):
    help = "Delete per-address key usage older than APIKEYS_ADDRESS_USAGE_DAYS (default 90) days."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = apikeys_settings.ADDRESS_USAGE_DAYS
        try:
            removed = services.address_usage_prune(days=days, dry_run=options["dry_run"])
        except ValueError as error:
            raise BadInput(str(error)) from None
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.info(
            f"{verb} {removed} per-address usage row{'s' if removed != 1 else ''} "
            f"older than {days} days."
        )
