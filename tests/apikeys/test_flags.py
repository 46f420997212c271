"""One flag vocabulary: the list, the CLI and the access review name a key's flags alike."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apikeys import selectors
from apikeys.flags import KEY_STATE_FLAGS, KeyFlag, flag_q, key_flags
from apikeys.reports import review


def test_every_flag_has_one_spelling_with_hyphens_and_a_label():
    for flag in KeyFlag:
        assert "_" not in flag.value
        assert KeyFlag.parse(flag.value.replace("-", "_")) is flag
        assert flag.label[0].isupper()
    assert KeyFlag.parse("nonsense") is None


def test_an_unknown_filter_is_a_clear_error(project):
    with pytest.raises(ValueError, match="Unknown flag 'nonsense'"):
        flag_q("nonsense", project, timezone.now())


@pytest.mark.django_db
def test_list_cli_and_review_report_the_same_flags_for_each_key(project, make_key):
    now = timezone.now()
    make_key(project, name="never used, no expiry")
    make_key(project, name="expires soon", expires_at=now + timedelta(days=2))
    stale, _ = make_key(project, name="stale", expires_at=now + timedelta(days=60))
    stale.last_used_at = stale.created_at = now - timedelta(days=100)
    stale.save()

    listed = {
        row.key.key_id: [code for code, _ in row.flags]
        for row in selectors.key_list(project, selectors.KeyListParams(), now=now).rows
    }
    out = StringIO()
    call_command("apikey", "list", "--project", project.slug, "--format", "json", stdout=out)
    cli = {row["id"]: row["flags"] for row in json.loads(out.getvalue())}
    reviewed = {
        row["key_id"]: [flag for flag in row["flags"] if flag in KEY_STATE_FLAGS]
        for row in review.access_review(project, now=now)
    }
    assert listed == cli == reviewed
    by_model = {
        key.key_id: [str(f) for f in key_flags(key, now, stale_threshold_days=45)]
        for key in project.api_keys.all()
    }
    assert listed == by_model
    assert listed[stale.key_id] == ["stale"]
    assert set().union(*listed.values()) == {"stale", "expires-soon", "no-expiry", "never-used"}
