"""The dashboard: Project Admin → API Keys. One line per page."""

from django.urls import path, register_converter

from . import views


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
