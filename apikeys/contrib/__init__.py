"""Front ends of the guard for other frameworks: ``drf`` (Django REST framework) and
``ninja`` (django-ninja). Each is imported only by a host that uses it (nothing else in
apikeys imports ``rest_framework`` or ``ninja``), and runs the decision path of
:mod:`apikeys.guard.decision` through :mod:`apikeys.guard.frontend`, so a key is judged
the same wherever it is presented: same checks, codes, bodies, usage and refusal records.

How the middleware treats their views. A DRF or ninja view under APIKEYS_API_PREFIX
declares nothing the middleware can read (no ``@require_permission``), so by deny by
default the middleware would refuse it to every key, and judging it there as well as in
the framework would count each request twice. Instead, each front end registers here,
when its module is imported, how to recognise the views it guards (a DRF view whose
``permission_classes`` hold ``HasAPIKeyPermission``; a ninja path whose every operation
has an ``APIKeyAuth``). :func:`apikeys.decorators.access_of` asks :func:`access_of` for a
view that declares nothing itself, and the middleware lets a ``("front-end", name)`` view
through to its framework after check 1 without authenticating it; it still gives the
answer its ``X-Request-Id`` and keeps Django's own errors JSON. A framework view it does
not recognise is refused as before and named by ``manage.py check`` (apikeys.E001).

Declarations made outside URL patterns (a ninja operation's ``APIKeyAuth``) are
recorded with :func:`declare` so that the system check can name an unknown code; a
front end's misconfigurations (:func:`problems_of`) are apikeys.E006.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Access = tuple[str, Any]

_lock = threading.Lock()
_declared: list[tuple[str, str]] = []
# (recognise a view -> its access or None, a view's misconfigurations), one per front end.
_front_ends: list[tuple[Callable[[Any], Access | None], Callable[[Any], list[str]]]] = []


def declare(code: str, where: str) -> None:
    with _lock:
        _declared.append((code, where))


def declared_elsewhere() -> list[tuple[str, str]]:
    with _lock:
        return list(_declared)


def register(access: Callable[[Any], Access | None], problems: Callable[[Any], list[str]]) -> None:
    """Called once by each front end module when it is imported."""
    with _lock:
        if (access, problems) not in _front_ends:
            _front_ends.append((access, problems))


def access_of(view: Any) -> Access | None:
    """The access a front end gives a view that declares none itself, if one guards it."""
    for recognise, _ in _front_ends:
        found = recognise(view)
        if found is not None:
            return found
    return None


def problems_of(view: Any) -> list[str]:
    """Sentences naming what makes a front end's view refuse wrongly (for the checks)."""
    found: list[str] = []
    for _, problems in _front_ends:
        found.extend(problems(view))
    return found
