"""manage.py notify_expiring_keys: one e-mail per key and threshold, to creator and admins."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.models import ExpiryNotice

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


def notify(*args: str, at: datetime = T0) -> str:
    err = io.StringIO()
    call_command("notify_expiring_keys", *args, "--at", at.isoformat(), stderr=err)
    return err.getvalue()


@pytest.fixture
def people(project, make_user):
    creator = make_user("carol", project=project, role="auditor", email="carol@example.com")
    make_user("alice", project=project, role="admin", email="alice@example.com")
    make_user("adam", project=project, role="admin", email="")  # no address: skipped
    make_user("audrey", project=project, role="auditor", email="audrey@example.com")
    return creator


def key_expiring_in(project, creator, delta, name="deploy"):
    key, _ = services.key_create(
        project=project,
        name=name,
        permissions=[READ_RUNS],
        actor=services.Actor(user=creator),
        expires_at=T0 + delta,
        now=T0 - timedelta(days=1),
    )
    return key


def test_emails_creator_and_admins_about_a_key_expiring_within_the_days(
    project, people, mailoutbox
):
    key = key_expiring_in(project, people, timedelta(days=3))
    assert "1 expiry notice sent" in notify()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["carol@example.com", "alice@example.com"]
    assert key.name in mail.subject
    assert key.key_id in mail.body
    assert "nunu_" not in mail.body.replace(f"/{key.key_id}/", "")  # never a secret


def test_running_twice_sends_once(project, people, mailoutbox):
    key_expiring_in(project, people, timedelta(days=3))
    notify()
    assert "0 expiry notices sent" in notify(at=T0 + timedelta(hours=1))
    assert len(mailoutbox) == 1
    assert ExpiryNotice.objects.count() == 1


def test_each_threshold_is_announced_once(project, people, mailoutbox):
    key_expiring_in(project, people, timedelta(days=5))
    notify("--days", "7")
    notify("--days", "1", at=T0 + timedelta(days=4, hours=1))
    notify("--days", "1", at=T0 + timedelta(days=4, hours=2))
    assert len(mailoutbox) == 2
    assert sorted(ExpiryNotice.objects.values_list("threshold_days", flat=True)) == [1, 7]


def test_a_new_expiry_is_announced_again(project, people, mailoutbox):
    key = key_expiring_in(project, people, timedelta(days=3))
    notify()
    services.key_rotate(key=key, actor=services.Actor.cli(), grace=timedelta(hours=24), now=T0)
    notify(at=T0 + timedelta(minutes=1))
    assert len(mailoutbox) == 2


def test_keys_outside_the_window_disabled_or_expired_are_not_announced(project, people, mailoutbox):
    key_expiring_in(project, people, timedelta(days=8), name="later")
    disabled = key_expiring_in(project, people, timedelta(days=2), name="off")
    services.key_deactivate(key=disabled, actor=services.Actor.cli())
    key_expiring_in(project, people, timedelta(hours=1), name="gone")
    notify(at=T0 + timedelta(hours=2))
    assert mailoutbox == []


def test_a_mail_failure_records_nothing_so_the_next_run_retries(
    project, people, mailoutbox, monkeypatch
):
    key_expiring_in(project, people, timedelta(days=3))
    from apikeys.management.commands import notify_expiring_keys

    def refuse(**kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(notify_expiring_keys, "send_mail", refuse)
    with pytest.raises(ConnectionRefusedError):
        notify()
    assert ExpiryNotice.objects.count() == 0
    monkeypatch.undo()
    notify()
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("days", ["0", "-1", "seven", "366"])
def test_bad_days_exit_2(project, days):
    with pytest.raises(CommandError) as raised:
        notify("--days", days)
    assert raised.value.returncode == 2


def test_unknown_project_exits_2(project):
    with pytest.raises(CommandError) as raised:
        notify("--project", "nope")
    assert raised.value.returncode == 2
