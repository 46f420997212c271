"""Front ends of the guard for other frameworks: ``drf`` (Django REST framework) and
``ninja`` (django-ninja). Each is imported only by a host that uses it, and runs the
decision path of :mod:`apikeys.guard.decision`, so a key is judged the same wherever
it is presented.

Declarations made outside URL patterns (a ninja operation's ``APIKeyAuth``) are
recorded here so that the system check can name an unknown code.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_declared: list[tuple[str, str]] = []


def declare(code: str, where: str) -> None:
    with _lock:
        _declared.append((code, where))


def declared_elsewhere() -> list[tuple[str, str]]:
    with _lock:
        return list(_declared)
