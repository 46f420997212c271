"""Rotation: the service (with and without grace, under the policy) and the transition
state that confirms it from usage (apikeys.reports.transition), built from fixed times."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.models import APIKey, APIKeyRefusal, AuditEvent
from apikeys.reports import transition
from tests.apikeys.rotation_helpers import ACTOR, T0, make_deploy_key, minutes, use


@pytest.fixture
def old(project, make_key):
    return make_deploy_key(project, make_key)


def rotate(key, **kwargs):
    successor, plaintext = services.key_rotate(key=key, actor=ACTOR, now=T0, **kwargs)
    key.refresh_from_db()
    return successor, plaintext


# --- The service ----------------------------------------------------------


def test_rotation_makes_a_linked_successor_with_the_same_permissions(old):
    successor, plaintext = rotate(old)
    assert successor.rotated_from == old
    assert list(old.successors.all()) == [successor]
    assert successor.permissions == old.permissions
    assert successor.key_id in plaintext
    assert old.rotated_at == T0
    assert old.is_active and old.status(T0) == APIKey.Status.ACTIVE
    events = AuditEvent.objects.filter(action=AuditEvent.Action.KEY_ROTATED)
    assert [e.changes["successor"] for e in events] == [successor.key_id]


def test_rotation_without_grace_leaves_the_old_key_working(old):
    rotate(old)
    assert old.expires_at is None
    assert old.status(T0 + timedelta(days=365)) == APIKey.Status.ACTIVE


@pytest.mark.parametrize("grace", sorted(services.GRACE_PERIODS))
def test_rotation_with_grace_expires_the_old_key_when_it_ends(old, grace):
    rotate(old, grace=services.GRACE_PERIODS[grace])
    end = T0 + services.GRACE_PERIODS[grace]
    assert old.expires_at == end
    assert old.status(end - timedelta(seconds=1)) == APIKey.Status.ACTIVE
    assert old.status(end) == APIKey.Status.EXPIRED


def test_grace_never_extends_a_key_that_expires_sooner(project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=T0 + minutes(30), now=T0 - minutes(1))
    rotate(key, grace=timedelta(hours=24))
    assert key.expires_at == T0 + minutes(30)


def test_an_expired_key_can_be_rotated(project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=T0 - minutes(1), now=T0 - minutes(2))
    successor, _ = rotate(key)
    assert successor.status(T0) == APIKey.Status.ACTIVE


def test_rotation_gives_the_successor_an_expiry_within_the_policy(old, project):
    project.max_key_lifetime_days = 30
    project.save()
    successor, _ = rotate(old)
    assert successor.expires_at is not None
    assert successor.expires_at <= T0 + timedelta(days=30)


def test_rotation_refuses_an_expiry_beyond_the_policy_and_names_it(old, project):
    project.max_key_lifetime_days = 30
    project.save()
    with pytest.raises(services.PolicyError, match="at most 30 days"):
        rotate(old, expires_at=T0 + timedelta(days=90))
    assert not old.successors.exists()


# --- Transition -----------------------------------------------------------


def test_a_key_never_rotated_has_no_transition(old):
    assert transition.transition(old, now=T0) is None


def test_waiting_until_the_successor_is_first_used(old):
    rotate(old)
    state = transition.transition(old, now=T0 + minutes(10))
    assert state.state == transition.WAITING
    assert not state.safe_to_deactivate


def test_confirmed_when_successor_used_and_old_key_quiet_for_a_window(old, settings):
    settings.APIKEYS_USAGE_RESOLUTION = 60
    successor, _ = rotate(old)
    use(old, T0 + minutes(1))
    use(successor, T0 + minutes(3), ip="192.0.2.44")
    state = transition.transition(old, now=T0 + minutes(3))
    assert state.state == transition.CONFIRMED
    assert state.message == "Transition confirmed: safe to deactivate"
    assert state.safe_to_deactivate
    assert state.successor == successor
    assert state.successor_first_used_at == T0 + minutes(3)
    assert state.old_last_used_at == T0 + minutes(1)


def test_old_key_used_between_the_successors_first_and_last_use_is_still_in_use(old):
    successor, _ = rotate(old)
    use(successor, T0 + minutes(2))
    use(old, T0 + minutes(4), ip="198.51.100.9")
    use(successor, T0 + minutes(6))
    state = transition.transition(old, now=T0 + minutes(30))
    assert state.state == transition.IN_USE
    assert "198.51.100.9" in state.message


def test_quiet_shorter_than_one_usage_window_proves_nothing(old, settings):
    settings.APIKEYS_USAGE_RESOLUTION = 600
    successor, _ = rotate(old)
    use(old, T0 + minutes(1))
    use(successor, T0 + minutes(2))
    state = transition.transition(old, now=T0 + minutes(5))
    assert state.state == transition.SETTLING
    assert "600 seconds" in state.message
    assert transition.transition(old, now=T0 + minutes(11)).state == transition.CONFIRMED


def test_old_key_used_after_the_successor_is_still_in_use_with_when_and_ip(old):
    successor, _ = rotate(old)
    use(successor, T0 + minutes(2))
    use(old, T0 + minutes(4), ip="198.51.100.99")
    state = transition.transition(old, now=T0 + minutes(30))
    assert state.state == transition.IN_USE
    assert state.still_in_use
    assert "198.51.100.99" in state.message
    assert "2026-05-04 10:04" in state.message


def test_old_key_used_on_a_later_day_than_the_successors_first_use_is_still_in_use(old):
    """A weekly job still on the old key: the successor's latest use does not hide it."""
    successor, _ = rotate(old)
    use(successor, T0 + minutes(2))
    use(old, T0 + timedelta(days=2))
    use(successor, T0 + timedelta(days=3))
    assert transition.transition(old, now=T0 + timedelta(days=4)).state == transition.IN_USE


