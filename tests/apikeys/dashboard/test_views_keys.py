"""Key list, detail and actions through the test client (plain forms and htmx)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys.models import APIKey, APIKeyDailyUsage, AuditEvent

pytestmark = pytest.mark.django_db

LIST = "/projects/acme/admin/api-keys/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def detail_url(key, action=""):
    return f"{LIST}{key.key_id}/{action + '/' if action else ''}"


def test_list_shows_columns_flags_and_summary(admin_client, project, make_key):
    now = timezone.now()
    stale = make_key(project, (READ_RUNS,), name="old one")[0]
    APIKey.objects.filter(pk=stale.pk).update(created_at=now - timedelta(days=90))
    make_key(project, (OPERATE_RUNS,), name="soon", expires_at=now + timedelta(days=2))
    page = admin_client.get(LIST).content.decode()
    assert "Project Admin</a> &rsaquo; API Keys" in page
    assert 'href="/projects/acme/admin/" class="crumb-project">Acme</a>' in page
    assert f"nunu_{stale.key_id}_…" in page
    for text in (
        "Read runs",
        "Operate runs",
        "Stale",
        "Expires soon",
        "No expiry",
        "Never used",
        "Active",
        "by CLI",
    ):
        assert text in page, text
    assert 'title="' in page and "<time datetime=" in page
    assert '2</span> <span class="summary-label">active keys' in page
    assert "expiring within 7 days" in page


def test_list_partial_for_htmx_and_vary_header(admin_client, project, make_key):
    make_key(project, name="alpha")
    make_key(project, name="beta")
    full = admin_client.get(LIST)
    partial = admin_client.get(f"{LIST}?q=alp", headers=HTMX)
    assert "HX-Request" in full["Vary"] and "HX-Request" in partial["Vary"]
    body = partial.content.decode()
    assert "<html" not in body and 'id="key-table"' in body
    assert "alpha" in body and "beta" not in body
    assert 'hx-swap-oob="true"' in body  # the filter form's sort field stays in step
    restore = admin_client.get(LIST, headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.content.decode()


def test_filters_work_as_a_plain_get_form(admin_client, project, make_key):
    make_key(project, (READ_RUNS,), name="reader")
    writer = make_key(project, (OPERATE_RUNS,), name="writer")[0]
    APIKey.objects.filter(pk=writer.pk).update(is_active=False)
    page = admin_client.get(LIST, {"status": "disabled"}).content.decode()
    assert "writer" in page and ">reader<" not in page
    page = admin_client.get(LIST, {"permission": READ_RUNS}).content.decode()
    assert ">reader<" in page and ">writer<" not in page
    page = admin_client.get(LIST, {"flag": "expired"}).content.decode()
    assert "No key matches these filters." in page


def test_list_paginates_50_and_sorts(admin_client, project, bulk_keys):
    bulk_keys(project, 60, permissions=[READ_RUNS])
    first = admin_client.get(LIST, {"sort": "name"}).content.decode()
    assert "Page 1 of 2" in first and ">k000<" in first and ">k050<" not in first
    second = admin_client.get(LIST, {"sort": "name", "page": "2"}).content.decode()
    assert ">k050<" in second and ">k000<" not in second
    assert 'aria-sort="ascending"' in first


def test_list_query_count_is_fixed(
    admin_client, project, make_key, bulk_keys, django_assert_max_num_queries
):
    for _ in range(3):
        make_key(project)
    # session, user, membership+project, switcher, summary, page (and a count when filtered)
    with django_assert_max_num_queries(8):
        admin_client.get(LIST)
    bulk_keys(project, 120, name="m{n}", permissions=[READ_RUNS, OPERATE_RUNS])
    with django_assert_max_num_queries(8):
        admin_client.get(LIST, {"flag": "never_used", "permission": READ_RUNS, "q": "m"})


def test_highlight_marks_the_new_row(admin_client, project, make_key):
    key = make_key(project, name="fresh")[0]
    page = admin_client.get(LIST, {"highlight": key.key_id}).content.decode()
    assert f'id="key-{key.key_id}" class="highlight' in page


def test_a_key_being_replaced_says_rotating_to_its_successor_and_when_it_stops(
    admin_client, project, make_key
):
    from apikeys import services

    graced = make_key(project, name="graced")[0]
    successor, _ = services.key_rotate(
        key=graced, actor=services.Actor.cli(), grace=timedelta(hours=24)
    )
    open_ended = make_key(project, name="open-ended")[0]
    services.key_rotate(key=open_ended, actor=services.Actor.cli())
    page = admin_client.get(LIST).content.decode()
    row = page[page.index(f'id="key-{graced.key_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Rotating →" in row
    assert f"{LIST}{successor.key_id}/" in row
    assert ", stops " in row and "in 24 hours" in row
    other = page[page.index(f'id="key-{open_ended.key_id}"') :]
    assert ", until deactivated" in other[: other.index("</tr>")]
    successor_row = page[page.index(f'id="key-{successor.key_id}"') :]
    assert "Rotating" not in successor_row[: successor_row.index("</tr>")]
    # Once the old key is switched off, it is no longer "rotating".
    services.key_deactivate(key=graced, actor=services.Actor.cli())
    page = admin_client.get(LIST).content.decode()
    row = page[page.index(f'id="key-{graced.key_id}"') :]
    assert "Rotating" not in row[: row.index("</tr>")]


def test_detail_shows_everything(admin_client, project, make_key):
    old = make_key(
        project, (READ_RUNS, MANAGE_BUILD_STORAGE), name="main", description="used by CI"
    )[0]
    from apikeys import services

    new, _ = services.key_rotate(key=old, actor=services.Actor.cli())
    APIKeyDailyUsage.objects.create(key=old, date=timezone.now().date(), request_count=12)
    page = admin_client.get(detail_url(old)).content.decode()
    for text in (
        "main",
        "used by CI",
        old.masked,
        "GET /api/v1/runs/{runId}/bugs",
        "DELETE /api/v1/builds/{buildId}",
        "<svg",
        "Requests per day",
        "No request with this key has been refused.",
        "This key has not started any run.",
        new.name,
    ):
        assert text in page, text
    page = admin_client.get(detail_url(new)).content.decode()
    assert "Rotated from" in page


def test_detail_says_usage_and_refusals_arrive_after_a_delay(
    admin_client, project, make_key, settings
):
    settings.APIKEYS_USAGE_RESOLUTION = 90
    key = make_key(project, name="laggy")[0]
    body = admin_client.get(detail_url(key)).content.decode()
    assert "at most once every 90 seconds while it serves requests" in body
    assert "can take 90 seconds or more to appear here" in body
    assert "the newest refusals can take as long to appear" in body


def test_detail_lists_runs_the_key_started(admin_client, project, make_key):
    from api.models import Run

    key = make_key(project, name="runner")[0]
    Run.objects.create(project=project, name="nightly smoke", initiator_key_id=key.key_id)
    page = admin_client.get(detail_url(key)).content.decode()
    assert "Runs started with this key" in page
    assert "nightly smoke" in page


def test_without_an_activity_hook_the_key_page_has_no_activity_panel(
    admin_client, project, make_key, settings
):
    settings.APIKEYS_KEY_ACTIVITY = None
    key = make_key(project, name="runner")[0]
    page = admin_client.get(detail_url(key)).content.decode()
    assert "Runs started" not in page
    assert "runner" in page


def test_detail_query_count_is_fixed(
    admin_client, project, make_key, django_assert_max_num_queries
):
    key = make_key(project)[0]
    with django_assert_max_num_queries(16):
        admin_client.get(detail_url(key))


def test_deactivate_and_reactivate_with_plain_forms(admin_client, project, make_key):
    key = make_key(project, name="toggle")[0]
    confirm = admin_client.get(detail_url(key, "deactivate"))
    assert "Deactivate “toggle”?" in confirm.content.decode()
    response = admin_client.post(detail_url(key, "deactivate"))
    assert response.status_code == 302 and response["Location"] == detail_url(key)
    key.refresh_from_db()
    assert not key.is_active
    page = admin_client.get(detail_url(key)).content.decode()
    assert "is deactivated" in page and ">Reactivate<" in page
    admin_client.post(detail_url(key, "reactivate"))
    key.refresh_from_db()
    assert key.is_active
    assert AuditEvent.objects.filter(key_id=key.key_id, action="key.reactivated").exists()


def test_deactivate_with_htmx_answers_the_key_section(admin_client, project, make_key):
    key = make_key(project, name="hx")[0]
    panel = admin_client.get(detail_url(key, "deactivate"), headers=HTMX).content.decode()
    assert "<html" not in panel and f'hx-post="{detail_url(key, "deactivate")}"' in panel
    response = admin_client.post(detail_url(key, "deactivate"), headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="key-section"' in body and "is deactivated" in body
    assert "status-disabled" in body


def test_expired_key_cannot_be_reactivated(admin_client, project, make_key):
    key = make_key(project, name="gone")[0]
    APIKey.objects.filter(pk=key.pk).update(
        is_active=False, expires_at=timezone.now() - timedelta(days=1)
    )
    page = admin_client.get(detail_url(key)).content.decode()
    assert ">Reactivate<" not in page and "rotate it instead" in page
    response = admin_client.post(detail_url(key, "reactivate"), follow=True)
    assert "rotate it instead" in response.content.decode()
    key.refresh_from_db()
    assert not key.is_active


def test_delete_needs_the_name_when_used_in_the_last_7_days(admin_client, project, make_key):
    key = make_key(project, name="busy")[0]
    APIKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(days=1))
    assert (
        "Type <strong>busy</strong>" in admin_client.get(detail_url(key, "delete")).content.decode()
    )
    response = admin_client.post(detail_url(key, "delete"), {"confirm_name": "wrong"})
    assert response.status_code == 422
    assert "type &#x27;busy&#x27; to delete it" in response.content.decode()
    assert APIKey.objects.filter(pk=key.pk).exists()
    response = admin_client.post(detail_url(key, "delete"), {"confirm_name": "busy"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert not APIKey.objects.filter(pk=key.pk).exists()


def test_delete_of_an_idle_key_needs_only_the_confirmation(admin_client, project, make_key):
    key = make_key(project, name="idle")[0]
    assert "confirm_name" not in admin_client.get(detail_url(key, "delete")).content.decode()
    response = admin_client.post(detail_url(key, "delete"), headers=HTMX)
    assert response["HX-Redirect"] == LIST
    assert not APIKey.objects.filter(pk=key.pk).exists()


def test_edit_validates_and_saves(admin_client, project, make_key):
    make_key(project, name="other")
    key = make_key(project, (READ_RUNS,), name="editable")[0]
    response = admin_client.post(
        detail_url(key, "edit"), {"name": "other", "permissions": [READ_RUNS]}
    )
    assert response.status_code == 422 and "already exists" in response.content.decode()
    response = admin_client.post(detail_url(key, "edit"), {"name": "editable", "permissions": []})
    assert response.status_code == 422 and "at least one permission" in response.content.decode()
    response = admin_client.post(
        detail_url(key, "edit"),
        {"name": "renamed", "description": "new words", "permissions": [READ_RUNS, OPERATE_RUNS]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.name, key.description, key.permissions) == (
        "renamed",
        "new words",
        [READ_RUNS, OPERATE_RUNS],
    )


def test_edit_with_htmx_keeps_errors_in_the_panel(admin_client, project, make_key):
    key = make_key(project, name="panel")[0]
    response = admin_client.post(
        detail_url(key, "edit"), {"name": "", "permissions": [READ_RUNS]}, headers=HTMX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#action-panel"
    assert "This field is required." in response.content.decode()


def test_every_form_needs_the_csrf_token(admin_user, project, make_key):
    key = make_key(project, name="csrf")[0]
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    for action in ("deactivate", "delete", "edit"):
        assert client.post(detail_url(key, action)).status_code == 403
    assert client.post(f"{LIST}new/x/details/", {"name": "n"}).status_code == 403
    page = client.get(LIST).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_django_admin_shows_no_secret_and_a_read_only_audit_log(
    client, django_user_model, project, make_key
):
    root = django_user_model.objects.create_superuser("root", password="pw-root-123456")
    client.force_login(root)
    key = make_key(project, name="admin view")[0]
    page = client.get(f"/admin/apikeys/apikey/{key.pk}/change/").content.decode()
    assert key.key_id in page
    assert key.hashed_secret not in page and 'name="hashed_secret"' not in page
    assert 'name="key_id"' not in page
    event = AuditEvent.objects.first()
    assert client.get("/admin/apikeys/auditevent/add/").status_code == 403
    assert client.post(f"/admin/apikeys/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get(f"/admin/apikeys/auditevent/{event.pk}/change/").status_code == 200


def row_htmx(key):
    """What htmx sends from the key's row in the list: the row is the target."""
    return {**HTMX, "HX-Target": f"key-{key.key_id}"}


