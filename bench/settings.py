"""Settings for `make bench` only: production settings plus the baseline it compares against.

djangorestframework-api-key's ``HasAPIKey`` is installed here and nowhere else,
with two trivial views under /bench/ (bench.urls), outside /api/ so that our
guard never touches them.
"""

import os

from nunu_admin.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework", "rest_framework_api_key"]  # noqa: F405
ROOT_URLCONF = "bench.urls"

# DEBUG is off, so {% static %} needs a manifest: bench.run collects into a temporary folder.
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]

# The baseline at its fastest, so the comparison is conservative: HasAPIKey is a
# permission and needs no authentication class; only JSON is ever rendered.
# Guard off (case b): the stand-in middleware of bench/middleware.py takes the guard's
# place, and the views get an unsaved key of this project.
if os.environ.get("BENCH_GUARD_OFF") == "1":
    MIDDLEWARE = [
        "bench.middleware.GuardOffMiddleware"
        if entry == "apikeys.middleware.APIKeyMiddleware"
        else entry
        for entry in MIDDLEWARE  # noqa: F405
    ]
    BENCH_PROJECT_ID = int(os.environ.get("BENCH_PROJECT_ID", "0"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
