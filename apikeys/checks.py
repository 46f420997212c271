"""System checks: every view under /api/ declares who may call it (deny by default),
and, under ``check --deploy``, the limits are counted in a cache every process shares.

The guard refuses every request to a view that declares nothing; this check
makes the mistake visible at `manage.py check` (and so in CI) rather than as
a 403 in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.urls import URLPattern, URLResolver, get_resolver

from apikeys.conf import apikeys_settings
from apikeys.decorators import KINDS, access_of

API_ROUTE_PREFIX = "api/"


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern).lstrip("^").removesuffix("$")
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def _view_name(view: Any) -> str:
    view = getattr(view, "view_class", view)
    return f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', repr(view))}"


@register(Tags.security, Tags.urls)
def check_api_views_declare_access(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith(API_ROUTE_PREFIX):
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
                    "authenticated_by(...).",
                    obj=_view_name(pattern.callback),
                    id="apikeys.E001",
                )
            )
    return errors


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
            "(django.core.cache.backends.redis.RedisCache; for this site, set REDIS_URL).",
            id="apikeys.W001",
        )
    ]