def test_list_rows_show_actions_to_admins_by_status(admin_client, project, make_key):
    active = make_key(project, name="on")[0]
    disabled = make_key(project, name="off")[0]
    expired = make_key(project, name="gone")[0]
    APIKey.objects.filter(pk=disabled.pk).update(is_active=False)
    APIKey.objects.filter(pk=expired.pk).update(
        is_active=False, expires_at=timezone.now() - timedelta(days=1)
    )
    page = admin_client.get(LIST).content.decode()
    assert f'href="{detail_url(active, "deactivate")}"' in page
    assert f'href="{detail_url(active, "reactivate")}"' not in page
    assert f'href="{detail_url(disabled, "reactivate")}"' in page
    assert f'href="{detail_url(disabled, "deactivate")}"' not in page
    assert f'href="{detail_url(expired, "reactivate")}"' not in page
    for key in (active, disabled, expired):
        assert f'href="{detail_url(key, "delete")}"' in page
        assert f'hx-target="#key-{key.key_id}"' in page


def test_list_rows_show_no_actions_to_auditors(client, auditor_user, project, make_key):
    key = make_key(project, name="watched")[0]
    client.force_login(auditor_user)
    page = client.get(LIST).content.decode()
    assert "watched" in page
    assert "data-row-action" not in page and detail_url(key, "delete") not in page
    assert client.post(detail_url(key, "deactivate"), headers=row_htmx(key)).status_code == 403


