"""System checks: the host's registry is sound, every guarded view declares a real code,
and, under ``check --deploy``, the limits are counted in a cache every process shares.

* apikeys.E001: a view under the API prefix declares no access, so the guard
  refuses every request to it (deny by default).
* apikeys.E002: a view under the API prefix declares an unknown kind of access.
* apikeys.E005: a view (a decorated function, a DRF view's ``required_permission``,
  a ninja ``APIKeyAuth(permission=...)``) names a code no registered permission
  has; no key can ever hold it, so the view is refused to everyone.
* apikeys.E003: the registry cannot be read (APIKEYS_PERMISSIONS unset or wrong,
  a preset naming an unknown code).
* apikeys.E004: APIKEYS_KEY_PREFIX is not letters and digits.
* apikeys.W002: views declare API key access but MIDDLEWARE has no
  ``apikeys.middleware.APIKeyMiddleware``: each declared view still judges its own
  requests (its decorator fails closed), but an undeclared view under the API prefix
  is open and errors there are Django's HTML pages.
* apikeys.E006: a view guarded by a front end of apikeys.contrib is set up so that it
  refuses wrongly (a DRF view without a ``required_permission``, a ninja API using
  ``APIKeyAuth`` that was not passed to ``install()``).

Declarations are checked here, not when a decorator runs: a view module may be
imported before the host's registry can be read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string

from apikeys import contrib, keys
from apikeys.conf import apikeys_settings
from apikeys.decorators import BY_METHOD, KEY_REQUIRED, KINDS, PERMISSION, access_of, declared_codes
from apikeys.permissions import registry


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern).lstrip("^").removesuffix("$")
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def _view_name(view: Any) -> str:
    view = getattr(view, "view_class", None) or getattr(view, "cls", None) or view
    return f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', repr(view))}"


def _codes_of(callback: Any) -> list[str]:
    """Every permission code a view names, whichever front end guards it."""
    codes = declared_codes(access_of(callback))
    view_class = getattr(callback, "cls", None)  # Django REST framework's as_view()
    declared = getattr(view_class, "required_permission", None)
    if isinstance(declared, str):
        codes.append(declared)
    elif isinstance(declared, dict):
        codes.extend(code for code in declared.values() if isinstance(code, str))
    return codes


@register(Tags.security)
def check_registry(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    try:
        registry.permissions  # noqa: B018  (reads and validates the host's lists)
    except ImproperlyConfigured as error:
        errors.append(
            Error(
                str(error),
                hint="APIKEYS_PERMISSIONS names an iterable of apikeys.permissions.Permission; "
                "APIKEYS_PRESETS an iterable of apikeys.permissions.Preset.",
                id="apikeys.E003",
            )
        )
    try:
        keys.KeyFormat(apikeys_settings.KEY_PREFIX)
    except ValueError as error:
        errors.append(Error(f"APIKEYS_KEY_PREFIX: {error}", id="apikeys.E004"))
    return errors


@register(Tags.security, Tags.urls)
def check_api_views_declare_access(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    api_route = apikeys_settings.API_PREFIX.lstrip("/")
    try:
        known: set[str] | None = set(registry.permissions)
    except ImproperlyConfigured:
        known = None  # apikeys.E003 says why
    front_end_problems: list[str] = []
    for route, pattern in _walk(get_resolver().url_patterns):
        for problem in contrib.problems_of(pattern.callback):
            if problem not in front_end_problems:  # ninja: one pattern per operation
                front_end_problems.append(problem)
        if known is not None:
            for code in _codes_of(pattern.callback):
                if code not in known:
                    errors.append(_unknown_code(code, f"The view {_view_name(pattern.callback)}"))
        if not route.startswith(api_route):
            continue
        access = access_of(pattern.callback)
        if access is not None and access[0] not in KINDS:
            errors.append(
                Error(
                    f"The view {_view_name(pattern.callback)} at /{route} declares an unknown "
                    f"kind of access {access[0]!r}, so the API guard refuses every request to it.",
                    hint="Use the decorators of apikeys.decorators rather than setting "
                    "the attribute by hand.",
                    obj=_view_name(pattern.callback),
                    id="apikeys.E002",
                )
            )
        if access is None:
            errors.append(
                Error(
                    f"The view {_view_name(pattern.callback)} at /{route} declares no access, "
                    "so the API guard refuses every request to it.",
                    hint="Decorate it with apikeys.decorators.require_permission(CODE), "
                    "require_permissions_by_method({...}), key_required, public or "
                    "authenticated_by(...); a DRF view takes "
                    "apikeys.contrib.drf.HasAPIKeyPermission, a ninja operation "
                    "apikeys.contrib.ninja.APIKeyAuth(permission=CODE).",
                    obj=_view_name(pattern.callback),
                    id="apikeys.E001",
                )
            )
    errors.extend(Error(problem, id="apikeys.E006") for problem in front_end_problems)
    if known is not None:
        for code, where in contrib.declared_elsewhere():
            if code not in known:
                errors.append(_unknown_code(code, where))
    return errors


def _unknown_code(code: str, where: str) -> Error:
    return Error(
        f"{where} requires the permission {code!r}, which APIKEYS_PERMISSIONS does not "
        "register, so no key can call it.",
        hint=f"Register {code!r} or correct the spelling; known: "
        + ", ".join(registry.codes)
        + ".",
        obj=where,
        id="apikeys.E005",
    )


# Caches that every process does not share: the API's rate limit, the argon2 budget,
# the shared digests and the sign-in throttle would count per process (or not at all),
# so an attacker spreading guesses over workers and hosts gets N times the limit.
_PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps one copy per process",
    "django.core.cache.backends.dummy.DummyCache": "stores nothing",
}


@register(Tags.security, Tags.caches, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    alias = apikeys_settings.CACHE_ALIAS
    backend = str(settings.CACHES.get(alias, {}).get("BACKEND", ""))
    why = _PER_PROCESS_CACHES.get(backend)
    if why is None:
        return []
    return [
        Warning(
            f"The cache {alias!r} ({backend.rsplit('.', 1)[-1]}) {why}, so the API's rate "
            "limit, the argon2 budget per key and the sign-in throttle count per process: "
            "with several workers or hosts an attacker gets that many times the limits.",
            hint="Point CACHES to a cache every process shares, such as Redis "
            "(apikeys.contrib.redis.RedisCache; for this site, set REDIS_URL).",
            id="apikeys.W001",
        )
    ]


MIDDLEWARE_PATH = "apikeys.middleware.APIKeyMiddleware"


@register(Tags.security, Tags.urls)
def check_middleware_installed(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if any(_is_the_guard(entry) for entry in settings.MIDDLEWARE):
        return []
    declared = [
        pattern.callback
        for _, pattern in _walk(get_resolver().url_patterns)
        if (access_of(pattern.callback) or ("",))[0] in {PERMISSION, BY_METHOD, KEY_REQUIRED}
    ]
    if not declared:
        return []
    return [
        Warning(
            f"{len(declared)} view(s) declare API key access (the first: "
            f"{_view_name(declared[0])}), but MIDDLEWARE has no API key middleware: each "
            "judges its own requests, yet a view under the API prefix that declares "
            "nothing is open to everyone, and errors there are HTML, not JSON.",
            hint=f"Add {MIDDLEWARE_PATH!r} to MIDDLEWARE, first or before SecurityMiddleware.",
            id="apikeys.W002",
        )
    ]


def _is_the_guard(entry: str) -> bool:
    from apikeys.middleware import APIKeyMiddleware

    try:
        found = import_string(entry)
    except ImportError:
        return False  # Django reports a middleware that cannot be imported itself
    return isinstance(found, type) and issubclass(found, APIKeyMiddleware)
