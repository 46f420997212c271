"""schemathesis fuzzes every operation of the OpenAPI document against the real app.

Each generated case is sent with a key holding every permission, and again
with the key lacking the permission the operation needs: no answer may be a
5xx, every answer must match the document (status, headers, body schema, the
error codes listed for that status), and the refused one must be 403
MISSING_PERMISSION. The number of examples per operation is bounded
(FUZZ_EXAMPLES, default 15) so the run stays within CI's budget; the count of
requests is printed at the end.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.permissions import PERMISSION_CODES
from api.views.openapi import document

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
REQUESTS: Counter[str] = Counter()
# The API has rules JSON Schema cannot state (cursor or page, not both; a build_id must
# name a READY build of the key's project), so schema-valid input may rightly get a 400.
# Every other check runs: no 5xx, status, headers, body and error codes as documented.
EXCLUDED = [positive_data_acceptance]

# A body past DATA_UPLOAD_MAX_MEMORY_SIZE is rejected with 413 before it is parsed.
REJECTIONS = [400, 401, 403, 404, 405, 406, 409, 410, 411, 413, 415, 422, 428, 429]
# Query parameters and body fields the API does not know are ignored, as the README
# says: a client written for nunu.ai may send some this server does not implement, and
# must keep working (SPEC §4). An extra parameter is therefore not invalid input here.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
        "generation": {"allow-extra-parameters": False},
    }
)
schema = schemathesis.openapi.from_dict(document(), config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Call the WSGI app as Django's test client does: without closing the connection
    at the end of each request, which would end the test's transaction (PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def keys(project, make_key, settings) -> dict[str | None, str]:
    """{None: a key with every permission, code: a key with every permission but code}."""
    # The fuzzer's own unauthenticated probes must not lock the test client's IP out.
    settings.APIKEYS_RATE_LIMIT_ENABLED = False
    # With an expiry, so every answer carries X-Api-Key-Expires and is checked against
    # the document's header schema.
    expires_at = timezone.now() + timedelta(days=30)
    found: dict[str | None, str] = {
        None: make_key(project, PERMISSION_CODES, expires_at=expires_at)[1]
    }
    for code in PERMISSION_CODES:
        others = [other for other in PERMISSION_CODES if other != code]
        found[code] = make_key(project, others, expires_at=expires_at)[1]
    return found


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_as_documented(case, keys):
    label = f"{case.method} {case.path}"
    REQUESTS[label] += 1
    first = case.call_and_validate(headers={"X-Api-Key": keys[None]}, excluded_checks=EXCLUDED)

    needed = case.operation.definition.raw.get("x-required-permission")
    # A 401 or 405 here is a case that takes the key away or changes the method on
    # purpose (the fuzzer checks those answers too); the rest must need the permission.
    documented = case.method.lower() == case.operation.method.lower()
    keyed = case.operation.definition.raw.get("security") != []
    if keyed and documented and first.status_code not in (401, 405, 429):
        # The key passed checks 1-5 and expires: whatever the view answered names when.
        assert first.headers.get("x-api-key-expires"), (label, first.status_code)
    if needed and documented and first.status_code not in (401, 405):
        REQUESTS[label] += 1
        response = case.call(headers={"X-Api-Key": keys[needed]})
        case.validate_response(
            response, headers={"X-Api-Key": keys[needed]}, excluded_checks=EXCLUDED
        )
        assert response.status_code == 403
        assert response.json()["code"] == "MISSING_PERMISSION"


def test_the_fuzz_run_is_counted(capsys):
    """Runs after the fuzz test (file order) and prints how many requests it sent."""
    if not REQUESTS:
        pytest.skip("the fuzz test did not run")
    with capsys.disabled():
        print(
            f"\nfuzz: {sum(REQUESTS.values())} requests over {len(REQUESTS)} method+path "
            f"pairs (at most {EXAMPLES} examples per operation and phase)"
        )
    assert len(REQUESTS) >= len([1 for item in document()["paths"].values() for _ in item])
