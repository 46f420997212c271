"""(g) The key list page with 10,000 keys: server time to render page 1 (50 keys).

Measured two ways, both as the project's admin: in this process through
Django's test client (the server's own time: middleware, queries, template,
nothing else), and through the running gunicorn one request at a time (what a
browser waits for, minus the network).
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass

TARGET_MS = 100.0
_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{12}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class PageResult:
    url: str
    status: int
    in_process_ms: list[float]
    gunicorn_ms: list[float]
    queries: int
    body_bytes: int
    rows_seen: int  # distinct seeded key ids found in the page

    @property
    def median_ms(self) -> float:
        return statistics.median(self.in_process_ms)

    @property
    def gunicorn_median_ms(self) -> float:
        return statistics.median(self.gunicorn_ms) if self.gunicorn_ms else float("nan")


def list_url(slug: str) -> str | None:
    """The list page's URL, or None while the dashboard has not landed."""
    from django.urls import NoReverseMatch, reverse

    for name in ("apikeys:key_list", "apikeys:list", "apikeys:api_keys", "apikeys:key-list"):
        try:
            return reverse(name, kwargs={"slug": slug})
        except NoReverseMatch:
            continue
    from django.urls import Resolver404, resolve

    url = f"/projects/{slug}/admin/api-keys/"
    try:
        resolve(url)
    except Resolver404:
        return None
    return url


def measure(  # type: ignore[no-untyped-def]
    slug: str, user, key_ids: set[str], *, renders: int, port: int | None
) -> PageResult | None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench import servers

    url = list_url(slug)
    if url is None:
        return None
    # Without setup_test_environment() templates are not instrumented: production rendering.
    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    client.force_login(user)
    response = client.get(url)
    status = response.status_code
    if status != 200:
        return PageResult(url, status, [float("nan")], [], 0, len(response.content), 0)
    for _ in range(3):  # warm the template cache and the connection
        client.get(url)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(url).content
    # Now: the next request's request_started signal empties the log it reads from.
    query_count = len(queries)
    timings = []
    for _ in range(renders):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)

    over_gunicorn = []
    if port is not None:
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookie = f"{settings.SESSION_COOKIE_NAME}={session}"
        headers = {"Cookie": cookie}
        for index in range(renders + 3):
            started = time.perf_counter()
            answer, _, _ = servers.get(port, url, headers=headers)
            if index >= 3 and answer == 200:
                over_gunicorn.append((time.perf_counter() - started) * 1000)
    return PageResult(
        url=url,
        status=status,
        in_process_ms=timings,
        gunicorn_ms=over_gunicorn,
        queries=query_count,
        body_bytes=len(body),
        rows_seen=len(key_ids & set(_TOKEN.findall(body.decode(errors="replace")))),
    )


def case_lines(admin, *, keys: int, renders: int, port: int) -> list[str]:  # type: ignore[no-untyped-def]
    """(g): make ``keys`` keys in a project of their own, measure its list page, say how."""
    from apikeys.conf import apikeys_settings
    from bench import seed

    step = time.monotonic()
    keys_for_page = seed.cheap_hashed_keys(keys, prefix=apikeys_settings.KEY_PREFIX)
    slug = seed.seed_dashboard_project(admin, keys_for_page)
    key_ids = {key.key_id for key in keys_for_page}
    del keys_for_page
    made = time.monotonic() - step
    result = measure(slug, admin, key_ids, renders=renders, port=port)
    title = f"g  key list page, {keys:,} keys in the project, page 1"
    if result is None:
        return [f"{title}: SKIPPED, the page is not there yet (no URL for the key list)"]
    if result.status != 200:
        return [f"{title}: SKIPPED, {result.url} answered {result.status} to the project's admin"]
    lines = [
        f"{title} ({result.url}; {made:.1f} s to make the keys)",
        f"   in process (server time): median {result.median_ms:.1f} ms, "
        f"max {max(result.in_process_ms):.1f} ms over {len(result.in_process_ms)} renders; "
        f"{result.queries} queries; {result.body_bytes:,} bytes; "
        f"{result.rows_seen} seeded key ids on the page",
    ]
    if result.gunicorn_ms:
        lines.append(
            f"   through gunicorn, one at a time: median {result.gunicorn_median_ms:.1f} ms"
        )
    if result.median_ms < TARGET_MS:
        lines.append(f"g = {result.median_ms:.1f} ms   target < {TARGET_MS:.0f} ms: met")
    else:
        over = (result.median_ms - TARGET_MS) / TARGET_MS * 100
        lines.append(
            f"MISSED g = {result.median_ms:.1f} ms >= {TARGET_MS:.0f} ms (over by {over:.0f}%)"
        )
    return lines
