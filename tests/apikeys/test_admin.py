"""Django's admin: every page answers (never a 500); nothing there writes around services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from api.permissions import READ_RUNS
from apikeys.models import (
    APIKey,
    APIKeyDailyUsage,
    APIKeyPermissionUsage,
    APIKeyRefusal,
    AuditEvent,
    ExpiryNotice,
)

REGISTERED = [model for model in apps.get_models() if admin.site.is_registered(model)]
APIKEYS_MODELS = [model for model in REGISTERED if model._meta.app_label == "apikeys"]


def admin_url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def every_row(project, make_key, make_user, admin_user):
    """One row of every apikeys model, so each change page has something to show."""
    key, _ = make_key(project, [READ_RUNS])
    now = timezone.now()
    APIKeyPermissionUsage.objects.create(key=key, permission=READ_RUNS, last_used_at=now)
    APIKeyDailyUsage.objects.create(key=key, date=now.date(), request_count=3)
    APIKeyRefusal.objects.create(
        key=key, code="DISABLED_API_KEY", count=1, first_at=now, last_at=now
    )
    ExpiryNotice.objects.create(key=key, threshold_days=7, expires_at=now + timedelta(days=3))
    return key


@pytest.fixture
def superuser_client(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1234")
    client.force_login(root)
    return client


def test_every_apikeys_model_is_in_the_admin():
    assert {m.__name__ for m in APIKEYS_MODELS} >= {
        "Project", "Membership", "APIKey", "APIKeyPermissionUsage", "APIKeyDailyUsage",
        "APIKeyRefusal", "AuditEvent", "ExpiryNotice",
    }  # fmt: skip


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m.__name__)
def test_every_admin_page_answers_without_a_server_error(superuser_client, every_row, model):
    assert superuser_client.get(admin_url(model, "changelist")).status_code == 200
    assert superuser_client.get(admin_url(model, "add")).status_code < 500
    row = model._default_manager.first()
    if row is not None:
        assert superuser_client.get(admin_url(model, "change", row.pk)).status_code == 200


@pytest.mark.parametrize("model", APIKEYS_MODELS, ids=lambda m: m.__name__)
def test_apikeys_rows_cannot_be_added_or_deleted_in_the_admin(superuser_client, every_row, model):
    assert superuser_client.get(admin_url(model, "add")).status_code == 403
    row = model._default_manager.first()
    assert (
        superuser_client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code
        == 403
    )
    assert model._default_manager.filter(pk=row.pk).exists()


def test_a_keys_permissions_project_and_expiry_cannot_be_changed_in_the_admin(
    superuser_client, every_row, other_project
):
    key = every_row
    events = AuditEvent.objects.count()
    response = superuser_client.post(
        admin_url(APIKey, "change", key.pk),
        {
            "project": other_project.pk,
            "name": key.name,
            "permissions": '["project:everything"]',
            "expires_at_0": "2099-01-01",
            "expires_at_1": "00:00:00",
            "is_active": "on",
        },
    )
    assert response.status_code == 403
    key.refresh_from_db()
    assert (key.project_id, key.permissions, key.expires_at) == (
        every_row.project_id,
        [READ_RUNS],
        None,
    )
    assert AuditEvent.objects.count() == events


def test_the_key_page_shows_the_hash_parameters_but_not_the_hash(superuser_client, every_row):
    page = superuser_client.get(admin_url(APIKey, "change", every_row.pk)).content.decode()
    assert "$argon2id$v=19$" in page
    assert every_row.hashed_secret not in page
