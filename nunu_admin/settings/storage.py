"""Static files (whitenoise), media, and build storage: local files or an S3 bucket."""

import os
from pathlib import Path
from typing import Any

from nunu_admin.settings.base import BASE_DIR, DEBUG
from nunu_admin.settings.env import env_int

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