def test_row_action_opens_its_confirmation_in_a_row_below(admin_client, project, make_key):
    key = make_key(project, name="rowhx")[0]
    body = admin_client.get(detail_url(key, "deactivate"), headers=row_htmx(key)).content.decode()
    assert "<html" not in body and body.lstrip().startswith(f'<tr id="confirm-{key.key_id}"')
    assert f'hx-target="#key-{key.key_id}"' in body and 'hx-push-url="false"' in body
    assert "Deactivate “rowhx”?" in body


def test_row_deactivate_with_htmx_answers_the_row_with_its_new_status(
    admin_client, project, make_key
):
    key = make_key(project, name="rowoff")[0]
    response = admin_client.post(detail_url(key, "deactivate"), headers=row_htmx(key))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<tr id="key-{key.key_id}"')
    assert "status-disabled" in body and f'href="{detail_url(key, "reactivate")}"' in body
    assert f'<tr id="confirm-{key.key_id}" hx-swap-oob="delete">' in body
    assert 'hx-swap-oob="innerHTML:#row-status"' in body and "is deactivated" in body
    assert 'id="key-summary"' in body and 'hx-swap-oob="true"' in body
    assert '0</span> <span class="summary-label">active keys' in body
    key.refresh_from_db()
    assert not key.is_active


