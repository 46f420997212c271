"""Content-Security-Policy (SPEC §10 "Headers"): on every dashboard page, no inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", ROOT / "apikeys" / "templates"]
# An inline <script> (one without src=), an inline event handler, a javascript: URL or a
# style attribute: each would need 'unsafe-inline' (or a hash) to run under the policy.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:|\sstyle\s*=", re.IGNORECASE
)


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def dashboard_pages(project_slug: str, key_id: str) -> list[str]:
    keys = f"/projects/{project_slug}/admin/api-keys/"
    return [
        "/",
        "/projects/",
        keys,
        f"{keys}new/",
        f"{keys}{key_id}/",
        f"{keys}{key_id}/edit/",
        f"/projects/{project_slug}/admin/settings/",
        "/accounts/login/",
        "/no/such/page/",
    ]


@pytest.fixture
def signed_in(client: Client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def test_every_dashboard_page_sends_a_policy_without_unsafe_inline_script(
    signed_in, project, make_key
):
    key, _ = make_key(project)
    for path in dashboard_pages(project.slug, key.key_id):
        response = signed_in.get(path, follow=True)
        assert response.status_code < 500, path
        header = response.headers.get("Content-Security-Policy")
        assert header, f"{path} answered without a Content-Security-Policy"
        policy = directives(header)
        assert policy["script-src"] == ["'self'"], path
        assert policy["default-src"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header, path


def test_the_sign_in_page_has_the_policy_before_anyone_signs_in(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_api_answers_json_without_a_page_policy(api):
    # JSON is never rendered as a page; the guard's hot path stays free of the header.
    response = api(None).get("/api/v1/runs")
    assert response.status_code == 401
    assert "Content-Security-Policy" not in response.headers


def test_htmx_is_told_not_to_inject_styles_or_eval(client):
    html = client.get("/accounts/login/").content.decode()
    assert '"includeIndicatorStyles": false' in html
    assert '"allowEval": false' in html


@pytest.mark.parametrize(
    "template",
    sorted(p for folder in TEMPLATE_DIRS for p in folder.rglob("*.html")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_template_has_an_inline_script_handler_or_style(template):
    found = INLINE.findall(template.read_text())
    assert not found, f"{template.relative_to(ROOT)} has {found}: move it to static/js or css"
