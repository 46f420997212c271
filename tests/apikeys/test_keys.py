"""Key format, checksum and hashing (apikeys.keys). No database: keys.py imports no Django."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apikeys import keys

FAST = {"memory_cost": 1024, "time_cost": 1, "parallelism": 1}
generated_keys = st.builds(keys.generate)


def test_keys_py_imports_no_django():
    source = Path(keys.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import) django", source, re.MULTILINE)


def test_a_key_matches_the_published_pattern_and_length():
    key = keys.generate()
    assert re.fullmatch(keys.KEY_PATTERN, key.plaintext)
    assert len(key.plaintext) == keys.KEY_LENGTH == 56
    assert key.plaintext.startswith(f"nunu_{key.key_id}_{key.secret}")


def test_repr_never_shows_the_secret():
    key = keys.generate()
    parsed = keys.parse(key.plaintext)
    assert key.secret not in repr(key)
    assert key.secret not in repr(parsed)


@given(generated_keys)
def test_every_generated_key_parses_to_its_id_and_secret(key):
    assert keys.parse(key.plaintext) == keys.ParsedKey(key_id=key.key_id, secret=key.secret)


@given(st.one_of(st.text(), st.binary(), st.integers(), st.none(), st.lists(st.text())))
def test_no_input_makes_parse_raise(value):
    assert keys.parse(value) is None


@given(st.text(alphabet=keys.BASE62 + "_-+/= \n\x00é", min_size=50, max_size=60))
def test_near_miss_strings_never_raise(value):
    keys.parse("nunu_" + value)


@given(generated_keys, st.data())
def test_any_one_character_change_is_refused(key, data):
    position = data.draw(st.integers(min_value=0, max_value=len(key.plaintext) - 1))
    original = key.plaintext[position]
    replacement = data.draw(
        st.characters(codec="utf-8").filter(lambda c: c != original), label="replacement"
    )
    changed = key.plaintext[:position] + replacement + key.plaintext[position + 1 :]
    assert keys.parse(changed) is None


@given(generated_keys)
def test_a_truncated_or_extended_key_is_refused(key):
    assert keys.parse(key.plaintext[:-1]) is None
    assert keys.parse(key.plaintext + "0") is None


@settings(max_examples=5, deadline=None)
@given(generated_keys)
def test_the_hash_verifies_the_secret_and_nothing_else(key):
    hasher = keys.KeyHasher(**FAST)
    stored = hasher.hash(key.secret)
    assert stored.startswith("$argon2id$")
    assert key.secret not in stored
    assert hasher.verify(stored, key.secret)
    assert not hasher.verify(stored, keys.generate().secret)


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=1,t=1,p=1$$", "pbkdf2$x"])
def test_verify_answers_false_for_a_broken_stored_hash(stored):
    assert keys.KeyHasher(**FAST).verify(stored, "secret") is False


def test_a_hash_made_with_other_parameters_needs_rehash():
    old = keys.KeyHasher(**FAST).hash("secret")
    assert keys.KeyHasher(**FAST).needs_rehash(old) is False
    assert keys.KeyHasher(**{**FAST, "time_cost": 2}).needs_rehash(old) is True
    assert keys.KeyHasher(**FAST).needs_rehash("garbage") is True


def test_the_default_settings_are_owasps_minimum_for_argon2id():
    from apikeys.conf import DEFAULTS

    assert DEFAULTS["ARGON2_MEMORY_KIB"] == 19 * 1024
    assert DEFAULTS["ARGON2_TIME_COST"] == 2
    assert DEFAULTS["ARGON2_PARALLELISM"] == 1


def test_the_checksum_fits_its_six_characters():
    assert keys.checksum("") == keys._encode_base62(0, 6)
    assert len(keys._encode_base62(2**32 - 1, keys.CHECKSUM_LENGTH)) == 6
    assert 62**keys.CHECKSUM_LENGTH > 2**32
