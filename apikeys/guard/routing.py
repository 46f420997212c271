"""Which view a path under the API prefix names, and what that view declares.

The guard needs a view's declaration (apikeys.decorators) before it runs, so it
resolves the path before Django does. Resolving walks the URL patterns, tens
of regular expressions; the answer for a path never changes while the URL
configuration stays the same, so it is kept in a bounded LRU per resolver.
Django makes a new resolver whenever the URL configuration changes
(``clear_url_caches``, a changed ROOT_URLCONF), and the new resolver starts
with entries of its own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.urls import Resolver404, URLResolver, get_resolver, get_urlconf

from apikeys.decorators import access_of

# Distinct paths remembered: every list and detail URL of a busy API, with room to
# spare. Paths with ids (one per run) take turns in it; a path seen once costs what
# resolving always cost.
ROUTE_CACHE_SIZE = 2048
# A longer path is resolved each time, so the cache holds at most a few MB however
# long the paths a client sends.
MAX_CACHED_PATH_LENGTH = 256


@dataclass(frozen=True)
class Route:
    found: bool  # False: no URL pattern matches the path
    access: tuple[str, Any] | None  # the view's declaration; None when it declares nothing
    view_name: str


NOT_FOUND = Route(found=False, access=None, view_name="")


def route(path_info: str) -> Route:
    """The route of ``path_info`` in the URL configuration of this request."""
    resolver = get_resolver(get_urlconf())
    if len(path_info) > MAX_CACHED_PATH_LENGTH:
        return _resolve(resolver, path_info)
    return _cached(resolver, path_info)


@functools.lru_cache(maxsize=ROUTE_CACHE_SIZE)
def _cached(resolver: URLResolver, path_info: str) -> Route:
    return _resolve(resolver, path_info)


def _resolve(resolver: URLResolver, path_info: str) -> Route:
    try:
        match = resolver.resolve(path_info)
    except Resolver404:
        return NOT_FOUND
    return Route(found=True, access=access_of(match.func), view_name=match.view_name)


def clear() -> None:
    """Forget every route (tests that change URL patterns in place)."""
    _cached.cache_clear()
