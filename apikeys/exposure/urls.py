"""The exposure endpoints, for a host to put under its API prefix (SPEC §11):

    from apikeys.exposure.urls import urlpatterns as exposure_urls
    urlpatterns = [..., path("api/", include(exposure_urls)), ...]

(nunu's api/urls.py lists them among its own, under ``v1/``.)
"""

from django.urls import path

from apikeys.exposure import views

urlpatterns = [
    path(
        "v1/secret-scanning/github",
        views.github_secret_scanning,
        name="secret-scanning-github",
    ),
    path("v1/credentials/revoke", views.credentials_revoke, name="credentials-revoke"),
]
