"""Exposure (SPEC §11): a key whose secret is known outside the project.

:func:`key_expose` is the one write: it refuses the key from the next request
on, for good (reactivation refuses an exposed key), with an audit event
``key.exposed`` naming the source and where, and one e-mail to the key's
creator and the project's admins. Reports name tokens by :func:`token_sha256`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from apikeys.conf import apikeys_settings
from apikeys.models import APIKey, AuditEvent, Membership
from apikeys.services.audit import Actor, audit_record
from apikeys.services.lifecycle import locked
from apikeys.services.policy import KeyInputError

logger = logging.getLogger("apikeys.security")

MAX_EXPOSURE_URL_LENGTH = 2000


def token_sha256(token: str) -> str:
    """How a reported token is named at rest and in logs: never the token itself."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def key_expose(
    *,
    key: APIKey,
    source: str,
    actor: Actor,
    url: str = "",
    token_hash: str = "",
    notify: bool = True,
    now: datetime | None = None,
) -> tuple[APIKey, bool]:
    """Mark a key as exposed: refused from the next request on, for good (SPEC §11).

    Returns the key and whether this call exposed it. A second report changes
    nothing and sends nothing (the first one's when, how and where are kept).
    ``url`` is where the key was found; ``token_hash`` the SHA-256 of what was
    reported (the audit event keeps that, never the token). With ``notify``, the
    creator and the project's admins are e-mailed after the change is committed;
    a mail failure is logged and does not undo the exposure. Call it outside a
    transaction, so the mail goes out only for a committed exposure.
    """
    if source not in APIKey.ExposureSource.values:
        raise KeyInputError(f"Unknown exposure source {source!r}.")
    now = now or timezone.now()
    with transaction.atomic():
        key = locked(key)
        if key.is_exposed:
            return key, False
        key.exposed_at = now
        key.exposure_source = source
        key.exposure_url = (url or "")[:MAX_EXPOSURE_URL_LENGTH]
        key.is_active = False
        key.save(update_fields=["exposed_at", "exposure_source", "exposure_url", "is_active"])
        audit_record(
            project=key.project,
            action=AuditEvent.Action.KEY_EXPOSED,
            actor=actor,
            key=key,
            changes={
                "source": source,
                "url": key.exposure_url,
                **({"token_sha256": token_hash} if token_hash else {}),
            },
            now=now,
        )
    logger.warning("Key %s was exposed (%s) and is refused from now on.", key.key_id, source)
    if notify:
        notify_exposed([key])
    return key, True


def exposure_recipients(key: APIKey) -> list[str]:
    """The key's creator and the project's admins with an address, each once."""
    recipients = []
    creator = key.created_by
    if creator is not None and creator.is_active and creator.email:
        recipients.append(creator.email)
    recipients += [
        email
        for email in Membership.objects.filter(
            project_id=key.project_id, role=Membership.Role.ADMIN, user__is_active=True
        )
        .order_by("user__username")
        .values_list("user__email", flat=True)
        if email
    ]
    return list(dict.fromkeys(recipients))


def notify_exposed(exposed: Iterable[APIKey]) -> int:
    """E-mail each exposure once; return how many mails went out.

    One connection for the batch, with a timeout: a mail server that is down or
    hung costs one timeout, after which the rest are logged as not sent rather
    than each waiting in turn. Never raises.
    """
    sent = 0
    connection = None
    try:
        for key in exposed:
            recipients = exposure_recipients(key)
            if not recipients:
                continue
            if connection is None:
                connection = get_connection(timeout=apikeys_settings.MAIL_TIMEOUT)
            EmailMessage(
                subject=_exposure_subject(key),
                body=_exposure_body(key),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=recipients,
                connection=connection,
            ).send()
            sent += 1
    except Exception:
        logger.exception("Could not e-mail an exposure notice; the exposure itself stands.")
    return sent


def _exposure_subject(key: APIKey) -> str:
    return f"API key {key.name!r} in {key.project.name} was exposed and is now refused"


def _exposure_body(key: APIKey) -> str:
    source = APIKey.ExposureSource(key.exposure_source).label if key.exposure_source else ""
    where = f" at {key.exposure_url}" if key.exposure_url else ""
    return (
        f"The API key {key.name!r} (id {key.key_id}) in project {key.project.name} was "
        f"reported as exposed through {source}{where}, on "
        f"{key.exposed_at:%Y-%m-%d %H:%M} UTC.\n\n"
        "Its secret is known outside the project, so the API refuses it from now on, and it "
        "cannot be reactivated. Rotate it: the successor has the same permissions. Then update "
        "every integration that used it, delete the exposed key, and find out how it leaked.\n\n"
        f"Key page: /projects/{key.project.slug}/admin/api-keys/{key.key_id}/\n"
    )
