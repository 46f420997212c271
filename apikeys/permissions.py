"""Permissions and presets: the host registers them, apikeys only reads the registry.

A host lists its permissions and presets in its own module and names them in
its settings (SPEC §12)::

    # myproject/permissions.py
    from apikeys.permissions import Permission, Preset
    READ_REPORTS = "reports:read"
    PERMISSIONS = [Permission(READ_REPORTS, "Read reports", "List and read reports.",
                              ("GET /api/reports",))]
    PRESETS = [Preset("read-only", "Read only", "Read everything.", (READ_REPORTS,))]

    # settings.py
    APIKEYS_PERMISSIONS = "myproject.permissions.PERMISSIONS"
    APIKEYS_PRESETS = "myproject.permissions.PRESETS"        # optional

The registry is read on first use, not at import, so modules that declare
permissions (views, decorators) never depend on the order apps load in, and
it is read again when a setting changes (tests). Mistakes in it (a duplicate
code, a preset naming an unknown permission, a missing setting) are
ImproperlyConfigured on first use and ``manage.py check`` errors (apikeys.checks).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from apikeys.conf import apikeys_settings, on_reload

# A code is what a key stores and a view declares: short, printable, no spaces.
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,99}")


@dataclass(frozen=True)
class Permission:
    code: str
    label: str
    description: str
    # What it opens, as "METHOD /path" lines for people (the wizard, the docs).
    endpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preset:
    slug: str
    label: str
    description: str
    permissions: tuple[str, ...]


class Registry:
    """The host's permissions and presets, in the order it lists them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._permissions: dict[str, Permission] | None = None
        self._presets: dict[str, Preset] = {}
        self._codes: tuple[str, ...] = ()

    @property
    def permissions(self) -> dict[str, Permission]:
        permissions = self._permissions
        if permissions is None:
            permissions = self._load()
        return permissions

    @property
    def codes(self) -> tuple[str, ...]:
        if self._permissions is None:
            self._load()
        return self._codes

    @property
    def presets(self) -> dict[str, Preset]:
        if self._permissions is None:
            self._load()
        return self._presets

    def reset(self) -> None:
        with self._lock:
            self._permissions = None
            self._presets = {}
            self._codes = ()

    def _load(self) -> dict[str, Permission]:
        with self._lock:
            if self._permissions is not None:
                return self._permissions
            permissions = _permissions_from(apikeys_settings.PERMISSIONS)
            presets = _presets_from(apikeys_settings.PRESETS, permissions)
            self._presets = presets
            self._codes = tuple(permissions)
            self._permissions = permissions
            return permissions


def _setting(value: Any, name: str) -> Iterable[Any]:
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError as error:
            raise ImproperlyConfigured(
                f"APIKEYS_{name} = {value!r} cannot be imported: {error}"
            ) from error
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ImproperlyConfigured(
            f"APIKEYS_{name} must name an iterable of apikeys.permissions objects, "
            f"not {type(value).__name__}."
        )
    return value


def _permissions_from(value: Any) -> dict[str, Permission]:
    if value is None:
        raise ImproperlyConfigured(
            "Set APIKEYS_PERMISSIONS to the dotted path of your list of "
            "apikeys.permissions.Permission (README, 'Using apikeys in another Django project')."
        )
    permissions: dict[str, Permission] = {}
    for permission in _setting(value, "PERMISSIONS"):
        if not isinstance(permission, Permission):
            raise ImproperlyConfigured(
                f"APIKEYS_PERMISSIONS holds {permission!r}, which is not a "
                "apikeys.permissions.Permission."
            )
        if not CODE_RE.fullmatch(permission.code):
            raise ImproperlyConfigured(
                f"Permission code {permission.code!r} must be 1-100 letters, digits and :._- "
                "starting with a letter or digit."
            )
        if permission.code in permissions:
            raise ImproperlyConfigured(f"Permission {permission.code!r} is listed twice.")
        permissions[permission.code] = permission
    if not permissions:
        raise ImproperlyConfigured("APIKEYS_PERMISSIONS lists no permission.")
    return permissions


def _presets_from(value: Any, permissions: dict[str, Permission]) -> dict[str, Preset]:
    if value is None:
        return {}
    presets: dict[str, Preset] = {}
    for preset in _setting(value, "PRESETS"):
        if not isinstance(preset, Preset):
            raise ImproperlyConfigured(
                f"APIKEYS_PRESETS holds {preset!r}, which is not a apikeys.permissions.Preset."
            )
        if preset.slug in presets:
            raise ImproperlyConfigured(f"Preset {preset.slug!r} is listed twice.")
        unknown = [code for code in preset.permissions if code not in permissions]
        if unknown or not preset.permissions:
            raise ImproperlyConfigured(
                f"Preset {preset.slug!r} names "
                + (f"unknown permissions {unknown}." if unknown else "no permission.")
            )
        presets[preset.slug] = preset
    return presets


registry = Registry()
on_reload(registry.reset)


def normalize(codes: object) -> list[str]:
    """The given codes in registry order, or ValueError naming the first unknown one."""
    if isinstance(codes, str) or not isinstance(codes, Iterable):
        raise ValueError("Permissions must be a list of permission codes.")
    known = registry.permissions
    chosen = set()
    for code in codes:
        if code not in known:
            raise ValueError(
                f"Unknown permission {code!r}; choose from {', '.join(registry.codes)}."
            )
        chosen.add(code)
    if not chosen:
        raise ValueError("A key needs at least one permission.")
    return [code for code in registry.codes if code in chosen]


def preset_for(codes: list[str] | tuple[str, ...]) -> Preset | None:
    """The preset with exactly these permissions, if there is one."""
    wanted = set(codes)
    for preset in registry.presets.values():
        if set(preset.permissions) == wanted:
            return preset
    return None
