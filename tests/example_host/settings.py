"""Acme's settings: only what SPEC §12 says a host of apikeys needs, and a few of the
APIKEYS_* settings changed from their defaults so the tests show they are read."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "the-example-host-of-apikeys-in-the-tests-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "apikeys",
]
MIDDLEWARE = [
    "apikeys.middleware.APIKeyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
ROOT_URLCONF = "tests.example_host.urls"
# The sign-in page apikeys ships (the dashboard include serves it at login/).
LOGIN_URL = "apikeys:login"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
# The tests never run collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

APIKEYS_PERMISSIONS = "tests.example_host.permissions.PERMISSIONS"
APIKEYS_PRESETS = "tests.example_host.permissions.PRESETS"
APIKEYS_KEY_PREFIX = "acme"
APIKEYS_HEADER = "X-Acme-Key"
APIKEYS_API_PREFIX = "/v1/"
APIKEYS_SITE_NAME = "Acme keys"
# Cheap argon2: the parameters themselves are tested with the nunu site.
APIKEYS_ARGON2_MEMORY_KIB = 1024
APIKEYS_ARGON2_TIME_COST = 1
