"""Django's admin for superusers: every model, to look at, never to change.

Every write to keys, projects, members and the policy goes through
apikeys.services, which checks the policy and records an audit event; the
admin can do neither, so here nothing can be added, changed or deleted. A
superuser changes things in the dashboard (they act as admin in every
project) or with the commands (``createproject``, ``createapikey``, ``apikey``).

No secret can be seen here: the plaintext is never stored, and the argon2
hash is shown only as its parameters (``$argon2id$v=19$m=…``), never in full.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apikeys.models import (
    APIKey,
    APIKeyDailyUsage,
    APIKeyPermissionUsage,
    APIKeyRefusal,
    AuditEvent,
    ExpiryNotice,
    Membership,
    Project,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and detail pages; no add, change or delete (see the module's docstring)."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name not in (self.exclude or ())]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = readonly_fields = ("user", "role", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "slug",
        "max_key_lifetime_days",
        "expiry_required",
        "stale_threshold_days",
    )
    search_fields = ("name", "slug")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "project", "role", "created_at")
    list_filter = ("role", "project")
    search_fields = ("user__username", "project__slug")


@admin.register(APIKey)
class APIKeyAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "masked",
        "project",
        "is_active",
        "expires_at",
        "last_used_at",
        "created_at",
    )
    list_filter = ("project", "is_active")
    search_fields = ("name", "key_id")
    exclude = ("hashed_secret",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "hash_parameters"]

    @admin.display(description="Hash")
    def hash_parameters(self, obj: APIKey) -> str:
        # "$argon2id$v=19$m=19456,t=2,p=1$…": the parameters, never the salt or digest.
        parts = (obj.hashed_secret or "").split("$")
        return "$".join(parts[:4]) + "$…" if len(parts) > 4 else "—"


@admin.register(APIKeyPermissionUsage)
class APIKeyPermissionUsageAdmin(ReadOnlyAdmin):
    list_display = ("key", "permission", "last_used_at")


@admin.register(APIKeyDailyUsage)
class APIKeyDailyUsageAdmin(ReadOnlyAdmin):
    list_display = ("key", "date", "request_count", "refused_count")


@admin.register(APIKeyRefusal)
class APIKeyRefusalAdmin(ReadOnlyAdmin):
    list_display = ("key", "code", "count", "last_at", "last_ip")


@admin.register(ExpiryNotice)
class ExpiryNoticeAdmin(ReadOnlyAdmin):
    list_display = ("key", "threshold_days", "expires_at", "sent_at")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "project", "actor_username", "key_id", "key_name")
    list_filter = ("action", "project")
    search_fields = ("key_id", "key_name", "actor_username")