def test_a_rotated_successor_still_confirms_the_first_transition(old):
    """A → B → C: C in use and A quiet confirms A's transition; one lineage of three."""
    b, _ = rotate(old)
    c, _ = services.key_rotate(key=b, actor=ACTOR, now=T0 + minutes(1))
    use(c, T0 + minutes(10))
    state = transition.transition(old, now=T0 + minutes(20))
    assert state.state == transition.CONFIRMED
    assert [k.key_id for k in state.lineage] == [old.key_id, b.key_id, c.key_id]
    assert [k.key_id for k in transition.lineage(c)] == [old.key_id, b.key_id, c.key_id]


def test_closed_once_the_old_key_is_deactivated(old):
    rotate(old)
    services.key_deactivate(key=old, actor=ACTOR, now=T0 + minutes(5))
    state = transition.transition(old, now=T0 + minutes(6))
    assert state.state == transition.CLOSED
    assert not state.safe_to_deactivate


def test_closed_but_still_tried_names_the_last_time_and_ip(old):
    rotate(old, grace=timedelta(hours=1))
    APIKeyRefusal.objects.create(
        key=old,
        code="EXPIRED_API_KEY",
        count=4,
        first_at=T0 + minutes(61),
        last_at=T0 + minutes(90),
        last_ip="198.51.100.250",
    )
    state = transition.transition(old, now=T0 + timedelta(hours=2))
    assert state.state == transition.CLOSED
    assert "still being tried" in state.message
    assert "198.51.100.250" in state.message


def test_daily_usage_of_both_keys_for_the_chart(old):
    successor, _ = rotate(old)
    use(successor, T0 + minutes(2), requests=5)
    state = transition.transition(old, now=T0 + minutes(3))
    assert len(state.days) == transition.CHART_DAYS
    today = state.days[-1]
    assert today.date == date(2026, 5, 4)
    assert (today.old_requests, today.new_requests) == (1, 5)


def test_transition_reads_with_a_fixed_number_of_queries(old, django_assert_max_num_queries):
    key = old
    for n in range(5):
        key, _ = services.key_rotate(key=key, actor=ACTOR, now=T0 + minutes(n))
        use(key, T0 + minutes(n + 1))
    with django_assert_max_num_queries(4):
        transition.transition(old, now=T0 + minutes(30))


# --- Pages ----------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def rotate_url(key):
    return f"/projects/acme/admin/api-keys/{key.key_id}/rotate/"


def detail_url(key):
    return f"/projects/acme/admin/api-keys/{key.key_id}/"


def token_from(response) -> str:
    import re

    return re.search(r'name="token" value="([^"]+)"', response.content.decode())[1]


