"""The project's URLs: the dashboard, the guarded API, sign-in and Django's admin."""

from django.contrib import admin
from django.urls import include, path

from apikeys.dashboard.throttle import throttled
from apikeys.dashboard.views import login

urlpatterns = [
    # Both sign-in forms answer 429 past the failed sign-in limits (SPEC §10), before
    # the password hasher runs; these come before the includes that also define them.
    path("accounts/login/", login, name="login"),
    path("admin/login/", throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("api.urls")),
    path("", include("apikeys.urls")),
]

# A database that is down answers a 503 page in the dashboard's look (SPEC §10).
handler500 = "apikeys.dashboard.unavailable.server_error"
