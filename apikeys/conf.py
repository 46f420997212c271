"""Every ``APIKEYS_*`` setting with its default, in one place (as django-rest-knox does).

A host sets only what it changes, in its Django settings, under the names below
with the ``APIKEYS_`` prefix; code reads them here, without the prefix:

    from apikeys.conf import apikeys_settings
    apikeys_settings.RATE_LIMIT_FAILURES

A value is read from ``django.conf.settings`` once and then kept as a plain
attribute, so the guard's several reads per request cost one attribute lookup
each. Django's ``setting_changed`` signal (``override_settings``, pytest-django's
``settings`` fixture) drops the kept values, so a changed setting takes effect
at once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from apikeys import keys

PREFIX = "APIKEYS_"

DEFAULTS: dict[str, Any] = {
    # --- What the host registers (apikeys.permissions) ---
    # Dotted path to an iterable of apikeys.permissions.Permission; the one setting a host needs.
    "PERMISSIONS": None,
    # Dotted path to an iterable of apikeys.permissions.Preset; none by default.
    "PRESETS": None,
    # --- Where keys are presented ---
    # The text before a key's first "_": "<prefix>_<id>_<secret><checksum>". Letters and digits.
    "KEY_PREFIX": keys.DEFAULT_PREFIX,
    # The request header that carries the key.
    "HEADER": "X-Api-Key",
    # The path prefix the middleware guards; everything else passes untouched.
    "API_PREFIX": "/api/",
    # Dotted path to a callable(key, limit) -> list of the host's objects made with the key,
    # shown on the key page ("Runs started with this key" in nunu); None shows nothing.
    "KEY_ACTIVITY": None,
    # The dashboard's name in page titles, its header and the expiry e-mails' subject.
    "SITE_NAME": "API keys",
    # --- The guard ---
    # Plain HTTP under API_PREFIX answers 403 HTTPS_REQUIRED. None: required unless DEBUG.
    "REQUIRE_HTTPS": None,
    # Failed attempts per client IP before 429 RATE_LIMITED (SPEC §4 check 8).
    "RATE_LIMIT_ENABLED": True,
    "RATE_LIMIT_FAILURES": 30,
    "RATE_LIMIT_WINDOW": 300,  # seconds; windows are fixed
    # The shared cache (apikeys.guard.sharedcache): the alias in CACHES it uses, and how many
    # seconds, after a failed call, it answers from process memory before trying again.
    "CACHE_ALIAS": "default",
    "CACHE_RETRY_INTERVAL": 5,
    # Failed dashboard sign-ins before the sign-in page answers 429 (SPEC §10): per username
    # and client, and per client whatever the username, counted for SIGNIN_WINDOW seconds (a
    # lockout lasts as long). 0 switches that limit off.
    "SIGNIN_USER_FAILURES": 5,
    "SIGNIN_CLIENT_FAILURES": 50,
    "SIGNIN_WINDOW": 900,
    # Behind N reverse proxies, the client is the N-th X-Forwarded-For entry from the right.
    "TRUSTED_PROXY_COUNT": 0,
    # Usage (last used, daily counts) is written at most once per key per this many seconds
    # per process.
    "USAGE_RESOLUTION": 60,
    # Days the per-address usage (which client IPs used a key, per day) is kept; `manage.py
    # prune_usage`, from cron, removes older rows. At least the 30 days the security review
    # reads (apikeys.reports.base.ADDRESS_WINDOW_DAYS).
    "ADDRESS_USAGE_DAYS": 90,
    # How many verified secrets each process remembers, so argon2 runs once per key.
    "VERIFIED_CACHE_SIZE": 10000,
    # Seconds a verified secret's keyed digest is remembered after its last use, in each
    # process and in the shared cache, so argon2 runs about once per key per cluster.
    "VERIFIED_TIMEOUT": 3600,
    # argon2 refusals per key id per window (seconds) before that id's secrets are checked
    # against verified digests only (SPEC §10): past it, guessing costs no argon2.
    "SECRET_FAILURES": 10,
    "SECRET_FAILURES_WINDOW": 300,
    # argon2 refusals for all key ids together in the last such window (a sliding window):
    # past it, a secret no process verified recently is not checked until the count has
    # decayed under it (429 RATE_LIMITED; a sustained flood gets one argon2 run every
    # window / total seconds), so a flood over many real ids costs no more argon2 either.
    # 0 switches the total off.
    "SECRET_FAILURES_TOTAL": 50,
    # --- Exposed keys (SPEC §11) ---
    # Seconds before an exposure e-mail to the key's creator and admins gives up (the
    # exposure itself never waits on mail beyond this, once per batch).
    "MAIL_TIMEOUT": 10,
    # GitHub secret scanning: the JSON file of GitHub's public keys
    # (manage.py refresh_github_scanning_keys writes it). Empty: every report is refused.
    "GITHUB_SCANNING_KEYS_FILE": "",
    # Larger report bodies are refused unread (1,000 tokens take about 300 KB).
    "GITHUB_SCANNING_MAX_BODY": 1024 * 1024,
    # The public revocation API: requests per client (IPv4 address, IPv6 /64) per window.
    "REVOCATION_RATE_LIMIT": 60,
    "REVOCATION_RATE_WINDOW": 3600,  # seconds
    # argon2 runs one revocation request may spend on secrets not verified recently.
    "REVOCATION_MAX_VERIFICATIONS": 10,
    # --- Hashing: OWASP's minimum for argon2id (19 MiB of memory, 2 iterations, 1 lane) ---
    "ARGON2_MEMORY_KIB": 19456,
    "ARGON2_TIME_COST": 2,
    "ARGON2_PARALLELISM": 1,
}


class APIKeysSettings:
    """Attribute access to the settings: the host's value, else the default."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        self._defaults = defaults
        self._cached: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        # Only called for names not yet kept as attributes (the slow path, once per name).
        if name not in self._defaults:
            raise AttributeError(f"{PREFIX}{name} is not an apikeys setting.")
        value = getattr(settings, PREFIX + name, self._defaults[name])
        if name == "REQUIRE_HTTPS" and value is None:
            value = not settings.DEBUG
        self._cached.add(name)
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        for name in self._cached:
            delattr(self, name)
        self._cached.clear()


apikeys_settings = APIKeysSettings(DEFAULTS)


def under_api(path: str) -> bool:
    """Whether ``path`` is the API's: under API_PREFIX, or the prefix itself without its
    slash (``/api``), which a client typing the base URL must get JSON for too."""
    prefix = apikeys_settings.API_PREFIX
    return path.startswith(prefix) or path == prefix.rstrip("/")


def key_format() -> keys.KeyFormat:
    """The shape of this host's keys (APIKEYS_KEY_PREFIX)."""
    return keys.key_format(apikeys_settings.KEY_PREFIX)


# Everything that keeps a value derived from a setting registers here to be told it changed.
_reload_hooks: list[Any] = []


def on_reload(hook: Any) -> Any:
    """Register ``hook()`` to run when an APIKEYS_* setting (or DEBUG) changes."""
    _reload_hooks.append(hook)
    return hook


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(PREFIX) or setting == "DEBUG":
        apikeys_settings.reload()
        for hook in _reload_hooks:
            hook()