def test_row_reactivate_with_htmx_answers_the_row_with_its_new_status(
    admin_client, project, make_key
):
    key = make_key(project, name="rowon")[0]
    APIKey.objects.filter(pk=key.pk).update(is_active=False)
    response = admin_client.post(detail_url(key, "reactivate"), headers=row_htmx(key))
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="key-{key.key_id}"')
    assert "status-active" in body and f'href="{detail_url(key, "deactivate")}"' in body
    assert "is active again" in body
    key.refresh_from_db()
    assert key.is_active


def test_row_delete_with_htmx_answers_no_row(admin_client, project, make_key):
    key = make_key(project, name="rowgone")[0]
    response = admin_client.post(detail_url(key, "delete"), headers=row_htmx(key))
    body = response.content.decode()
    assert response.status_code == 200 and "HX-Redirect" not in response
    assert f'<tr id="key-{key.key_id}"' not in body
    assert "is deleted" in body and f'<tr id="confirm-{key.key_id}" hx-swap-oob="delete">' in body
    assert not APIKey.objects.filter(pk=key.pk).exists()


def test_row_delete_updates_the_lists_count_under_its_filters_and_the_summary(
    admin_client, project, make_key
):
    keep = make_key(project, name="alpha-keep")[0]
    make_key(project, name="beta")
    gone = make_key(project, name="alpha-gone", expires_at=timezone.now() + timedelta(days=3))[0]
    headers = {**row_htmx(gone), "HX-Current-URL": f"http://testserver{LIST}?q=alpha"}
    body = admin_client.post(detail_url(gone, "delete"), headers=headers).content.decode()
    assert '<p class="result-count" id="result-count" hx-swap-oob="true">' in body
    assert "1 key matches these filters" in " ".join(body.split())
    assert "expiring within 7 days" in body  # the summary's window, not a blank
    assert keep.key_id not in body  # only counts: the rows stay as they are


