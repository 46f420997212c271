"""SPEC §10: a database that refuses or never answers gets a 503 in bounded time, never a 500.

Each case runs the site in a child process whose DATABASE_URL points at a port
this test controls (refused, or a listener that accepts and never answers), and
asks it through Django's test client: the API answers JSON 503
SERVICE_UNAVAILABLE with Retry-After, the dashboard its own 503 page.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import refused_port

ROOT = Path(__file__).resolve().parents[2]

# Runs in the child: every request the table below names, answered as JSON lines.
CHILD = r"""
import json, os, django
django.setup()
from django.test import Client
from apikeys.conf import key_format
key = key_format().generate().plaintext
client = Client(raise_request_exception=False)
answers = {}
def record(name, response):
    answers[name] = {
        "status": response.status_code,
        "type": response.get("Content-Type", ""),
        "retry_after": response.get("Retry-After"),
        "body": response.content.decode()[:2000],
    }
record("api_runs", client.get("/api/v1/runs", headers={"X-Api-Key": key}))
record("api_post", client.post("/api/v1/runs", "{}", content_type="application/json",
                               headers={"X-Api-Key": key}))
record("api_no_key", client.get("/api/v1/runs"))
record("sign_in", client.post("/accounts/login/", {"username": "a", "password": "b"}))
client.cookies["sessionid"] = "x" * 32
record("dashboard", client.get("/"))
print(json.dumps(answers))
"""


def run_site_against(database_url: str) -> dict[str, dict]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nunu_admin.settings_test",
        "DATABASE_URL": database_url,
        "DATABASE_CONNECT_TIMEOUT": "2",  # libpq's minimum
        "DATABASE_CONN_MAX_AGE": "0",
    }
    env.pop("REDIS_URL", None)
    # timeout: a hang fails the test (generous: this measures no speed).
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_unavailable(answers: dict[str, dict]) -> None:
    for name in ("api_runs", "api_post"):
        answer = answers[name]
        assert answer["status"] == 503, (name, answer)
        assert answer["type"].startswith("application/json")
        body = json.loads(answer["body"])
        assert body["code"] == "SERVICE_UNAVAILABLE"
        assert body["details"]["request_id"]
        assert answer["retry_after"] and int(answer["retry_after"]) > 0
    # No key needs no database: the guard's own answer.
    assert answers["api_no_key"]["status"] == 401
    for name in ("sign_in", "dashboard"):
        answer = answers[name]
        assert answer["status"] == 503, (name, answer["status"], answer["body"][:500])
        assert answer["type"].startswith("text/html")
        assert "Temporarily unavailable" in answer["body"]
        assert 'id="container"' in answer["body"]  # the dashboard's own layout
        assert "Traceback" not in answer["body"]
        assert answer["retry_after"]


def test_a_refused_database_answers_503(silent_listener):
    assert_unavailable(run_site_against(f"postgres://nunu@127.0.0.1:{refused_port()}/nunu"))


def test_a_database_that_accepts_and_never_answers_answers_503_after_the_connect_timeout(
    silent_listener,
):
    answers = run_site_against(f"postgres://nunu@127.0.0.1:{silent_listener.port}/nunu")
    assert_unavailable(answers)
    assert silent_listener.accepted  # it really was asked, and said nothing


@pytest.mark.parametrize("status", [503])
def test_an_html_503_under_the_api_becomes_the_json_envelope(rf, status):
    from django.http import HttpResponse

    from apikeys.middleware import as_json_error

    request = rf.get("/api/v1/runs")
    page = HttpResponse("<html>down</html>", status=status)
    page["Retry-After"] = "5"
    response = as_json_error(request, page)
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "SERVICE_UNAVAILABLE"
    assert response["Retry-After"] == "5"
