"""apikeys.services.rotation: one working successor per key. A key whose successor still
works is refused (rotate the successor instead); once the successor stops working, for
whatever reason, the key may be rotated again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apikeys import services
from apikeys.models import APIKey, AuditEvent
from tests.apikeys.rotation_helpers import ACTOR, T0, make_deploy_key, minutes, rotate


@pytest.fixture
def old(project, make_key):
    return make_deploy_key(project, make_key)


def rotations_of(key: APIKey) -> int:
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.KEY_ROTATED, key_id=key.key_id
    ).count()


def test_a_key_whose_successor_works_cannot_be_rotated_again(old):
    successor = rotate(old)
    with pytest.raises(services.AlreadyRotatedError) as refused:
        rotate(old, now=T0 + minutes(1))
    assert refused.value.successor == successor
    assert f"rotated to {successor.key_id} ({successor.name})" in str(refused.value)
    assert "rotate that key instead" in str(refused.value)
    assert list(old.successors.all()) == [successor]
    assert rotations_of(old) == 1


def test_the_refusal_is_an_input_error_every_front_end_already_reports():
    """The dashboard and the CLI turn KeyInputError into a message, never a 500."""
    assert issubclass(services.AlreadyRotatedError, services.KeyInputError)


def test_a_working_key_further_down_the_chain_also_refuses_the_rotation(old):
    """A → B → C with B deactivated: C still replaces A, so A is not rotated again."""
    b = rotate(old)
    c = rotate(b, now=T0 + minutes(1))
    services.key_deactivate(key=b, actor=ACTOR, now=T0 + minutes(2))
    with pytest.raises(services.AlreadyRotatedError) as refused:
        rotate(old, now=T0 + minutes(3))
    assert refused.value.successor == c


def _deactivate(key: APIKey) -> None:
    services.key_deactivate(key=key, actor=ACTOR, now=T0 + minutes(1))


def _delete(key: APIKey) -> None:
    services.key_delete(key=key, actor=ACTOR, now=T0 + minutes(1))


def _expire(key: APIKey) -> None:
    APIKey.objects.filter(pk=key.pk).update(expires_at=T0 + minutes(1))


def _expose(key: APIKey) -> None:
    services.key_expose(
        key=key, source=APIKey.ExposureSource.URL, actor=ACTOR, notify=False, now=T0 + minutes(1)
    )


@pytest.mark.parametrize("stop", [_deactivate, _delete, _expire, _expose])
def test_a_key_whose_successor_stopped_working_can_be_rotated_again(old, stop):
    first = rotate(old)
    stop(first)
    again = rotate(old, now=T0 + timedelta(hours=1))
    assert again.rotated_from == old
    assert rotations_of(old) == 2
