"""One-time tokens of the dashboard's forms: claimed once, in the database.

The key wizard and rotation show a new secret exactly once, so their create
POST must run exactly once however often it is sent. The claim is one INSERT
against a unique column: of two concurrent submits (two workers, two hosts)
one inserts and the other gets an IntegrityError. The database is the one
dependency those pages need anyway; a cache would add a second one that may
be down (SPEC §10).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from apikeys.models import UsedToken

# How long a used token is remembered: longer than any form stays open in a tab.
TOKEN_LIFETIME = timedelta(days=1)


def token_digest(purpose: str, token: str) -> str:
    return hashlib.sha256(f"{purpose}\x00{token}".encode()).hexdigest()


def token_claim(*, purpose: str, token: str, now: datetime | None = None) -> bool:
    """True the first time ``token`` is claimed for ``purpose``; False ever after."""
    now = now or timezone.now()
    UsedToken.objects.filter(used_at__lt=now - TOKEN_LIFETIME).delete()
    try:
        with transaction.atomic():
            UsedToken.objects.create(digest=token_digest(purpose, token), used_at=now)
    except IntegrityError:
        return False
    return True


def token_release(*, purpose: str, token: str) -> None:
    """Give a claimed token back: what it guarded did not happen (the input was refused)."""
    UsedToken.objects.filter(digest=token_digest(purpose, token)).delete()


def token_is_used(*, purpose: str, token: str) -> bool:
    return UsedToken.objects.filter(digest=token_digest(purpose, token)).exists()