def test_row_action_from_outside_the_list_sends_no_count(admin_client, project, make_key):
    key = make_key(project, name="nocount")[0]
    body = admin_client.post(detail_url(key, "deactivate"), headers=row_htmx(key)).content.decode()
    assert 'id="result-count"' not in body


def test_row_delete_of_a_recently_used_key_still_needs_its_name(admin_client, project, make_key):
    key = make_key(project, name="rowbusy")[0]
    APIKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - timedelta(days=1))
    response = admin_client.post(
        detail_url(key, "delete"), {"confirm_name": "nope"}, headers=row_htmx(key)
    )
    assert response["HX-Retarget"] == f"#confirm-{key.key_id}"
    assert response["HX-Reswap"] == "outerHTML"
    assert "type &#x27;rowbusy&#x27; to delete it" in response.content.decode()
    assert APIKey.objects.filter(pk=key.pk).exists()
    admin_client.post(detail_url(key, "delete"), {"confirm_name": "rowbusy"}, headers=row_htmx(key))
    assert not APIKey.objects.filter(pk=key.pk).exists()


def test_row_actions_without_javascript_still_redirect(admin_client, project, make_key):
    key = make_key(project, name="plain")[0]
    response = admin_client.post(detail_url(key, "deactivate"))
    assert response.status_code == 302 and response["Location"] == detail_url(key)
    response = admin_client.post(detail_url(key, "reactivate"))
    assert response.status_code == 302 and response["Location"] == detail_url(key)
    response = admin_client.post(detail_url(key, "delete"))
    assert response.status_code == 302 and response["Location"] == LIST


def test_summary_counts_read_as_words(admin_client, project, make_key):
    make_key(project, name="only one")
    page = admin_client.get(LIST).content.decode()
    assert '1</span> <span class="summary-label">active key</span>' in page
    assert '0</span> <span class="summary-label">stale keys <span' in page


def test_edit_sets_and_clears_the_allowlist_and_the_detail_page_shows_it(
    admin_client, project, make_key
):
    key = make_key(project, (READ_RUNS,), name="fenced")[0]
    assert "Any address" in admin_client.get(detail_url(key)).content.decode()
    form = admin_client.get(detail_url(key, "edit")).content.decode()
    assert 'name="allowed_ips"' in form
    response = admin_client.post(
        detail_url(key, "edit"),
        {"name": "fenced", "permissions": [READ_RUNS], "allowed_ips": "203.0.113.0/24 ::1"},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.allowed_ips == ["203.0.113.0/24", "::1/128"]
    page = admin_client.get(detail_url(key)).content.decode()
    assert "<code>203.0.113.0/24</code>, <code>::1/128</code>" in page
    assert "203.0.113.0/24\n::1/128" in admin_client.get(detail_url(key, "edit")).content.decode()
    event = AuditEvent.objects.filter(key_id=key.key_id, action="key.updated").latest("id")
    assert event.changes["allowed_ips"] == {"before": [], "after": ["203.0.113.0/24", "::1/128"]}
    admin_client.post(
        detail_url(key, "edit"), {"name": "fenced", "permissions": [READ_RUNS], "allowed_ips": ""}
    )
    key.refresh_from_db()
    assert key.allowed_ips == []


def test_edit_refuses_a_bad_allowlist_entry_beside_the_field(admin_client, project, make_key):
    key = make_key(project, (READ_RUNS,), name="fenced", allowed_ips=["10.0.0.0/8"])[0]
    response = admin_client.post(
        detail_url(key, "edit"),
        {"name": "renamed", "permissions": [READ_RUNS], "allowed_ips": "10.0.0.0/8\nlocalhost"},
    )
    assert response.status_code == 422
    assert "&#x27;localhost&#x27; is not an IPv4/IPv6 address or CIDR range." in (
        response.content.decode()
    )
    key.refresh_from_db()
    assert (key.name, key.allowed_ips) == ("fenced", ["10.0.0.0/8"])
