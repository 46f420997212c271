"""The project's URLs: the dashboard, the guarded API, sign-in and Django's admin."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("api.urls")),
    path("", include("apikeys.urls")),
]

# A database that is down answers a 503 page in the dashboard's look (SPEC §10).
handler500 = "apikeys.dashboard.unavailable.server_error"
