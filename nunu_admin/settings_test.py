"""Settings for the test suite: the production settings with a throwaway secret.

Everything else is the real configuration, so the tests exercise what runs in
production (DEBUG off, HTTPS required unless a test says otherwise).
"""

import os

os.environ.setdefault("DJANGO_ALLOW_DEV_SECRET_KEY", "1")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from nunu_admin.settings import *  # noqa: F403

# The tests speak plain HTTP through the test client; the HTTPS rule has its own tests.
APIKEYS_REQUIRE_HTTPS = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Cheaper argon2 keeps the suite fast; the parameters themselves are tested in test_keys.py.
APIKEYS_ARGON2_MEMORY_KIB = 1024
APIKEYS_ARGON2_TIME_COST = 1
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests never run collectstatic; serve static files straight from the app folders.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
