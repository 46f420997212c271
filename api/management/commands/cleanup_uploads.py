"""Expire uploads that missed their deadline and remove what they left in storage.

    python manage.py cleanup_uploads [--dry-run]

Safe to run from cron while uploads go on: it only touches uploads whose
deadline has passed (their URLs are refused by then), each build is claimed
with a conditional UPDATE so two runs never process it twice, and a storage
delete of something already gone is not an error. Running it again is a no-op.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from api.models import Build
from api.storage import backend

# A completion that started this long ago and never finished crashed: clean it up too.
STUCK_COMPLETION = timedelta(hours=1)


def cleanup_uploads(*, now=None, dry_run: bool = False) -> tuple[int, int]:
    """(uploads expired now, builds whose leftovers were removed)."""
    now = now or timezone.now()
    unfinished = [Build.Status.UPLOADING, Build.Status.CANCELED, Build.Status.EXPIRED]
    due = (
        Build.objects.filter(
            status__in=unfinished, purged_at__isnull=True, upload_expires_at__lte=now
        )
        .filter(
            Q(completion_started_at__isnull=True)
            | Q(completion_started_at__lte=now - STUCK_COMPLETION)
        )
        .order_by("upload_expires_at")
    )
    expired = removed = 0
    storage = backend()
    for build in due.iterator(chunk_size=200):
        if dry_run:
            removed += 1
            expired += build.status == Build.Status.UPLOADING
            continue
        if build.status == Build.Status.UPLOADING:
            expired += Build.objects.filter(pk=build.pk, status=Build.Status.UPLOADING).update(
                status=Build.Status.EXPIRED
            )
            build.refresh_from_db()
            if build.status == Build.Status.READY:
                continue  # completed at the last moment: nothing to clean
        claimed = Build.objects.filter(pk=build.pk, purged_at__isnull=True).update(purged_at=now)
        if claimed:
            storage.abort(build)
            removed += 1
    return expired, removed


class Command(BaseCommand):
    help = "Expire uploads past their deadline and remove their parts from build storage."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be removed; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        expired, removed = cleanup_uploads(dry_run=options["dry_run"])
        verb = "Would remove" if options["dry_run"] else "Removed"
        self.stderr.write(
            f"{verb} the leftovers of {removed} unfinished upload(s); {expired} newly expired."
        )
