"""gunicorn settings for production: `gunicorn nunu_admin.wsgi -c gunicorn.conf.py`."""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# The worker class is gthread: 2 workers x 2 threads (threads > 1 makes gunicorn choose
# it). Measured behind deploy/nginx.conf with bench/worker_class.py (wrk -t2 -c16, a valid
# key on GET /api/v1/runs, rounds of 8 s in alternating order) on a 2-core machine that
# other work shared (load average 7-11, so single figures are noisy; whole runs below):
#   sync 125 req/s (p99 438 ms)  vs gthread x4 366 req/s (p99 1136 ms)
#   sync 151 req/s (p99 181 ms)  vs gthread x4 158 req/s (p99 1240 ms)
#   sync 130 req/s (p99 231 ms)  vs gthread x4 183 req/s (p99 1291 ms)
#   sync  96 req/s (p99 707 ms)  vs gthread x2 197 req/s (p99 501 ms)
#   sync 132 req/s (p99 189 ms)  vs gthread x2 237 req/s (p99 433 ms)
# gthread never had less throughput than sync: it keeps nginx's upstream connections alive
# (sync closes each one; without upstream keep-alive sync reached 179 req/s, gthread 203).
# Its tail is longer (threads of one worker share the GIL): 4 threads tripled-to-sevenfold
# sync's p99, 2 threads kept 1.8-2x the throughput with a p99 about 2x sync's at most.
# Slow clients are nginx's business either way: gunicorn must never face the internet.
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Longer than nginx's idle upstream connections live (its keepalive_timeout, 60 s), so
# nginx never sends a request on a connection gunicorn is just closing.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
# The path without its query string (%(U)s, not %(r)s) and no Referer (%(f)s, the
# previous page's whole URL): a client that puts its key in the URL (?api_key=...) or an
# upload's signed part URL must not leave a credential in the log (SPEC §10).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
# The API guard memoises verified keys per process; recycling workers now and then
# bounds any slow growth without affecting correctness.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = 50 if max_requests else 0


def worker_exit(server, worker):
    """Write the usage counts this worker still holds in memory."""
    from apikeys.guard.usage import flush_all

    flush_all()
