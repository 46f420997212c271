"""The apikeys app's settings for nunu (README, "Configuration"; every default is in
apikeys/conf.py): what nunu registers, and what a deployment's environment overrides."""

import os

from nunu_admin.settings.env import env_bool, env_float, env_int

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
    "APIKEYS_ADDRESS_USAGE_DAYS",
    "APIKEYS_VERIFIED_CACHE_SIZE",
    "APIKEYS_VERIFIED_TIMEOUT",
    "APIKEYS_SECRET_FAILURES",
    "APIKEYS_SECRET_FAILURES_WINDOW",
    "APIKEYS_SECRET_FAILURES_TOTAL",
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
