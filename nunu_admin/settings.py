"""Settings for nunu admin, read from the environment (README, "Configuration").

Every value a deployment may change comes from an environment variable with a
safe default for a developer's machine; production refuses to start without
a real DJANGO_SECRET_KEY.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {value!r}.") from None


DEBUG = env_bool("DJANGO_DEBUG", False)

_DEV_SECRET_KEY = "django-insecure-dev-only-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("DJANGO_ALLOW_DEV_SECRET_KEY") != "1":
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 on a developer's machine)."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get(
        "DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else ""
    ).split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "apikeys",
    "api",
]

MIDDLEWARE = [
    # The guard answers every /api/ request first: before SecurityMiddleware could
    # redirect an HTTP request (which would make the client resend its key in clear),
    # and before sessions or CSRF, which an API key request never needs.
    "apikeys.middleware.APIKeyMiddleware",
    # A database that is down answers the dashboard's 503 page, never a 500 (SPEC §10).
    "apikeys.dashboard.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "nunu_admin.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

WSGI_APPLICATION = "nunu_admin.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections: the guard's one query per request must not pay
        # for a new connection each time.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # SPEC §10: a database that is down or hung answers 503 in bounded time.
    # - connect_timeout: a refused or silent server fails the connection after this
    #   many seconds (libpq's minimum is 2), instead of the OS's minutes.
    # - statement_timeout (server-side): a query the server is slow to answer is
    #   cancelled before gunicorn's 30 s worker timeout, so the client gets a 503
    #   rather than a killed worker. DATABASE_STATEMENT_TIMEOUT=0 switches it off
    #   (e.g. for one long migration).
    # - tcp_user_timeout and keepalives (client-side): a server host that vanished
    #   mid-query (no ACKs) drops the connection after ~10 s instead of TCP's ~15 min.
    #   A server process that is frozen while its kernel still ACKs is bounded only
    #   by gunicorn's worker timeout; no client-side socket option can tell it from
    #   a slow query.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    _statement_timeout = env_int("DATABASE_STATEMENT_TIMEOUT", 20)
    if _statement_timeout > 0:
        _pg_options["options"] = (
            _pg_options.get("options", "") + f" -c statement_timeout={_statement_timeout * 1000}"
        ).strip()
    _pg_options.setdefault("tcp_user_timeout", 10_000)
    _pg_options.setdefault("keepalives", 1)
    _pg_options.setdefault("keepalives_idle", 10)
    _pg_options.setdefault("keepalives_interval", 5)
    _pg_options.setdefault("keepalives_count", 3)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "nunu",
            # SPEC §10: a dead or hung Redis costs at most this per call, and the
            # guard's circuit breaker (apikeys.guard.sharedcache) makes that one call
            # per APIKEYS_CACHE_RETRY_INTERVAL, not one per request. (redis-py's pooled
            # connections do not retry by default: a retry would double what a hung
            # cache costs.)
            "OPTIONS": {
                "socket_connect_timeout": env_float("REDIS_CONNECT_TIMEOUT", 0.25),
                "socket_timeout": env_float("REDIS_TIMEOUT", 0.25),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "nunu-admin",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# --- Build storage (SPEC §4 "Uploads"; api.storage) ---
# Local files under MEDIA_ROOT by default; an S3 bucket (django-storages) when a bucket is named.
BUILD_STORAGE_BUCKET = os.environ.get("BUILD_STORAGE_BUCKET", "")
MiB = 1024 * 1024
# At or above this declared size an upload is multipart; below it, one PUT.
BUILDS_MULTIPART_THRESHOLD = env_int("BUILDS_MULTIPART_THRESHOLD", 100 * MiB)
# nunu's API hands out 100 MB parts; S3 needs at least 5 MiB for all parts but the last.
BUILDS_PART_SIZE = env_int("BUILDS_PART_SIZE", 100 * MiB)
# The largest build accepted (S3's own limit for one object is 5 TiB).
BUILDS_MAX_SIZE = env_int("BUILDS_MAX_SIZE", 10 * 1024 * MiB)
# Minutes an upload may stay incomplete (the request's upload_timeout may say 1–1440).
BUILDS_UPLOAD_TIMEOUT_SINGLE = env_int("BUILDS_UPLOAD_TIMEOUT_SINGLE", 10)
BUILDS_UPLOAD_TIMEOUT_MULTIPART = env_int("BUILDS_UPLOAD_TIMEOUT_MULTIPART", 60)
if BUILD_STORAGE_BUCKET:
    _s3_options = {
        "bucket_name": BUILD_STORAGE_BUCKET,
        "region_name": os.environ.get("AWS_S3_REGION_NAME")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
        # MinIO, moto or another S3-compatible endpoint; empty means AWS itself.
        "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
        "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None,
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
    }
    STORAGES["builds"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
else:
    STORAGES["builds"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # A retried part replaces the bytes of the failed attempt.
        "OPTIONS": {"location": MEDIA_ROOT, "allow_overwrite": True},
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "nunu-admin@localhost")

# --- Production transport security (SPEC §9; `check --deploy` clean) ---
if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = not DEBUG and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
# Never redirect /api/: a redirect makes the client send its key again in clear.
# The guard answers 403 HTTPS_REQUIRED there instead (SPEC §4 check 1).
SECURE_REDIRECT_EXEMPT = [r"^api/"]
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every page but /api/ (JSON, no browser renders it; the
# guard's hot path stays header-free): scripts, styles and everything else only from
# our own origin, so an injected <script> or onclick= never runs. No 'unsafe-inline'
# and no 'unsafe-eval': templates carry no inline script, style or event handler
# (apikeys/static/apikeys/dashboard.js wires behaviour up), and htmx is told not to inject its
# indicator <style> or eval anything (the htmx-config meta tag in apikeys/base.html).
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/"],
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- API keys (README, "Configuration"; every default is in apikeys/conf.py) ---
APIKEYS_PERMISSIONS = "api.permissions.PERMISSIONS"
APIKEYS_PRESETS = "api.permissions.PRESETS"
APIKEYS_KEY_PREFIX = "nunu"
APIKEYS_KEY_ACTIVITY = "api.selectors.runs_started_by"
APIKEYS_SITE_NAME = "nunu admin"
# A deployment may change any of these from its environment; unset, apikeys' default holds.
for _name in (
    "APIKEYS_ARGON2_MEMORY_KIB",
    "APIKEYS_ARGON2_TIME_COST",
    "APIKEYS_ARGON2_PARALLELISM",
    "APIKEYS_USAGE_RESOLUTION",
    "APIKEYS_VERIFIED_CACHE_SIZE",
    "APIKEYS_VERIFIED_TIMEOUT",
    "APIKEYS_SECRET_FAILURES",
    "APIKEYS_SECRET_FAILURES_WINDOW",
    "APIKEYS_RATE_LIMIT_FAILURES",
    "APIKEYS_RATE_LIMIT_WINDOW",
    "APIKEYS_TRUSTED_PROXY_COUNT",
    "APIKEYS_MAIL_TIMEOUT",
    "APIKEYS_GITHUB_SCANNING_MAX_BODY",
    "APIKEYS_REVOCATION_RATE_LIMIT",
    "APIKEYS_REVOCATION_RATE_WINDOW",
    "APIKEYS_REVOCATION_MAX_VERIFICATIONS",
    "APIKEYS_SIGNIN_USER_FAILURES",
    "APIKEYS_SIGNIN_CLIENT_FAILURES",
    "APIKEYS_SIGNIN_WINDOW",
):
    if os.environ.get(_name, "") != "":
        globals()[_name] = env_int(_name, 0)
for _name in ("APIKEYS_CACHE_RETRY_INTERVAL",):
    if os.environ.get(_name, "") != "":
        globals()[_name] = env_float(_name, 0)
if os.environ.get("APIKEYS_GITHUB_SCANNING_KEYS_FILE", "") != "":
    APIKEYS_GITHUB_SCANNING_KEYS_FILE = os.environ["APIKEYS_GITHUB_SCANNING_KEYS_FILE"]
# Unset, HTTPS is required unless DEBUG.
for _name in ("APIKEYS_RATE_LIMIT_ENABLED", "APIKEYS_REQUIRE_HTTPS"):
    if os.environ.get(_name, "") != "":
        globals()[_name] = env_bool(_name, False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # One line per API request would flood a benchmark; refusals are WARNING.
        "apikeys.requests": {"level": os.environ.get("APIKEYS_REQUEST_LOG_LEVEL", "WARNING")},
    },
}
