"""Shared fixtures: projects, members, keys made through the services, API calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from api.permissions import PERMISSION_CODES
from apikeys import services
from apikeys.guard import digests
from apikeys.models import APIKey, Membership, Project
from tests.faults import private_redis, silent_listener  # noqa: F401 (fixtures)

# A project of its own, with its own settings: `make test` runs it in a second pytest
# invocation (tests/example_host/pytest.ini), never with the nunu site's settings.
collect_ignore = ["example_host"]


@pytest.fixture(autouse=True)
def _fresh_process_state(settings):
    """Each test starts with an empty cache and no usage or verification memo."""
    from django.core.cache import cache

    from apikeys.guard.sharedcache import shared_cache

    cache.clear()
    shared_cache.reset()
    try:
        from apikeys.guard import usage

        reset = getattr(usage, "reset_for_tests", None)
        if reset is not None:
            reset()
    except ImportError:
        pass
    yield


@pytest.fixture(autouse=True)
def _no_secret_at_rest(request, monkeypatch):
    """SPEC §3: after each test that used the database, the secret of every key the
    test generated is nowhere at rest: tables, sessions, cache, log output."""
    uses_db = "_django_db_helper" in request.fixturenames or request.node.get_closest_marker(
        "django_db"
    )
    if not uses_db:
        yield
        return
    import logging

    from apikeys import keys
    from tests.secrets_at_rest import RecordingHandler, leaks

    request.getfixturevalue("_django_db_helper")  # torn down after this fixture
    generated: list[str] = []
    original = keys.generate

    def recording_generate(*args: Any, **kwargs: Any) -> keys.GeneratedKey:
        key = original(*args, **kwargs)
        generated.append(key.secret)
        return key

    monkeypatch.setattr(keys, "generate", recording_generate)
    handler = RecordingHandler()
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
    found = leaks(generated, handler.lines)
    assert not found, "A key's secret is stored or logged:\n" + "\n".join(found)


@pytest.fixture
def project(db) -> Project:
    return Project.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_project(db) -> Project:
    return Project.objects.create(slug="other", name="Other")


@pytest.fixture
def make_user(db) -> Callable[..., Any]:
    def make(username: str, *, project: Project | None = None, role: str | None = None, **extra):
        user = get_user_model().objects.create_user(
            username=username, password="correct horse battery staple", **extra
        )
        if project is not None and role is not None:
            Membership.objects.create(project=project, user=user, role=role)
        return user

    return make


@pytest.fixture
def admin_user(make_user, project):
    return make_user("alice", project=project, role="admin")


@pytest.fixture
def auditor_user(make_user, project):
    return make_user("audrey", project=project, role="auditor")


@pytest.fixture
def make_key(db) -> Callable[..., tuple[APIKey, str]]:
    """make_key(project, permissions=[...], **kwargs) -> (key, plaintext)."""
    counter = {"n": 0}

    def make(
        project: Project,
        permissions: list[str] | tuple[str, ...] = PERMISSION_CODES,
        *,
        name: str | None = None,
        remembered: bool = False,
        **kwargs: Any,
    ) -> tuple[APIKey, str]:
        counter["n"] += 1
        key, plaintext = services.key_create(
            project=project,
            name=name or f"key {counter['n']}",
            permissions=list(permissions),
            actor=services.Actor.cli("test"),
            **kwargs,
        )
        if not remembered:
            # As a key made long ago and not used since: no process remembers its
            # secret, so its first request runs argon2 (key_create shares it at once).
            digests.forget_secret(key)
        return key, plaintext

    return make


@pytest.fixture
def bulk_keys(db) -> Callable[..., list[APIKey]]:
    """bulk_keys(project, count, name="k{n:03d}", permissions=[...]): rows for lists and
    plans, made in one INSERT, without the service (no audit, no argon2: their secrets
    verify nothing)."""
    made = {"n": 0}

    def make(
        project: Project,
        count: int,
        *,
        name: str = "k{n:03d}",
        permissions: list[str] | tuple[str, ...] = PERMISSION_CODES,
    ) -> list[APIKey]:
        start = made["n"]
        made["n"] += count
        return APIKey.objects.bulk_create(
            [
                APIKey(
                    project=project,
                    key_id=f"bulk{start + n:08d}",
                    hashed_secret="x",
                    name=name.format(n=n),
                    permissions=list(permissions),
                )
                for n in range(count)
            ]
        )

    return make


class APIClient:
    """A test client that sends X-Api-Key and JSON, and decodes JSON answers."""

    def __init__(self, key: str | None = None) -> None:
        self.client = Client()
        self.key = key

    def _headers(self, key: str | None, headers: dict[str, str] | None) -> dict[str, str]:
        sent = dict(headers or {})
        chosen = self.key if key is None else key
        if chosen:
            sent["X-Api-Key"] = chosen
        return sent

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        data = json.dumps(body) if body is not None and not isinstance(body, str | bytes) else body
        return self.client.generic(
            method,
            path,
            data=data or "",
            content_type="application/json",
            headers=self._headers(key, headers),
            **extra,
        )

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any):
        return self.request("POST", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api() -> Callable[[str | None], APIClient]:
    return APIClient
