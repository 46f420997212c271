"""Dashboard template filters: times shown relative, with the exact UTC time on hover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from apikeys.dashboard.templatetags.dashboard import (
    evidence,
    evidence_label,
    label,
    reltime,
    utc,
)


def test_reltime_shows_relative_text_and_the_exact_time_on_hover():
    moment = timezone.now() - timedelta(days=3, hours=1)
    html = reltime(moment)
    assert "3 days ago" in html
    assert f'title="{utc(moment)}"' in html


def test_reltime_of_nothing_is_the_placeholder():
    assert reltime(None) == "—"
    assert reltime(None, "Never") == "Never"


def test_evidence_shows_iso_times_like_the_rest_of_the_dashboard():
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    html = evidence(moment.isoformat())
    assert "<time" in html and "2026-01-02 03:04 UTC" in html


def test_evidence_leaves_other_values_alone():
    assert evidence(None) == "—"
    assert evidence(230) == "230"
    assert evidence("project:operate-runs") == "project:operate-runs"
    assert evidence("2026-13-99T00:00:00") == "2026-13-99T00:00:00"  # not a time: as it is


def test_label_reads_like_words():
    assert label("last_used_at") == "last used at"


def test_evidence_shows_booleans_as_yes_or_no():
    assert evidence(True) == "Yes"
    assert evidence(False) == "No"


def test_evidence_label_reads_like_words_with_acronyms_in_capitals():
    assert evidence_label("refused_requests") == "Refused requests"
    assert evidence_label("last_used_ip") == "Last used IP"
    assert evidence_label("last_ip") == "Last IP"
    assert evidence_label("url") == "URL"


def test_evidence_label_of_a_time_drops_at_before_its_relative_value():
    # "Expires" + "in 5 days", "Last used" + "3 days ago": never "Expires at in 5 days".
    assert evidence_label("expires_at") == "Expires"
    assert evidence_label("last_used_at") == "Last used"
    assert evidence_label("at") == "At"


def test_the_dashboard_is_named_by_the_hosts_setting(settings, admin_user, project, client):
    settings.APIKEYS_SITE_NAME = "Acme keys"
    client.force_login(admin_user)
    page = client.get(f"/projects/{project.slug}/admin/api-keys/").content.decode()
    assert "| Acme keys</title>" in page
    assert '<div id="site-name"><a href="/">Acme keys</a></div>' in page
    # The app's own stylesheet and script, not the site's.
    assert "/static/apikeys/dashboard.css" in page
    assert "/static/apikeys/dashboard.js" in page


def test_the_dashboards_static_files_are_served_from_the_app(client):
    for name in ("apikeys/dashboard.css", "apikeys/dashboard.js"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content)  # type: ignore[attr-defined]