def test_rotate_form_offers_the_grace_periods(admin_client, old):
    response = admin_client.get(rotate_url(old))
    assert response.status_code == 200
    page = response.content.decode()
    for value in ("1h", "24h", "7d"):
        assert f'value="{value}"' in page
    assert "no-store" in response["Cache-Control"]


def test_rotate_post_shows_the_successor_once_with_no_store(admin_client, old):
    form = admin_client.get(rotate_url(old))
    response = admin_client.post(rotate_url(old), {"grace": "24h", "token": token_from(form)})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    successor = old.successors.get()
    page = response.content.decode()
    assert "Save your key" in page
    assert f"nunu_{successor.key_id}_" in page
    assert "replaces" in page
    old.refresh_from_db()
    assert old.expires_at == old.rotated_at + timedelta(hours=24)
    # Nothing kept the secret: the key page shows only the masked form.
    again = admin_client.get(detail_url(successor)).content.decode()
    assert f"nunu_{successor.key_id}_" not in again.replace(successor.masked, "")


def test_resubmitting_the_rotate_form_rotates_once_and_shows_no_secret(admin_client, old):
    token = token_from(admin_client.get(rotate_url(old)))
    admin_client.post(rotate_url(old), {"grace": "", "token": token})
    again = admin_client.post(rotate_url(old), {"grace": "", "token": token})
    assert again.status_code == 302
    assert old.successors.count() == 1


def test_rotate_refused_by_policy_says_which_policy(admin_client, old, project):
    project.max_key_lifetime_days = 30
    project.save()
    from apikeys.dashboard.views import rotation

    def refuse(**kwargs):
        raise services.PolicyError("Project policy: keys may live at most 30 days.")

    import unittest.mock

    with unittest.mock.patch.object(rotation.services, "key_rotate", refuse):
        response = admin_client.post(
            rotate_url(old), {"grace": "", "token": token_from(admin_client.get(rotate_url(old)))}
        )
    assert response.status_code == 422
    assert "at most 30 days" in response.content.decode()


def test_expired_key_can_be_rotated_from_its_page(admin_client, project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=T0 + minutes(1), now=T0)
    token = token_from(admin_client.get(rotate_url(key)))
    response = admin_client.post(rotate_url(key), {"grace": "", "token": token})
    assert response.status_code == 200
    assert key.successors.count() == 1


def test_auditors_cannot_rotate_and_outsiders_get_404(client, old, auditor_user, make_user):
    client.force_login(auditor_user)
    assert client.get(rotate_url(old)).status_code == 403
    assert client.post(rotate_url(old), {"grace": "", "token": "x" * 20}).status_code == 403
    client.force_login(make_user("mallory"))
    assert client.get(rotate_url(old)).status_code == 404
    assert not old.successors.exists()


def test_detail_page_shows_transition_and_one_click_deactivate_when_confirmed(
    admin_client, old, settings
):
    settings.APIKEYS_USAGE_RESOLUTION = 0
    successor, _ = services.key_rotate(key=old, actor=ACTOR)
    page = admin_client.get(detail_url(old)).content.decode()
    assert "Waiting for the new key" in page
    from django.utils import timezone

    use(successor, timezone.now())
    page = admin_client.get(detail_url(old)).content.decode()
    assert "Transition confirmed: safe to deactivate" in page
    assert f'action="/projects/acme/admin/api-keys/{old.key_id}/deactivate/"' in page
    assert successor.name in page


def test_detail_page_says_the_old_key_is_still_in_use_with_its_ip(admin_client, old):
    from django.utils import timezone

    successor, _ = services.key_rotate(key=old, actor=ACTOR)
    use(successor, timezone.now() - minutes(2))
    use(old, timezone.now() - minutes(1), ip="198.51.100.77")
    page = admin_client.get(detail_url(old)).content.decode()
    assert "still in use" in page
    assert "198.51.100.77" in page
    assert "Deactivate “deploy” now" not in page


# --- One working successor, honest advice (pages) ----------------------------


