"""apikeys.reports.review: each finding of the security review, built from fixed times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys import services
from apikeys.models import APIKey, APIKeyPermissionUsage, APIKeyRefusal, Membership
from apikeys.reports import review
from apikeys.reports.review import Severity

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ACTOR = services.Actor.cli("test")


def days(n: float) -> timedelta:
    return timedelta(days=n)


def used(key: APIKey, at: datetime, ip: str = "203.0.113.7", permissions=()) -> None:
    APIKey.objects.filter(pk=key.pk).update(last_used_at=at, last_used_ip=ip)
    for code in permissions:
        APIKeyPermissionUsage.objects.update_or_create(
            key=key, permission=code, defaults={"last_used_at": at}
        )
    key.refresh_from_db()


def codes_for(project, key, now):
    return {f.code for f in review.findings(project, now=now) if f.key_id == key.key_id}


def only(project, key, code, now) -> review.Finding:
    matches = [
        f for f in review.findings(project, now=now) if f.key_id == key.key_id and f.code == code
    ]
    assert len(matches) == 1, review.findings(project, now=now)
    return matches[0]


@pytest.fixture
def key(project, make_key):
    key, _ = make_key(project, [READ_RUNS], name="ci", now=T0)
    return key


def test_fresh_key_used_today_has_no_findings(project, key):
    used(key, T0 + days(1), permissions=[READ_RUNS])
    assert review.findings(project, now=T0 + days(2)) == []


def test_key_unused_for_the_stale_threshold_is_a_medium_finding(project, key):
    used(key, T0 + days(1), permissions=[READ_RUNS])
    now = T0 + days(1 + 45)
    finding = only(project, key, "stale", now)
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence["last_used_at"] == (T0 + days(1)).isoformat()
    assert finding.evidence["days"] == 45
    assert "Deactivate" in finding.recommendation
    assert "stale" not in codes_for(project, key, now - timedelta(seconds=1))


def test_stale_threshold_follows_the_project_policy(project, key):
    project.stale_threshold_days = 10
    project.save()
    used(key, T0, permissions=[READ_RUNS])
    assert "stale" in codes_for(project, key, T0 + days(10))


def test_never_used_key_is_low_after_a_week_and_medium_once_stale(project, key):
    assert "never-used" not in codes_for(project, key, T0 + days(6))
    assert only(project, key, "never-used", T0 + days(7)).severity == Severity.LOW
    finding = only(project, key, "never-used", T0 + days(45))
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence == {"created_at": T0.isoformat(), "days": 45}
    assert "stale" not in codes_for(project, key, T0 + days(45))  # one finding, not two


def test_key_without_expiry_where_policy_requires_one_is_high(project, key):
    used(key, T0, permissions=[READ_RUNS])
    assert "no-expiry" not in codes_for(project, key, T0 + days(1))
    project.expiry_required = True
    project.save()
    finding = only(project, key, "no-expiry", T0 + days(1))
    assert finding.severity == Severity.HIGH
    assert "Rotate" in finding.recommendation


def test_max_lifetime_policy_also_wants_an_expiry(project, key):
    project.max_key_lifetime_days = 90
    project.save()
    assert only(project, key, "no-expiry", T0 + days(1)).severity == Severity.HIGH


def test_expiry_beyond_a_tightened_policy_is_medium(project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=T0 + days(365), now=T0)
    used(key, T0, permissions=[READ_RUNS])
    project.max_key_lifetime_days = 30
    project.save()
    finding = only(project, key, "expiry-beyond-policy", T0 + days(1))
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence["expires_at"] == (T0 + days(365)).isoformat()


@pytest.mark.parametrize(
    ("code", "make_it_stop"),
    [
        ("DISABLED_API_KEY", "deactivate"),
        ("EXPIRED_API_KEY", "expire"),
        ("EXPIRED_API_KEY", "rotate_with_grace"),
    ],
)
def test_revoked_key_still_being_tried_is_high_with_last_time_and_ip(
    project, make_key, code, make_it_stop
):
    key, _ = make_key(project, [READ_RUNS], expires_at=T0 + days(20), now=T0)
    stop = T0 + days(10)
    if make_it_stop == "deactivate":
        services.key_deactivate(key=key, actor=ACTOR, now=stop)
    elif make_it_stop == "expire":
        stop = T0 + days(20)
    else:
        services.key_rotate(key=key, actor=ACTOR, grace=timedelta(hours=1), now=stop)
        stop += timedelta(hours=1)
    APIKeyRefusal.objects.create(
        key=key,
        code=code,
        count=17,
        first_at=stop + days(1),
        last_at=stop + days(2),
        last_ip="198.51.100.4",
    )
    finding = only(project, key, "still-tried", stop + days(3))
    assert finding.severity == Severity.HIGH
    assert "some integration was not updated" in finding.title
    assert finding.evidence["refused_requests"] == 17
    assert finding.evidence["last_tried_at"] == (stop + days(2)).isoformat()
    assert finding.evidence["last_ip"] == "198.51.100.4"
    if make_it_stop == "rotate_with_grace":
        assert finding.title.startswith("Rotated out")


def test_missing_permission_refusals_are_not_a_revoked_key_finding(project, key):
    services.key_deactivate(key=key, actor=ACTOR, now=T0 + days(1))
    APIKeyRefusal.objects.create(
        key=key, code="MISSING_PERMISSION", count=3, first_at=T0, last_at=T0 + days(2)
    )
    assert "still-tried" not in codes_for(project, key, T0 + days(3))


def test_refusals_from_before_the_deactivation_are_not_counted(project, key):
    APIKeyRefusal.objects.create(
        key=key, code="DISABLED_API_KEY", count=1, first_at=T0, last_at=T0 + days(1)
    )
    services.key_deactivate(key=key, actor=ACTOR, now=T0 + days(5))
    assert "still-tried" not in codes_for(project, key, T0 + days(6))


def test_key_in_use_expiring_within_seven_days_is_medium(project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=T0 + days(30), now=T0)
    used(key, T0 + days(22), permissions=[READ_RUNS])
    assert "expiring-in-use" not in codes_for(project, key, T0 + days(22))
    finding = only(project, key, "expiring-in-use", T0 + days(23))
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence["expires_at"] == (T0 + days(30)).isoformat()


def test_expiring_in_use_title_counts_the_days_as_the_evidence_does(project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=T0 + days(30), now=T0)
    used(key, T0 + days(24), permissions=[READ_RUNS])
    now = T0 + days(25) + timedelta(hours=1)  # 4 days 23 hours left: "in 5 days" beside it
    finding = only(project, key, "expiring-in-use", now)
    assert finding.title == "In use and expires in 5 days"


def test_expiring_key_that_is_not_used_is_not_an_outage(project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=T0 + days(30), now=T0)
    assert "expiring-in-use" not in codes_for(project, key, T0 + days(25))


def test_permission_unused_for_the_threshold_is_low_and_names_it(project, make_key):
    key, _ = make_key(project, [READ_RUNS, OPERATE_RUNS, MANAGE_BUILD_STORAGE], now=T0)
    used(key, T0 + days(50), permissions=[READ_RUNS])
    APIKeyPermissionUsage.objects.create(key=key, permission=OPERATE_RUNS, last_used_at=T0)
    unused = [
        f for f in review.findings(project, now=T0 + days(50)) if f.code == "unused-permission"
    ]
    assert {f.evidence["permission"] for f in unused} == {OPERATE_RUNS, MANAGE_BUILD_STORAGE}
    assert all(f.severity == Severity.LOW for f in unused)
    assert all(f.evidence["permission"] in f.recommendation for f in unused)


def test_disabled_key_not_deleted_after_thirty_days_is_low(project, key):
    services.key_deactivate(key=key, actor=ACTOR, now=T0 + days(1))
    assert "inactive-not-deleted" not in codes_for(project, key, T0 + days(30))
    finding = only(project, key, "inactive-not-deleted", T0 + days(31))
    assert finding.severity == Severity.LOW
    assert finding.evidence["since"] == (T0 + days(1)).isoformat()


def test_inactive_keys_have_no_activity_findings(project, key):
    project.expiry_required = True
    project.save()
    services.key_deactivate(key=key, actor=ACTOR, now=T0 + days(1))
    assert codes_for(project, key, T0 + days(100)) == {"inactive-not-deleted"}


def test_key_created_by_someone_no_longer_a_member_is_high(project, make_user):
    bob = make_user("bob", project=project, role="admin")
    key, _ = services.key_create(
        project=project,
        name="bob's",
        permissions=[READ_RUNS],
        actor=services.Actor(user=bob),
        now=T0,
    )
    used(key, T0, permissions=[READ_RUNS])
    assert "former-member-key" not in codes_for(project, key, T0 + days(1))
    Membership.objects.filter(user=bob).delete()
    finding = only(project, key, "former-member-key", T0 + days(1))
    assert finding.severity == Severity.HIGH
    assert finding.evidence["created_by"] == "bob"


def test_key_whose_creator_account_was_deleted_is_found_through_the_audit_log(project, make_user):
    bob = make_user("bob", project=project, role="admin")
    key, _ = services.key_create(
        project=project, name="bob's", permissions=[READ_RUNS], actor=services.Actor(user=bob)
    )
    bob.delete()
    finding = only(project, key, "former-member-key", T0 + days(1))
    assert finding.evidence["created_by"] == "bob"


def test_keys_made_on_the_command_line_have_no_creator_finding(project, key):
    assert "former-member-key" not in codes_for(project, key, T0 + days(1))


def test_rotated_key_still_active_after_a_week_is_medium(project, key):
    used(key, T0, permissions=[READ_RUNS])
    services.key_rotate(key=key, actor=ACTOR, now=T0 + days(1))
    assert "rotation-unfinished" not in codes_for(project, key, T0 + days(7))
    assert only(project, key, "rotation-unfinished", T0 + days(8)).severity == Severity.MEDIUM


def test_findings_are_sorted_most_severe_first(project, make_key):
    make_key(project, [READ_RUNS], name="old", now=T0 - days(400))
    project.expiry_required = True
    project.save()
    severities = [f.severity for f in review.findings(project, now=T0)]
    assert severities == sorted(severities, reverse=True)
    assert severities[0] == Severity.HIGH


def test_findings_and_access_review_use_a_fixed_number_of_queries(
    project, make_key, make_user, django_assert_max_num_queries
):
    bob = make_user("bob", project=project, role="admin")
    for n in range(12):
        key, _ = make_key(project, [READ_RUNS, OPERATE_RUNS], now=T0)
        used(key, T0 + days(n), permissions=[READ_RUNS])
        APIKeyRefusal.objects.create(
            key=key, code="DISABLED_API_KEY", count=1, first_at=T0, last_at=T0
        )
    services.key_create(
        project=project, name="bob's", permissions=[READ_RUNS], actor=services.Actor(user=bob)
    )
    with django_assert_max_num_queries(5):
        review.findings(project, now=T0 + days(60))
    with django_assert_max_num_queries(5):
        review.access_review(project, now=T0 + days(60))


def test_access_review_lists_every_key_with_its_evidence(project, make_key, make_user):
    key, _ = make_key(project, [READ_RUNS], name="dash", expires_at=T0 + days(3), now=T0)
    used(key, T0 + days(1), ip="192.0.2.1")
    successor, _ = services.key_rotate(key=key, actor=ACTOR, now=T0 + days(2))
    rows = {row["key_id"]: row for row in review.access_review(project, now=T0 + days(2))}
    assert set(rows) == {key.key_id, successor.key_id}
    row = rows[key.key_id]
    assert row["permissions"] == [READ_RUNS]
    assert row["last_used_at"] == (T0 + days(1)).isoformat()
    assert row["last_used_ip"] == "192.0.2.1"
    assert row["last_rotated_at"] == (T0 + days(2)).isoformat()
    assert row["expires_at"] == (T0 + days(3)).isoformat()
    assert set(row["flags"]) == {"expires-soon", "rotated"}
    assert rows[successor.key_id]["rotated_from"] == key.key_id
    assert "never-used" in rows[successor.key_id]["flags"]


def test_severity_parse_refuses_unknown_levels():
    assert Severity.parse("HIGH") is Severity.HIGH
    with pytest.raises(ValueError, match="'urgent'"):
        Severity.parse("urgent")


# --- The page and its exports agree with the command ----------------------

SECURITY = "/projects/acme/admin/security/"


@pytest.fixture
def reviewed(project, make_key):
    """A project with findings of every severity, reviewed now (the page has no clock knob)."""
    from django.utils import timezone

    now = timezone.now()
    stale, _ = make_key(project, [READ_RUNS], name="stale one", now=now - days(100))
    used(stale, now - days(60), permissions=[READ_RUNS])
    off, _ = make_key(project, [READ_RUNS], name="disabled one", now=now - days(100))
    services.key_deactivate(key=off, actor=ACTOR, now=now - days(40))
    APIKeyRefusal.objects.create(
        key=off,
        code="DISABLED_API_KEY",
        count=9,
        first_at=now - days(2),
        last_at=now - days(1),
        last_ip="198.51.100.8",
    )
    return project


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_security_page_lists_the_same_findings_as_the_selector(client, reviewed, make_user, role):
    client.force_login(make_user("u", project=reviewed, role=role))
    response = client.get(SECURITY)
    assert response.status_code == 200
    page = response.content.decode()
    for finding in review.findings(reviewed):
        assert f"finding-{finding.code}" in page
        assert finding.key_id in page
    assert "198.51.100.8" in page
    assert "some integration was not updated" in page


def test_security_exports_match_the_command(client, reviewed, admin_user):
    import csv
    import io
    import json

    from django.core.management import call_command

    client.force_login(admin_user)
    exported = json.loads(b"".join(client.get(SECURITY + "findings.json").streaming_content))
    out = io.StringIO()
    call_command(
        "audit_keys", "--project", "acme", "--format", "json", stdout=out, stderr=io.StringIO()
    )
    assert exported["findings"] == json.loads(out.getvalue())["findings"]
    response = client.get(SECURITY + "findings.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["code"] for r in rows] == [f["code"] for f in exported["findings"]]


def test_security_page_words_the_evidence_for_people(client, project, make_key, admin_user):
    from django.utils import timezone

    now = timezone.now()
    leaked, _ = make_key(project, [READ_RUNS], name="leaked", now=now - days(10))
    APIKey.objects.filter(pk=leaked.pk).update(
        exposed_at=now - days(1),
        exposure_source=APIKey.ExposureSource.URL,
        exposure_url="https://example.com/leak",
    )
    ending, _ = make_key(project, [READ_RUNS], name="ending", expires_at=now + days(4.95))
    used(ending, now - days(1), ip="203.0.113.70", permissions=[READ_RUNS])
    client.force_login(admin_user)
    page = client.get(SECURITY).content.decode()
    assert "<dt>Rotated</dt><dd>No</dd>" in page
    assert "<dt>URL</dt><dd>https://example.com/leak</dd>" in page
    assert "<dt>Last used IP</dt><dd>203.0.113.70</dd>" in page
    assert "In use and expires in 5 days" in page
    assert re.search(r"<dt>Expires</dt><dd><time [^>]*>in 5 days</time>", page)
    assert "Expires at" not in page and "False" not in page


def test_exports_keep_the_evidence_names_and_values_as_they_are(
    client, project, make_key, admin_user
):
    import csv
    import io
    import json

    key, _ = make_key(project, [READ_RUNS], name="leaked")
    APIKey.objects.filter(pk=key.pk).update(
        exposed_at=T0, exposure_source=APIKey.ExposureSource.URL, exposure_url="https://x.test/"
    )
    client.force_login(admin_user)
    exported = json.loads(b"".join(client.get(SECURITY + "findings.json").streaming_content))
    evidence = exported["findings"][0]["evidence"]
    assert evidence["url"] == "https://x.test/" and evidence["rotated"] is False
    text = b"".join(client.get(SECURITY + "findings.csv").streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(text)))
    assert "url=https://x.test/" in row["evidence"] and "rotated=False" in row["evidence"]


def test_access_review_exports_every_key_as_json_and_csv(client, reviewed, auditor_user):
    import csv
    import io
    import json

    client.force_login(auditor_user)
    data = json.loads(b"".join(client.get(SECURITY + "access-review.json").streaming_content))
    assert {k["name"] for k in data["keys"]} == {"stale one", "disabled one"}
    assert data["generated_by"] == "audrey"
    response = client.get(SECURITY + "access-review.csv")
    assert 'attachment; filename="access-review-acme-' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert set(rows[0]) == set(review.ACCESS_COLUMNS)
    assert {r["permissions"] for r in rows} == {READ_RUNS}


def test_security_page_and_exports_are_404_to_outsiders(client, reviewed, make_user):
    client.force_login(make_user("mallory"))
    for path in ("", "findings.json", "access-review.csv"):
        assert client.get(SECURITY + path).status_code == 404


# --- no-allowlist -----------------------------------------------------------------


def used_from(key: APIKey, at: datetime, *ips: str) -> None:
    from apikeys.models import APIKeyAddressUsage

    used(key, at, ip=ips[-1], permissions=[READ_RUNS])
    for ip in ips:
        APIKeyAddressUsage.objects.create(key=key, date=at.date(), ip=ip, request_count=5)


def test_a_key_used_from_more_than_three_addresses_without_allowlist_is_a_low_finding(project, key):
    used_from(key, T0 + days(1), "203.0.113.7", "203.0.113.8", "198.51.100.1")
    used_from(key, T0 + days(2), "2001:db8:0:1::5", "::ffff:203.0.113.9")
    finding = only(project, key, "no-allowlist", T0 + days(3))
    assert finding.severity == Severity.LOW
    assert finding.evidence == {
        "addresses": 5,
        "suggested_allowlist": "198.51.100.0/24 203.0.113.0/24 2001:db8:0:1::/64",
    }
    assert "198.51.100.0/24, 203.0.113.0/24, 2001:db8:0:1::/64" in finding.recommendation


def test_three_addresses_or_an_allowlist_or_old_usage_is_no_finding(project, make_key, key):
    used_from(key, T0 + days(1), "203.0.113.7", "203.0.113.8", "::ffff:203.0.113.8", "203.0.113.9")
    assert "no-allowlist" not in codes_for(project, key, T0 + days(2))  # the same 3 addresses
    fenced, _ = make_key(
        project, [READ_RUNS], name="fenced", allowed_ips=["203.0.113.0/24"], now=T0
    )
    used_from(fenced, T0 + days(1), *[f"203.0.113.{n}" for n in range(10)])
    assert "no-allowlist" not in codes_for(project, fenced, T0 + days(2))
    roaming, _ = make_key(project, [READ_RUNS], name="roaming", now=T0)
    used_from(roaming, T0 + days(1), *[f"198.51.100.{n}" for n in range(10)])
    used(roaming, T0 + days(31))  # in use, but the addresses are more than 30 days old
    assert "no-allowlist" not in codes_for(project, roaming, T0 + days(32))
    assert "no-allowlist" in codes_for(project, roaming, T0 + days(30))


def test_the_address_finding_costs_one_query(project, make_key, django_assert_max_num_queries):
    for n in range(5):
        key, _ = make_key(project, [READ_RUNS], now=T0)
        used_from(key, T0 + days(1), *[f"198.51.{n}.{m}" for m in range(5)])
    with django_assert_max_num_queries(6):
        found = review.findings(project, now=T0 + days(2))
    assert sum(f.code == "no-allowlist" for f in found) == 5
