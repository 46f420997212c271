"""The dashboard: Project Admin → API Keys. One line per page."""

from django.urls import path, register_converter

from apikeys.dashboard import views


class KeyIdConverter:
    """A key's public id: 12 base62 characters (so ``new`` is never taken for one)."""

    regex = "[0-9A-Za-z]{12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(KeyIdConverter, "keyid")

app_name = "apikeys"

KEYS = "projects/<slug:slug>/admin/api-keys/"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("projects/", views.project_list, name="project-list"),
    path("projects/<slug:slug>/admin/", views.project_admin, name="project-admin"),
    path(KEYS, views.key_list, name="key-list"),
    path(f"{KEYS}new/", views.wizard_start, name="key-new"),
    path(f"{KEYS}new/<str:wizard_id>/<str:step>/", views.wizard_step, name="key-new-step"),
    path(f"{KEYS}<keyid:key_id>/", views.key_detail, name="key-detail"),
    path(f"{KEYS}<keyid:key_id>/edit/", views.key_edit, name="key-edit"),
    path(f"{KEYS}<keyid:key_id>/deactivate/", views.key_deactivate, name="key-deactivate"),
    path(f"{KEYS}<keyid:key_id>/reactivate/", views.key_reactivate, name="key-reactivate"),
    path(f"{KEYS}<keyid:key_id>/delete/", views.key_delete, name="key-delete"),
]

# Issue 5: rotation, audit log, security review, settings (policy and members).
from apikeys.dashboard.views import audit, policy, rotation, security  # noqa: E402


class ExportFormatConverter(KeyIdConverter):
    regex = "csv|json"


class ReportConverter(KeyIdConverter):
    regex = "findings|access-review"


register_converter(ExportFormatConverter, "exportfmt")
register_converter(ReportConverter, "report")

ADMIN = "projects/<slug:slug>/admin/"

urlpatterns += [
    path(f"{KEYS}<keyid:key_id>/rotate/", rotation.key_rotate, name="key-rotate"),
    path(f"{ADMIN}audit/", audit.audit_log, name="audit-log"),
    path(f"{ADMIN}audit/export.<exportfmt:fmt>", audit.audit_export_view, name="audit-export"),
    path(f"{ADMIN}security/", security.security_review, name="security"),
    path(
        f"{ADMIN}security/<report:report>.<exportfmt:fmt>",
        security.security_export,
        name="security-export",
    ),
    path(f"{ADMIN}settings/", policy.project_settings, name="settings"),
    path(f"{ADMIN}settings/members/add/", policy.member_add, name="member-add"),
    path(f"{ADMIN}settings/members/<int:user_id>/role/", policy.member_role, name="member-role"),
    path(
        f"{ADMIN}settings/members/<int:user_id>/remove/", policy.member_remove, name="member-remove"
    ),
]
