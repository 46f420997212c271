"""Fixtures of the example host: a project, an admin member, keys made by the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from apikeys import services
from apikeys.models import APIKey, Membership, Project


@pytest.fixture(autouse=True)
def _fresh_guard_state():
    """Each test starts with an empty cache and no usage or verification memo."""
    from django.core.cache import cache

    from apikeys.guard import usage
    from apikeys.guard.sharedcache import shared_cache

    cache.clear()
    shared_cache.reset()
    usage.reset_for_tests()


@pytest.fixture
def project(db) -> Project:
    return Project.objects.create(slug="reports", name="Reports")


@pytest.fixture
def admin(db, project):
    user = get_user_model().objects.create_user(username="alice", password="not used here")
    Membership.objects.create(project=project, user=user, role="admin")
    return user


@pytest.fixture
def make_key(project) -> Callable[..., tuple[APIKey, str]]:
    def make(permissions: list[str], **kwargs: Any) -> tuple[APIKey, str]:
        return services.key_create(
            project=project,
            name=f"key {APIKey.objects.count() + 1}",
            permissions=permissions,
            actor=services.Actor.cli("acme-tests"),
            **kwargs,
        )

    return make
