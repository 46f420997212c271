"""The host's permissions: what a key may do with Acme's reports."""

from apikeys.permissions import Permission, Preset

READ_REPORTS = "reports:read"
WRITE_REPORTS = "reports:write"

PERMISSIONS = (
    Permission(
        READ_REPORTS,
        "Read reports",
        "List the reports and read one.",
        ("GET /v1/reports", "GET /v1/drf/reports", "GET /v1/ninja/reports"),
    ),
    Permission(
        WRITE_REPORTS,
        "Write reports",
        "File a new report.",
        ("POST /v1/reports", "POST /v1/drf/reports", "POST /v1/ninja/reports"),
    ),
)

PRESETS = (
    Preset("reader", "Reader", "Reads reports, changes nothing.", (READ_REPORTS,)),
    Preset("editor", "Editor", "Reads and files reports.", (READ_REPORTS, WRITE_REPORTS)),
)
