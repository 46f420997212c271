"""python manage.py notify_expiring_keys [--days 7] [--project SLUG]

E-mails the creator and the project's admins about each active key that
expires within --days. Each key is announced once per threshold and expiry
date (ExpiryNotice), so a cron that runs twice sends one e-mail, and a key
whose expiry moves (a grace period) is announced again. Mail goes through
Django's e-mail framework: the console by default, SMTP by settings.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apikeys import services
from apikeys.conf import apikeys_settings
from apikeys.management.base import BadInput, cli_actor, iso_datetime
from apikeys.management.base import Command as CLICommand
from apikeys.models import APIKey, ExpiryNotice, Membership, Project

MAX_DAYS = 365


def positive_days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of days") from None
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"--days must be between 1 and {MAX_DAYS}, not {days}")
    return days


class Command(CLICommand):
    help = (
        "E-mail the creator and the admins of keys that expire within --days (default 7), "
        "once per key and threshold."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=positive_days, default=7)
        parser.add_argument("--project", metavar="SLUG", help="only this project")
        parser.add_argument("--at", type=iso_datetime, metavar="ISO8601", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["at"] or timezone.now()
        days = options["days"]
        projects = Project.objects.all()
        if options["project"]:
            projects = projects.filter(slug=options["project"].strip())
            if not projects.exists():
                raise BadInput(f"No project with slug {options['project']!r}.")
        sent = notify_expiring(projects=projects, days=days, now=now)
        self.info(f"{sent} expiry notice{'s' if sent != 1 else ''} sent.")


def notify_expiring(*, projects: QuerySet[Project], days: int, now: datetime) -> int:
    """Send the notices that are due; return how many e-mails went out."""
    expiring = (
        APIKey.objects.filter(
            project__in=projects,
            is_active=True,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=days),
        )
        .annotate(
            announced=Exists(
                ExpiryNotice.objects.filter(
                    key=OuterRef("pk"), threshold_days=days, expires_at=OuterRef("expires_at")
                )
            )
        )
        .filter(announced=False)
        .select_related("project", "created_by")
        .order_by("expires_at")
    )
    admins: dict[int, list[str]] = {}
    for project_id, email in Membership.objects.filter(
        project__in=projects, role=Membership.Role.ADMIN, user__is_active=True
    ).values_list("project_id", "user__email"):
        if email:
            admins.setdefault(project_id, []).append(email)

    sent = 0
    for key in expiring:
        recipients = list(admins.get(key.project_id, []))
        creator = key.created_by
        if creator is not None and creator.is_active and creator.email:
            recipients.insert(0, creator.email)
        recipients = list(dict.fromkeys(recipients))
        if not recipients or key.expires_at is None:
            continue  # announced when someone with an address joins

        def deliver(key: APIKey = key, recipients: list[str] = recipients) -> None:
            send_mail(
                subject=f"[{apikeys_settings.SITE_NAME}] API key {key.name!r} "
                f"expires {key.expires_at:%Y-%m-%d}",
                message=_body(key, now),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=recipients,
            )

        # False when another run got here first; a refused mail records nothing.
        if services.expiry_notice_send(
            key=key,
            threshold_days=days,
            recipients=recipients,
            deliver=deliver,
            actor=cli_actor(),
            now=now,
        ):
            sent += 1
    return sent


def _body(key: APIKey, now: datetime) -> str:
    remaining = key.expires_at - now if key.expires_at else timedelta(0)
    hours = int(remaining.total_seconds() // 3600)
    when = f"{hours // 24} days" if hours >= 48 else f"{hours} hours"
    return (
        f"The API key {key.name!r} (id {key.key_id}) in project {key.project.name} "
        f"expires on {key.expires_at:%Y-%m-%d %H:%M} UTC, in about {when}.\n\n"
        "Rotate it before then: the successor gets the same permissions, and the old key's "
        "page confirms from real usage when every integration has switched.\n\n"
        f"Key page: /projects/{key.project.slug}/admin/api-keys/{key.key_id}/\n"
    )
