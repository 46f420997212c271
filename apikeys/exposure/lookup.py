"""A reported token → the live key it is, bounded so a flood of reports costs little.

Threat: a report is unauthenticated text (the revocation API) or text that
GitHub found anywhere (scanning), and key ids are public. So a token only
exposes a key when its secret is right: a wrong secret for a real id must not
let anyone switch off someone else's key. The cost is bounded in the same
order as the guard's:

1. format and checksum (:func:`apikeys.keys.parse`): junk and scanners' false
   positives cost no database access and no argon2;
2. the key by id: one indexed query;
3. the verified-secret memo of the guard (apikeys.guard.authentication): a key
   in use was verified recently, so its report costs one hash and a
   constant-time compare;
4. argon2, only when the caller's ``may_verify`` allows it (a per-request
   budget for the revocation API, the slow-path rate limit for URLs), and
   within the guard's budgets of failed secrets, per key id and, for the
   revocation API and URLs, for all ids together (GitHub's reports are signed,
   so a flood cannot come that way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from apikeys import services
from apikeys.conf import key_format
from apikeys.guard import ratelimit
from apikeys.guard.authentication import authenticate
from apikeys.models import APIKey


@dataclass
class Report:
    """One reported token: its SHA-256 (what we keep), and the key it is, if live."""

    token_hash: str
    key: APIKey | None
    newly_exposed: bool = False


class VerificationBudget:
    """``may_verify`` for :func:`live_key`: at most ``limit`` argon2 runs, then no; with
    ``within_total``, none once the guard's budget for all key ids is spent."""

    def __init__(self, limit: int | None, *, within_total: bool = False) -> None:
        self.limit = limit
        self.within_total = within_total
        self.used = 0

    def __call__(self) -> bool:
        if self.limit is not None and self.used >= self.limit:
            return False
        if self.within_total and ratelimit.total_budget_spent() is not None:
            return False
        self.used += 1
        return True


def live_key(token: object, *, may_verify: Callable[[], bool]) -> APIKey | None:
    """The stored key ``token`` is (any state but deleted) when its secret is right."""
    if key_format().parse(token) is None:  # no database, no argon2 for junk
        return None
    assert isinstance(token, str)
    return authenticate(token, may_verify=may_verify)


def expose_reported(
    tokens: Iterable[tuple[str, str]],
    *,
    source: str,
    actor: services.Actor,
    may_verify: Callable[[], bool],
) -> list[Report]:
    """Expose every live key among ``tokens`` ((token, where) pairs); one Report each,
    in order. The same token twice is looked up once. Mail goes out once, for the
    keys this call exposed, after all of them are recorded."""
    reports: list[Report] = []
    seen: dict[str, Report] = {}
    exposed: list[APIKey] = []
    for token, where in tokens:
        token_hash = services.token_sha256(token)
        earlier = seen.get(token_hash)
        if earlier is not None:
            reports.append(Report(token_hash, earlier.key))
            continue
        key = live_key(token, may_verify=may_verify)
        report = Report(token_hash, key)
        if key is not None:
            key, report.newly_exposed = services.key_expose(
                key=key,
                source=source,
                url=where,
                actor=actor,
                token_hash=token_hash,
                notify=False,
            )
            report.key = key
            if report.newly_exposed:
                exposed.append(key)
        seen[token_hash] = report
        reports.append(report)
    if exposed:
        services.notify_exposed(exposed)
    return reports
