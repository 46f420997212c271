"""Django's admin for superusers: every model, with ids and hashes read-only.

No secret can be seen here: the plaintext is never stored, and the argon2
hash is shown only as its parameters (``$argon2id$v=19$m=…``), never in full.
The audit log is read-only: no add, change or delete.
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


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
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
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "project", "role", "created_at")
    list_filter = ("role", "project")
    search_fields = ("user__username", "project__slug")


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
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
    # New keys are made in the dashboard or the CLI, where the secret is shown once.
    readonly_fields = (
        "key_id",
        "hash_parameters",
        "created_by",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "deactivated_at",
        "rotated_from",
        "rotated_at",
    )
    exclude = ("hashed_secret",)

    @admin.display(description="Hash")
    def hash_parameters(self, obj: APIKey) -> str:
        # "$argon2id$v=19$m=19456,t=2,p=1$…": the parameters, never the salt or digest.
        parts = (obj.hashed_secret or "").split("$")
        return "$".join(parts[:4]) + "$…" if len(parts) > 4 else "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(APIKeyPermissionUsage)
class APIKeyPermissionUsageAdmin(admin.ModelAdmin):
    list_display = ("key", "permission", "last_used_at")
    readonly_fields = ("key", "permission", "last_used_at")


@admin.register(APIKeyDailyUsage)
class APIKeyDailyUsageAdmin(admin.ModelAdmin):
    list_display = ("key", "date", "request_count", "refused_count")
    readonly_fields = ("key", "date", "request_count", "refused_count")


@admin.register(APIKeyRefusal)
class APIKeyRefusalAdmin(admin.ModelAdmin):
    list_display = ("key", "code", "count", "last_at", "last_ip")
    readonly_fields = ("key", "code", "count", "first_at", "last_at", "last_ip")


@admin.register(ExpiryNotice)
class ExpiryNoticeAdmin(admin.ModelAdmin):
    list_display = ("key", "threshold_days", "expires_at", "sent_at")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "project", "actor_username", "key_id", "key_name")
    list_filter = ("action", "project")
    search_fields = ("key_id", "key_name", "actor_username")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
