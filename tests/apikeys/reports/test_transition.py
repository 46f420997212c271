"""apikeys.reports.transition: deactivating the old key is advised only while a newer key
works and has been used; a rotation is not called complete before the new key was used."""

from __future__ import annotations

import pytest

from apikeys import services
from apikeys.models import APIKey
from apikeys.reports import transition
from tests.apikeys.rotation_helpers import ACTOR, T0, make_deploy_key, minutes, rotate, use


@pytest.fixture
def old(project, make_key):
    return make_deploy_key(project, make_key)


@pytest.fixture(autouse=True)
def _no_usage_window(settings):
    settings.APIKEYS_USAGE_RESOLUTION = 0


def test_a_deactivated_successor_is_never_safe_to_deactivate_the_old_key_for(old):
    successor = rotate(old)
    use(successor, T0 + minutes(2))
    services.key_deactivate(key=successor, actor=ACTOR, now=T0 + minutes(3))
    state = transition.transition(old, now=T0 + minutes(10))
    assert state.state == transition.NO_WORKING_SUCCESSOR
    assert not state.safe_to_deactivate
    assert state.live_successor is None
    assert state.message.startswith(
        "The new key deploy (rotated) is deactivated: deactivating this key would leave "
        "no working key."
    )
    assert state.tone == "warning"


@pytest.mark.parametrize(
    ("stop", "word"),
    [
        (
            lambda key: APIKey.objects.filter(pk=key.pk).update(expires_at=T0 + minutes(3)),
            "expired",
        ),
        (
            lambda key: services.key_expose(
                key=key, source="url", actor=ACTOR, notify=False, now=T0 + minutes(3)
            ),
            "exposed",
        ),
    ],
)
def test_an_expired_or_exposed_successor_is_named_with_what_happened(old, stop, word):
    successor = rotate(old)
    use(successor, T0 + minutes(2))
    stop(successor)
    state = transition.transition(old, now=T0 + minutes(10))
    assert state.state == transition.NO_WORKING_SUCCESSOR
    assert f"is {word}: deactivating this key would leave no working key" in state.message


def test_confirmation_needs_the_working_successor_to_have_been_used(old):
    """A → B (used, then deactivated), A rotated again → B2: B's use proves nothing."""
    first = rotate(old)
    use(first, T0 + minutes(1))
    services.key_deactivate(key=first, actor=ACTOR, now=T0 + minutes(2))
    second = rotate(old, now=T0 + minutes(3))
    state = transition.transition(old, now=T0 + minutes(10))
    assert state.state == transition.WAITING
    assert state.successor == second and state.live_successor == second
    use(second, T0 + minutes(11))
    assert transition.transition(old, now=T0 + minutes(12)).state == transition.CONFIRMED


def test_a_disabled_old_key_with_an_unused_successor_is_not_a_complete_rotation(old):
    successor = rotate(old)
    services.key_deactivate(key=old, actor=ACTOR, now=T0 + minutes(1))
    state = transition.transition(old, now=T0 + minutes(2))
    assert state.state == transition.CLOSED
    assert state.message == "The old key is disabled; the new key has not been used yet."
    assert state.tone == "info"
    use(successor, T0 + minutes(3))
    state = transition.transition(old, now=T0 + minutes(4))
    assert state.message == "The old key is disabled; the rotation is complete."
    assert state.tone == "success"


def test_a_disabled_old_key_with_a_disabled_successor_says_no_key_works(old):
    successor = rotate(old)
    use(successor, T0 + minutes(1))
    services.key_deactivate(key=successor, actor=ACTOR, now=T0 + minutes(2))
    services.key_deactivate(key=old, actor=ACTOR, now=T0 + minutes(3))
    state = transition.transition(old, now=T0 + minutes(4))
    assert state.state == transition.CLOSED
    assert "no key of this rotation works" in state.message
    assert state.tone == "error"


def test_waiting_for_the_first_use_is_neutral_information_not_a_success(old):
    rotate(old)
    state = transition.transition(old, now=T0 + minutes(1))
    assert state.state == transition.WAITING
    assert state.tone == "info"


def test_the_chain_of_a_rerotated_key_is_its_line_not_its_whole_family(old):
    first = rotate(old)
    services.key_deactivate(key=first, actor=ACTOR, now=T0 + minutes(1))
    second = rotate(old, now=T0 + minutes(2))
    state = transition.transition(old, now=T0 + minutes(3))
    assert [step.key for step in state.chain] == [old, second]
    assert state.chain[0].also_rotated_to == [first]
    assert len(state.lineage) == 3
