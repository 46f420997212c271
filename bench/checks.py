"""The checks around the load: before it, each case answers what it is about (or its
numbers mean nothing); after it, the guard recorded every request of the valid key."""

from __future__ import annotations

import contextlib
import json

from bench import seed, servers
from bench.cases import Case


def preflight(case: Case, port: int) -> None:
    """One request: the case must answer what it is about, or its numbers mean nothing."""
    headers = {case.header[0]: case.header[1]} if case.header else {}
    status, _, body = servers.get(port, case.path, headers=headers)
    case.sent += 1
    code = ""
    with contextlib.suppress(ValueError, AttributeError):
        code = json.loads(body).get("code", "")
    if status != case.expect_status or (case.expect_code and code != case.expect_code):
        got = f"{status} {code}".strip()
        want = f"{case.expect_status} {case.expect_code}".strip()
        case.problem = f"answered {got}, expected {want}"


def usage_check(seeded: seed.Seeded, cases: list[Case], connections: int) -> list[str]:
    """Usage is written at most once a minute per key and worker; nothing may be lost."""
    from django.db.models import Sum

    from apikeys.models import APIKey, APIKeyDailyUsage

    if not cases:
        return []
    recorded = (
        APIKeyDailyUsage.objects.filter(key__key_id=seeded.valid_key_id).aggregate(
            total=Sum("request_count")
        )["total"]
        or 0
    )
    last_used = APIKey.objects.values_list("last_used_at", flat=True).get(
        key_id=seeded.valid_key_id
    )
    sent = sum(case.sent for case in cases)
    # wrk does not count the requests still in flight when a run ends (up to -c of them).
    runs = sum(len(case.results) * 2 for case in cases)
    slack = runs * connections
    verdict = "matches" if 0 <= recorded - sent <= slack else "DOES NOT match"
    names = "+".join(case.name for case in cases)
    when = f"{last_used:%H:%M:%S}" if last_used else "never set"
    return [
        f"usage of the valid key ({names}): {recorded} requests recorded in APIKeyDailyUsage, "
        f"{sent} completed by the load generator: {verdict} (up to {slack} more may be "
        f"recorded: requests in flight when a load run ends); last_used_at {when}"
    ]
