"""apikeys.conf: one settings object; a host sets only what it changes."""

from __future__ import annotations

import pytest
from django.test import override_settings

from apikeys.conf import DEFAULTS, PREFIX, APIKeysSettings, apikeys_settings


def test_an_unset_setting_reads_its_default(settings):
    for name in ("RATE_LIMIT_FAILURES", "HEADER", "API_PREFIX"):
        if hasattr(settings, PREFIX + name):
            delattr(settings, PREFIX + name)
    assert apikeys_settings.RATE_LIMIT_FAILURES == DEFAULTS["RATE_LIMIT_FAILURES"] == 30
    assert apikeys_settings.HEADER == "X-Api-Key"
    assert apikeys_settings.API_PREFIX == "/api/"


def test_the_hosts_value_wins_and_a_change_takes_effect_at_once(settings):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 7
    assert apikeys_settings.RATE_LIMIT_FAILURES == 7
    settings.APIKEYS_RATE_LIMIT_FAILURES = 8
    assert apikeys_settings.RATE_LIMIT_FAILURES == 8


def test_override_settings_is_undone_on_exit():
    before = apikeys_settings.RATE_LIMIT_WINDOW
    with override_settings(APIKEYS_RATE_LIMIT_WINDOW=before + 11):
        assert before + 11 == apikeys_settings.RATE_LIMIT_WINDOW
    assert before == apikeys_settings.RATE_LIMIT_WINDOW


def test_a_read_value_is_kept_as_a_plain_attribute_until_a_setting_changes(settings):
    fresh = APIKeysSettings(DEFAULTS)
    assert "USAGE_RESOLUTION" not in vars(fresh)
    fresh.USAGE_RESOLUTION  # noqa: B018
    assert "USAGE_RESOLUTION" in vars(fresh)  # the next read never reaches __getattr__
    fresh.reload()
    assert "USAGE_RESOLUTION" not in vars(fresh)


@pytest.mark.parametrize(("debug", "required"), [(True, False), (False, True)])
def test_https_is_required_unless_debug_when_the_host_says_nothing(settings, debug, required):
    if hasattr(settings, "APIKEYS_REQUIRE_HTTPS"):
        del settings.APIKEYS_REQUIRE_HTTPS
    settings.DEBUG = debug
    assert apikeys_settings.REQUIRE_HTTPS is required


def test_an_unknown_name_is_an_attribute_error_that_names_the_setting():
    with pytest.raises(AttributeError, match="APIKEYS_NO_SUCH_THING is not an apikeys setting"):
        apikeys_settings.NO_SUCH_THING  # noqa: B018


def test_the_nunu_site_sets_no_default_of_its_own():
    """Every default lives in apikeys.conf; the site only names what it registers and what
    its environment overrides."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("APIKEYS_", "DJANGO_"))}
    code = (
        "import json; from nunu_admin import settings as s; "
        "print(json.dumps([n for n in dir(s) if n.startswith('APIKEYS_')]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert set(json.loads(result.stdout)) <= {
        "APIKEYS_SITE_NAME",
        "APIKEYS_PERMISSIONS",
        "APIKEYS_PRESETS",
        "APIKEYS_KEY_PREFIX",
        "APIKEYS_KEY_ACTIVITY",
    }
