"""apikeys.permissions: the host's registry, read from settings on first use."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from apikeys.permissions import Permission, Preset, normalize, preset_for, registry

READ = Permission("reports:read", "Read reports", "List and read reports.", ("GET /r",))
WRITE = Permission("reports:write", "Write reports", "Create reports.", ("POST /r",))
HOST_PERMISSIONS = [READ, WRITE]
HOST_PRESETS = [Preset("reader", "Reader", "Read only.", ("reports:read",))]
TWICE = [READ, READ]
BAD_PRESET = [Preset("bad", "Bad", "Names a code nobody registered.", ("reports:delete",))]
NOT_A_PERMISSION = ["reports:read"]


@pytest.fixture
def host(settings):
    settings.APIKEYS_PERMISSIONS = f"{__name__}.HOST_PERMISSIONS"
    settings.APIKEYS_PRESETS = f"{__name__}.HOST_PRESETS"


def test_the_registry_is_the_hosts_lists_in_their_order(host):
    assert registry.codes == ("reports:read", "reports:write")
    assert registry.permissions["reports:write"] is WRITE
    assert list(registry.presets) == ["reader"]


def test_a_changed_setting_is_read_again(host, settings):
    assert "reports:read" in registry.permissions
    settings.APIKEYS_PRESETS = None
    assert registry.presets == {}


def test_normalize_orders_codes_as_registered_and_names_an_unknown_one(host):
    assert normalize(["reports:write", "reports:read", "reports:read"]) == [
        "reports:read",
        "reports:write",
    ]
    with pytest.raises(ValueError, match="Unknown permission 'project:read-runs'"):
        normalize(["project:read-runs"])
    with pytest.raises(ValueError, match="at least one"):
        normalize([])
    with pytest.raises(ValueError, match="list of permission codes"):
        normalize("reports:read")


def test_preset_for_finds_the_preset_with_exactly_these_codes(host):
    assert preset_for(["reports:read"]) is HOST_PRESETS[0]
    assert preset_for(["reports:read", "reports:write"]) is None


def test_without_presets_the_registry_has_none(settings):
    settings.APIKEYS_PERMISSIONS = f"{__name__}.HOST_PERMISSIONS"
    settings.APIKEYS_PRESETS = None
    assert registry.presets == {}


@pytest.mark.parametrize(
    ("permissions", "presets", "message"),
    [
        (None, None, "Set APIKEYS_PERMISSIONS"),
        (f"{__name__}.TWICE", None, "'reports:read' is listed twice"),
        (f"{__name__}.NOT_A_PERMISSION", None, "is not a apikeys.permissions.Permission"),
        (f"{__name__}.HOST_PERMISSIONS", f"{__name__}.BAD_PRESET", "unknown permissions"),
        ("tests.nowhere.PERMISSIONS", None, "cannot be imported"),
        ([], None, "lists no permission"),
    ],
)
def test_a_broken_registry_is_improperly_configured(settings, permissions, presets, message):
    settings.APIKEYS_PERMISSIONS = permissions
    settings.APIKEYS_PRESETS = presets
    with pytest.raises(ImproperlyConfigured, match=message):
        registry.permissions  # noqa: B018


def test_the_nunu_site_registers_its_three_permissions_from_api():
    from api import permissions as nunu

    assert registry.codes == nunu.PERMISSION_CODES
    assert list(registry.presets) == ["ci-cd", "monitoring", "build-upload"]
