"""apikeys.selectors.lineage: the family of a key, the working successor, and the one
chain of rotations through a key (a re-rotated key's abandoned successors beside it)."""

from __future__ import annotations

import pytest

from apikeys import selectors, services
from tests.apikeys.rotation_helpers import ACTOR, T0, make_deploy_key, minutes, rotate


@pytest.fixture
def old(project, make_key):
    return make_deploy_key(project, make_key)


def keys_of(chain):
    return [step.key.key_id for step in chain]


def test_a_key_never_rotated_has_no_live_successor(old):
    assert selectors.live_successor(old, now=T0) is None


def test_the_live_successor_is_the_newest_working_descendant(old):
    b = rotate(old)
    assert selectors.live_successor(old, now=T0) == b
    c = rotate(b, now=T0 + minutes(1))
    assert selectors.live_successor(old, now=T0 + minutes(2)) == c
    services.key_deactivate(key=c, actor=ACTOR, now=T0 + minutes(2))
    assert selectors.live_successor(old, now=T0 + minutes(3)) == b


def test_a_rerotated_key_chains_to_its_working_successor_and_names_the_abandoned_one(old):
    abandoned = rotate(old)
    services.key_deactivate(key=abandoned, actor=ACTOR, now=T0 + minutes(1))
    current = rotate(old, now=T0 + minutes(2))
    family = selectors.lineage(old)

    chain = selectors.rotation_chain(old, family, now=T0 + minutes(3))
    assert keys_of(chain) == [old.key_id, current.key_id]
    assert chain[0].also_rotated_to == [abandoned]
    assert chain[1].also_rotated_to == []
    # Seen from the newer key, the chain is the same line, not the whole family.
    assert keys_of(selectors.rotation_chain(current, family, now=T0 + minutes(3))) == [
        old.key_id,
        current.key_id,
    ]


def test_without_a_working_successor_the_chain_runs_to_the_newest_descendant(old):
    b = rotate(old)
    c = rotate(b, now=T0 + minutes(1))
    for key in (b, c):
        services.key_deactivate(key=key, actor=ACTOR, now=T0 + minutes(2))
    chain = selectors.rotation_chain(old, selectors.lineage(old), now=T0 + minutes(3))
    assert keys_of(chain) == [old.key_id, b.key_id, c.key_id]
