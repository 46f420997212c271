"""Transport security for production (SPEC §9: `check --deploy` clean) and the dashboard's
Content-Security-Policy (SPEC §10)."""

from nunu_admin.settings.base import DEBUG
from nunu_admin.settings.env import env_bool, env_int

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