def test_a_rotated_key_offers_no_rotate_but_links_to_its_successor(admin_client, old):
    successor, _ = services.key_rotate(key=old, actor=ACTOR)
    page = admin_client.get(detail_url(old)).content.decode()
    assert f'href="{rotate_url(old)}"' not in page
    assert "Rotate…" not in page
    assert f'Rotated to <a href="{detail_url(successor)}">{successor.name}</a>' in page
    assert "rotate that key instead" in page


def test_the_rotate_form_of_a_rotated_key_points_to_the_successor(admin_client, old):
    successor, _ = services.key_rotate(key=old, actor=ACTOR)
    response = admin_client.get(rotate_url(old))
    page = response.content.decode()
    assert response.status_code == 200
    assert "rotate that key instead" in page
    assert f'href="{rotate_url(successor)}"' in page
    assert 'name="token"' not in page


def test_posting_a_second_rotation_is_refused_with_409_and_makes_no_key(admin_client, old):
    token = token_from(admin_client.get(rotate_url(old)))
    successor, _ = services.key_rotate(key=old, actor=ACTOR)  # another tab, meanwhile
    response = admin_client.post(rotate_url(old), {"grace": "", "token": token})
    assert response.status_code == 409
    assert "rotate that key instead" in response.content.decode()
    assert list(old.successors.all()) == [successor]


def test_a_key_whose_successor_was_deactivated_offers_rotate_again(admin_client, old):
    successor, _ = services.key_rotate(key=old, actor=ACTOR)
    services.key_deactivate(key=successor, actor=ACTOR)
    page = admin_client.get(detail_url(old)).content.decode()
    assert f'href="{rotate_url(old)}"' in page
    token = token_from(admin_client.get(rotate_url(old)))
    assert admin_client.post(rotate_url(old), {"grace": "", "token": token}).status_code == 200
    assert old.successors.count() == 2


def test_a_disabled_successor_gets_no_one_click_deactivate_of_the_old_key(admin_client, old):
    from django.utils import timezone

    successor, _ = services.key_rotate(key=old, actor=ACTOR)
    use(successor, timezone.now())
    services.key_deactivate(key=successor, actor=ACTOR)
    page = admin_client.get(detail_url(old)).content.decode()
    assert "safe to deactivate" not in page
    assert "Deactivate “deploy” now" not in page
    assert "deactivating this key would leave no working key" in page


def test_waiting_for_the_first_use_is_shown_as_information(admin_client, old):
    import re

    services.key_rotate(key=old, actor=ACTOR)
    page = admin_client.get(detail_url(old)).content.decode()
    verdict = re.search(r'<li class="([^"]+)"><strong>Waiting for the new key', page)
    assert verdict is not None and verdict[1] == "info"


def test_the_stylesheet_draws_info_messages_unlike_successes():
    """Django admin paints a message of an unknown level green with a check mark."""
    from pathlib import Path

    css = (Path(services.__file__).parents[1] / "static/apikeys/dashboard.css").read_text()
    assert "ul.messagelist li.info {" in css
    rule = css.split("ul.messagelist li.info {", 1)[1].split("}", 1)[0]
    assert "background:" in rule and "success" not in rule


def test_lineage_lists_the_chain_and_the_abandoned_successor_beside_it(admin_client, old):
    first, _ = services.key_rotate(key=old, actor=ACTOR)
    services.key_deactivate(key=first, actor=ACTOR)
    second, _ = services.key_rotate(key=old, actor=ACTOR)
    page = admin_client.get(detail_url(old)).content.decode()
    lineage = page.split('<ol class="lineage">', 1)[1].split("</ol>", 1)[0]
    assert lineage.count("<li>") == 2
    assert second.name in lineage
    assert f'Also rotated to <a href="{detail_url(first)}">{first.name}</a>' in lineage


@pytest.mark.parametrize(
    ("expires", "choice"),
    [
        (True, "None: the old key works until I deactivate it or it expires"),
        (False, "None: the old key works until I deactivate it</label>"),
    ],
)
def test_the_no_grace_choice_agrees_with_the_help_below_it(
    admin_client, project, make_key, expires, choice
):
    from django.utils import timezone

    expires_at = timezone.now() + timedelta(days=10) if expires else None
    key, _ = make_key(project, [READ_RUNS], expires_at=expires_at)
    page = admin_client.get(rotate_url(key)).content.decode()
    assert choice in page
    assert ("or it expires," in page) is expires
