"""Key format, checksum and hashing (apikeys.keys). No database: keys.py imports no Django."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apikeys import keys

FAST = {"memory_cost": 1024, "time_cost": 1, "parallelism": 1}
generated_keys = st.builds(keys.generate)


def test_keys_py_imports_no_django():
    # In a fresh interpreter: importing apikeys.keys must load no Django module at all.
    probe = "import sys, apikeys.keys; print(sorted(m for m in sys.modules if 'django' in m))"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(keys.__file__).resolve().parents[1],
        timeout=60,
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("prefix", [keys.DEFAULT_PREFIX, "nunu", "x"])
def test_a_key_matches_the_published_pattern_and_length(prefix):
    key = keys.generate(prefix=prefix)
    shape = keys.key_format(prefix)
    assert re.fullmatch(shape.pattern, key.plaintext)
    assert len(key.plaintext) == shape.length == len(prefix) + 52
    assert key.plaintext.startswith(f"{prefix}_{key.key_id}_{key.secret}")
    assert keys.parse(key.plaintext, prefix=prefix) is not None


def test_a_key_is_refused_under_another_prefix():
    key = keys.generate(prefix="nunu")
    assert keys.parse(key.plaintext, prefix="acme") is None
    assert keys.parse(key.plaintext) is None


@pytest.mark.parametrize("prefix", ["", "has_underscore", "dash-ed", "é", "x" * 21, None])
def test_a_prefix_is_letters_and_digits(prefix):
    with pytest.raises(ValueError, match="letters and digits"):
        keys.KeyFormat(prefix)  # type: ignore[arg-type]


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
def test_near_miss_strings_are_refused_unless_they_are_a_well_formed_key(value):
    parsed = keys.parse("nunu_" + value, prefix="nunu")
    # Only a string that is exactly a key (id, secret and a matching checksum) parses.
    assert (
        parsed is None
        or keys.format_key(parsed.key_id, parsed.secret, prefix="nunu") == "nunu_" + value
    )


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


@given(st.text(alphabet=keys.BASE62 + "_", max_size=60))
def test_every_checksum_is_six_base62_characters(body):
    # CRC32 reaches 2**32 - 1; six base62 digits must hold any of its values.
    digest = keys.checksum(body)
    assert len(digest) == keys.CHECKSUM_LENGTH == 6
    assert set(digest) <= set(keys.BASE62)


def test_the_checksum_is_the_keys_last_six_characters():
    key = keys.generate()
    body = key.plaintext[: -keys.CHECKSUM_LENGTH]
    assert key.plaintext.endswith(keys.checksum(body))
    assert keys.checksum(body) != keys.checksum(body[:-1] + ("0" if body[-1] != "0" else "1"))
