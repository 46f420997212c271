"""gunicorn settings for production: `gunicorn nunu_admin.wsgi -c gunicorn.conf.py`."""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
# The API guard memoises verified keys per process; recycling workers now and then
# bounds any slow growth without affecting correctness.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = 50 if max_requests else 0


def worker_exit(server, worker):
    """Write the usage counts this worker still holds in memory."""
    from apikeys.guard.usage import flush_all

    flush_all()
