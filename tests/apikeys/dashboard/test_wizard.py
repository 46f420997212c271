"""The four-step wizard and the show-once page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys.conf import key_format
from apikeys.models import APIKey
from apikeys.permissions import registry
from tests.secrets_at_rest import leaks

pytestmark = pytest.mark.django_db

NEW = "/projects/acme/admin/api-keys/new/"
KEY_RE = re.compile(key_format().pattern)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def start(client) -> str:
    response = client.get(NEW)
    assert response.status_code == 302
    assert response["Location"].endswith("/details/")
    return response["Location"].rsplit("/", 2)[0] + "/"


def step(client, wizard: str, name: str, data: dict, *, expect: int = 302):
    response = client.post(f"{wizard}{name}/", {"action": "next", **data})
    assert response.status_code == expect, response.content.decode()[:2000]
    return response


def fill(client, wizard: str, *, name="ci", preset="ci-cd", expiry="30", **extra):
    step(client, wizard, "details", {"name": name, "description": "nightly"})
    step(client, wizard, "permissions", {"preset": preset, **extra.get("permissions", {})})
    step(client, wizard, "expiration", {"expiry": expiry, **extra.get("expiration", {})})


@pytest.mark.parametrize("preset", list(registry.presets))
def test_each_preset_creates_a_key_with_its_permissions(admin_client, preset):
    wizard = start(admin_client)
    fill(admin_client, wizard, preset=preset)
    review = admin_client.get(f"{wizard}review/")
    assert review.status_code == 200
    assert registry.presets[preset].label in review.content.decode()
    response = admin_client.post(f"{wizard}review/", {"action": "create"})
    assert response.status_code == 200
    key = APIKey.objects.get(name="ci")
    assert key.permissions == [
        c
        for c in (READ_RUNS, OPERATE_RUNS, MANAGE_BUILD_STORAGE)
        if c in registry.presets[preset].permissions
    ]
    assert key.expires_at is not None
    assert abs(key.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=5)


def test_show_once_page_has_the_key_snippets_and_no_store(admin_client, settings):
    wizard = start(admin_client)
    fill(admin_client, wizard)
    response = admin_client.post(f"{wizard}review/", {"action": "create"})
    body = response.content.decode()
    plaintext = KEY_RE.search(body).group(0)
    key = APIKey.objects.get(name="ci")
    assert plaintext.startswith(f"nunu_{key.key_id}_")
    assert "no-store" in response["Cache-Control"]
    assert f">{plaintext}</textarea>" in body and "readonly" in body
    # The secret appears once, in the field: the snippets read it from a prompt.
    assert body.count(plaintext) == 1
    assert "read -rs NUNU_API_KEY" in body
    # A CI/CD key may not read runs: the call shown is one any key may make, the
    # introspection of the key itself.
    assert "/api/v1/runs<" not in body
    assert "-H &quot;X-Api-Key: $NUNU_API_KEY&quot; http://testserver/api/v1/key" in body
    assert "gh secret set NUNU_API_KEY " in body and "${{ secrets.NUNU_API_KEY }}" in body
    assert "GitLab CI variable" in body
    assert "will not be shown again" in body
    assert f"?highlight={key.key_id}" in body

    # Nowhere at rest: session, cookies, messages, cache.
    for session in Session.objects.all():
        assert plaintext not in str(session.get_decoded())
        assert plaintext not in session.session_data
    for cookie in response.cookies.values():
        assert plaintext not in cookie.value
    assert plaintext not in str(list(admin_client.cookies.values()))
    assert leaks([plaintext], log_lines=[]) == []  # tables, sessions, cache (locmem or Redis)
    assert key.key_id not in key.hashed_secret and plaintext not in key.hashed_secret

    # Reload (a GET of the final URL) and resubmit show nothing secret.
    again = admin_client.get(f"{wizard}review/", follow=True)
    assert not KEY_RE.search(again.content.decode())
    resubmit = admin_client.post(f"{wizard}review/", {"action": "create"}, follow=True)
    assert not KEY_RE.search(resubmit.content.decode())
    assert "already finished" in resubmit.content.decode()
    assert APIKey.objects.filter(name="ci").count() == 1


def test_a_second_submit_of_step_4_creates_one_key(admin_client):
    wizard = start(admin_client)
    fill(admin_client, wizard)
    first = admin_client.post(f"{wizard}review/", {"action": "create"})
    second = admin_client.post(f"{wizard}review/", {"action": "create"})
    assert first.status_code == 200
    assert second.status_code == 302 and second["Location"] == "/projects/acme/admin/api-keys/"
    assert APIKey.objects.count() == 1


def test_a_concurrent_submit_with_the_same_session_state_creates_one_key(admin_client):
    """Two requests that both read the session before either saved it: the token decides."""
    wizard = start(admin_client)
    fill(admin_client, wizard)
    session = admin_client.session
    saved_state = session["apikeys.wizards"]
    assert admin_client.post(f"{wizard}review/", {"action": "create"}).status_code == 200
    session = admin_client.session
    session["apikeys.wizards"] = saved_state  # as the racing request saw it
    session.save()
    racing = admin_client.post(f"{wizard}review/", {"action": "create"})
    assert racing.status_code == 302
    assert not KEY_RE.search(racing.content.decode())
    assert APIKey.objects.count() == 1


def test_session_holds_only_what_was_typed(admin_client):
    wizard = start(admin_client)
    fill(admin_client, wizard)
    state = next(iter(admin_client.session["apikeys.wizards"].values()))
    assert set(state) == {"project", "values", "drafts", "done", "invalid"}
    assert set(state["values"]) == {"details", "permissions", "expiration"}


def test_steps_cannot_be_skipped(admin_client):
    wizard = start(admin_client)
    response = admin_client.get(f"{wizard}review/")
    assert response["Location"].endswith("/details/")
    assert admin_client.post(f"{wizard}review/", {"action": "create"}).status_code == 302
    assert APIKey.objects.count() == 0


def test_errors_appear_beside_the_field(admin_client, project, make_key):
    make_key(project, name="taken")
    wizard = start(admin_client)
    response = step(admin_client, wizard, "details", {"name": ""}, expect=422)
    assert "This field is required." in response.content.decode()
    response = step(admin_client, wizard, "details", {"name": "taken"}, expect=422)
    assert "A key named &#x27;taken&#x27; already exists" in response.content.decode()
    step(admin_client, wizard, "details", {"name": "new one"})
    response = step(admin_client, wizard, "permissions", {"preset": "custom"}, expect=422)
    assert "Tick at least one permission" in response.content.decode()
    step(admin_client, wizard, "permissions", {"preset": "custom", "permissions": [READ_RUNS]})
    response = step(admin_client, wizard, "expiration", {"expiry": "date"}, expect=422)
    assert "Enter the date" in response.content.decode()


def test_policy_is_enforced_and_named(admin_client, project):
    project.max_key_lifetime_days = 30
    project.save()
    wizard = start(admin_client)
    step(admin_client, wizard, "details", {"name": "short lived"})
    step(admin_client, wizard, "permissions", {"preset": "monitoring"})
    page = admin_client.get(f"{wizard}expiration/").content.decode()
    assert 'value="none"' not in page and 'value="60"' not in page and 'value="30"' in page
    response = step(admin_client, wizard, "expiration", {"expiry": "none"}, expect=422)
    assert "Select a valid choice" in response.content.decode()
    far = (timezone.now() + timedelta(days=60)).date().isoformat()
    response = step(
        admin_client, wizard, "expiration", {"expiry": "date", "expiry_date": far}, expect=422
    )
    assert "Project policy: keys may live at most 30 days" in response.content.decode()
    response = step(admin_client, wizard, "expiration", {"expiry": "30"})


def test_no_expiry_only_when_the_policy_allows(admin_client, project):
    wizard = start(admin_client)
    step(admin_client, wizard, "details", {"name": "forever"})
    step(admin_client, wizard, "permissions", {"preset": "monitoring"})
    step(admin_client, wizard, "expiration", {"expiry": "none"})
    admin_client.post(f"{wizard}review/", {"action": "create"})
    assert APIKey.objects.get(name="forever").expires_at is None

    project.expiry_required = True
    project.save()
    wizard = start(admin_client)
    step(admin_client, wizard, "details", {"name": "must expire"})
    step(admin_client, wizard, "permissions", {"preset": "monitoring"})
    assert 'value="none"' not in admin_client.get(f"{wizard}expiration/").content.decode()


def test_back_keeps_what_was_entered(admin_client):
    wizard = start(admin_client)
    step(admin_client, wizard, "details", {"name": "kept", "description": "still here"})
    step(admin_client, wizard, "permissions", {"preset": "custom", "permissions": [OPERATE_RUNS]})
    # Back from step 3 with an unfinished date: the draft is kept too.
    back = admin_client.post(
        f"{wizard}expiration/", {"action": "back", "expiry": "date", "expiry_date": "2999-01-01"}
    )
    assert back["Location"].endswith("/permissions/")
    page = admin_client.get(f"{wizard}permissions/").content.decode()
    assert re.search(r'value="custom"[^>]*checked', page)
    assert re.search(rf'value="{OPERATE_RUNS}"[^>]*checked', page)
    page = admin_client.get(f"{wizard}details/").content.decode()
    assert 'value="kept"' in page and "still here" in page
    page = admin_client.get(f"{wizard}expiration/").content.decode()
    assert re.search(r'value="date"[^>]*checked', page) and 'value="2999-01-01"' in page


def test_name_taken_before_create_sends_back_to_step_1(admin_client, project, make_key):
    wizard = start(admin_client)
    fill(admin_client, wizard, name="racy")
    make_key(project, name="racy")
    response = admin_client.post(f"{wizard}review/", {"action": "create"})
    assert response.status_code == 302 and response["Location"].endswith("/details/")
    page = admin_client.get(response["Location"]).content.decode()
    assert "already exists" in page
    assert APIKey.objects.filter(name="racy").count() == 1


def test_policy_tightened_before_create_sends_back_to_step_3(admin_client, project):
    wizard = start(admin_client)
    fill(admin_client, wizard, expiry="90")
    project.max_key_lifetime_days = 30
    project.save()
    response = admin_client.post(f"{wizard}review/", {"action": "create"})
    assert response.status_code == 302 and response["Location"].endswith("/expiration/")
    assert APIKey.objects.count() == 0


def test_another_projects_wizard_id_is_not_usable(admin_client, make_user, other_project):
    wizard = start(admin_client)
    other = wizard.replace("/projects/acme/", "/projects/other/")
    # alice is not a member of "other": 404 before the wizard state is even read.
    assert admin_client.get(f"{other}details/").status_code == 404


def test_step_pages_are_not_cached(admin_client):
    wizard = start(admin_client)
    response = admin_client.get(f"{wizard}details/")
    assert "no-store" in response["Cache-Control"]


# --- The IP allowlist (step 3) ----------------------------------------------------


def test_the_allowlist_is_optional_on_step_3_and_shown_on_the_review(admin_client):
    wizard = start(admin_client)
    fill(
        admin_client,
        wizard,
        expiration={"allowed_ips": "203.0.113.0/24\n2001:db8::/48, 198.51.100.7\n203.0.113.0/24"},
    )
    review = admin_client.get(f"{wizard}review/").content.decode()
    assert "<code>203.0.113.0/24</code>" in review
    assert "<code>198.51.100.7/32</code>" in review
    admin_client.post(f"{wizard}review/", {"action": "create"})
    key = APIKey.objects.get(name="ci")
    assert key.allowed_ips == ["203.0.113.0/24", "2001:db8::/48", "198.51.100.7/32"]


def test_no_allowlist_means_any_address(admin_client):
    wizard = start(admin_client)
    fill(admin_client, wizard)
    assert "Any address" in admin_client.get(f"{wizard}review/").content.decode()
    admin_client.post(f"{wizard}review/", {"action": "create"})
    assert APIKey.objects.get(name="ci").allowed_ips == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("10.0.0.0/8\n10.0.0.300", "&#x27;10.0.0.300&#x27; is not an IPv4/IPv6 address or CIDR"),
        ("10.0.0.1/24", "&#x27;10.0.0.1/24&#x27; has host bits set: write 10.0.0.0/24"),
        (" ".join(f"10.0.{n}.0/24" for n in range(51)), "at most 50 addresses or ranges"),
    ],
)
def test_a_bad_allowlist_entry_is_a_form_error_quoting_it(admin_client, typed, message):
    wizard = start(admin_client)
    step(admin_client, wizard, "details", {"name": "ci"})
    step(admin_client, wizard, "permissions", {"preset": "ci-cd"})
    response = step(
        admin_client, wizard, "expiration", {"expiry": "30", "allowed_ips": typed}, expect=422
    )
    body = response.content.decode()
    assert message in body
    assert 'id="id_allowed_ips_error"' in body
    # What was typed is kept, so it can be corrected.
    assert "10.0." in body
    assert not APIKey.objects.exists()


def test_expiration_starts_on_30_days_within_the_policy(admin_client, project):
    wizard = start(admin_client)
    step(admin_client, wizard, "details", {"name": "defaulted"})
    step(admin_client, wizard, "permissions", {"preset": "monitoring"})
    page = admin_client.get(f"{wizard}expiration/").content.decode()
    assert "checked" in page.split('value="30"')[1].split(">")[0]
    project.max_key_lifetime_days = 14
    project.save()
    page = admin_client.get(f"{wizard}expiration/").content.decode()
    assert "checked" in page.split('value="7"')[1].split(">")[0]


def test_a_typed_date_more_than_a_year_ahead_is_a_form_error(admin_client, project):
    wizard = start(admin_client)
    step(admin_client, wizard, "details", {"name": "far away"})
    step(admin_client, wizard, "permissions", {"preset": "monitoring"})
    far = (timezone.now() + timedelta(days=400)).date().isoformat()
    response = step(
        admin_client, wizard, "expiration", {"expiry": "date", "expiry_date": far}, expect=422
    )
    assert "at most a year ahead" in response.content.decode()
    near = (timezone.now() + timedelta(days=300)).date().isoformat()
    step(admin_client, wizard, "expiration", {"expiry": "date", "expiry_date": near})
