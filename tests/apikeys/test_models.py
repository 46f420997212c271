"""The key policy's rules, each written once on Project and read by services, forms, review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apikeys import services
from apikeys.dashboard.forms import ExpirationForm
from apikeys.models import Project
from apikeys.reports import review

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("max_days", "required", "requires"),
    [(None, False, False), (None, True, True), (30, False, True), (30, True, True)],
)
def test_a_key_needs_an_expiry_when_required_or_when_lifetime_is_capped(
    max_days, required, requires
):
    project = Project(slug="p", max_key_lifetime_days=max_days, expiry_required=required)
    assert project.requires_expiry is requires


def test_latest_expiry_is_the_lifetime_from_now_and_none_without_a_cap():
    assert Project(slug="p").latest_expiry(NOW) is None
    assert Project(slug="p", max_key_lifetime_days=30).latest_expiry(NOW) == NOW + timedelta(30)


@pytest.mark.parametrize(
    ("past_latest", "beyond"),
    [
        (timedelta(0), False),
        (timedelta(seconds=59), False),
        (timedelta(minutes=1, seconds=1), True),
    ],
)
def test_expiry_beyond_policy_allows_one_minute_of_slack(past_latest, beyond):
    project = Project(slug="p", max_key_lifetime_days=30)
    assert project.expiry_beyond_policy(NOW + timedelta(days=30) + past_latest, NOW) is beyond
    assert Project(slug="p").expiry_beyond_policy(NOW + timedelta(days=9999), NOW) is False


@pytest.mark.django_db
def test_service_form_and_review_apply_the_same_policy_limit(project, make_key):
    # The limit is one function; its three readers refuse, hide and report alike.
    key, _ = make_key(project, name="old", now=NOW - timedelta(days=1))
    project.max_key_lifetime_days = 30
    project.save()
    beyond = NOW + timedelta(days=30, minutes=2)
    with pytest.raises(services.PolicyError):
        services.validate_expiry(project, beyond, now=NOW)
    services.validate_expiry(project, NOW + timedelta(days=30, seconds=30), now=NOW)
    form = ExpirationForm(project=project, now=NOW)
    assert form.fields["expiry_date"].widget.attrs["max"] == project.latest_expiry(NOW).date()
    assert "none" not in form.expiry_values
    key.expires_at = beyond
    key.save()
    codes = {f.code for f in review.findings(project, now=NOW) if f.key_id == key.key_id}
    assert "expiry-beyond-policy" in codes


def test_grace_choices_are_the_services_grace_periods_with_their_labels():
    from apikeys.dashboard.views.rotation import GRACE_CHOICES

    assert [code for code, _ in GRACE_CHOICES] == ["", *services.GRACE_PERIODS]
    assert dict(GRACE_CHOICES)["1h"] == "1 hour"
    assert dict(GRACE_CHOICES)["7d"] == "7 days"
