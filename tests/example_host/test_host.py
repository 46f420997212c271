"""apikeys alone in another project: its permissions, key prefix, header and API
prefix; one resource guarded by the middleware, DRF and ninja; the dashboard."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apikeys import services
from apikeys.conf import key_format
from apikeys.guard import usage
from apikeys.models import APIKey, APIKeyDailyUsage, APIKeyRefusal
from tests.example_host.permissions import READ_REPORTS, WRITE_REPORTS

HOST = Path(__file__).resolve().parent
ROOT = HOST.parents[1]
FRONT_ENDS = {"django": "/v1/reports", "drf": "/v1/drf/reports", "ninja": "/v1/ninja/reports"}


@pytest.fixture(params=sorted(FRONT_ENDS))
def front_end(request) -> tuple[str, str]:
    return request.param, FRONT_ENDS[request.param]


def call(method: str, path: str, key: str | None = None, *, secure: bool = True, **extra):
    headers = {"X-Acme-Key": key} if key is not None else {}
    return Client().generic(method, path, secure=secure, headers=headers, **extra)


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["error"].endswith(".")
    return body


def test_keys_carry_the_hosts_prefix(make_key):
    _, plaintext = make_key([READ_REPORTS])
    assert plaintext.startswith("acme_")
    assert key_format().parse(plaintext) is not None


def test_each_front_end_accepts_a_good_key(front_end, make_key):
    name, path = front_end
    key, plaintext = make_key([READ_REPORTS, WRITE_REPORTS])
    read = call("GET", path, plaintext)
    assert read.status_code == 200, read.content
    assert read.json() == {
        "data": [{"id": 1, "title": "Quarterly"}],
        "front_end": name,
        "key_id": key.key_id,
        "method": "GET",
    }
    assert call("POST", path, plaintext).status_code in {200, 201}
    usage.flush_all()
    assert APIKeyDailyUsage.objects.get(key=key).request_count == 2


def test_each_front_end_refuses_a_missing_key_with_the_hosts_header(front_end, db):
    response = call("GET", front_end[1])
    body = refused(response, 401, "MISSING_API_KEY")
    assert response["WWW-Authenticate"] == 'ApiKey header="X-Acme-Key"'
    assert "X-Acme-Key" in body["error"]


def test_each_front_end_refuses_an_invalid_key(front_end, make_key):
    key, _ = make_key([READ_REPORTS])
    wrong = key_format().generate(key_id=key.key_id).plaintext
    response = call("GET", front_end[1], wrong)
    refused(response, 401, "INVALID_API_KEY")
    assert response["WWW-Authenticate"] == 'ApiKey header="X-Acme-Key"'
    # A nunu key is not an Acme key, whatever it says.
    nunu_shaped = "nunu" + wrong.removeprefix("acme")
    refused(call("GET", front_end[1], nunu_shaped), 401, "INVALID_API_KEY")


@pytest.mark.parametrize("name", ["django", "ninja"])
def test_a_refusal_is_logged_once_by_the_guard(name, make_key, caplog):
    """The middleware's and ninja's answers are marked logged, so Django's django.request
    adds no second line; DRF builds its answers itself and Django logs those too."""
    key, _ = make_key([READ_REPORTS])
    wrong = key_format().generate(key_id=key.key_id).plaintext
    with caplog.at_level("INFO"):
        assert call("GET", FRONT_ENDS[name], wrong).status_code == 401
    assert [(r.name, r.levelname) for r in caplog.records] == [("apikeys.requests", "WARNING")]


def test_each_front_end_refuses_an_expired_key(front_end, make_key):
    key, plaintext = make_key([READ_REPORTS])
    APIKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused(call("GET", front_end[1], plaintext), 403, "EXPIRED_API_KEY")


def test_each_front_end_refuses_a_disabled_key(front_end, make_key):
    key, plaintext = make_key([READ_REPORTS])
    services.key_deactivate(key=key, actor=services.Actor.cli("acme-tests"))
    body = refused(call("GET", front_end[1], plaintext), 403, "DISABLED_API_KEY")
    assert body["details"]["reason"] == "deactivated"


def test_each_front_end_refuses_a_key_without_the_hosts_permission(front_end, make_key):
    key, plaintext = make_key([READ_REPORTS])
    response = call("POST", front_end[1], plaintext)
    body = refused(response, 403, "MISSING_PERMISSION")
    assert body["details"]["required_permissions"] == [WRITE_REPORTS]
    assert response["X-Accepted-Permissions"] == WRITE_REPORTS
    usage.flush_all()
    assert APIKeyRefusal.objects.get(key=key).code == "MISSING_PERMISSION"


def test_each_front_end_refuses_plain_http(front_end, make_key):
    _, plaintext = make_key([READ_REPORTS])
    refused(call("GET", front_end[1], plaintext, secure=False), 403, "HTTPS_REQUIRED")


def test_each_front_end_rate_limits_failures(front_end, settings, db):
    settings.APIKEYS_RATE_LIMIT_FAILURES = 2
    for _ in range(2):
        refused(call("GET", front_end[1], REMOTE_ADDR="192.0.2.9"), 401, "MISSING_API_KEY")
    response = call("GET", front_end[1], REMOTE_ADDR="192.0.2.9")
    refused(response, 429, "RATE_LIMITED")
    assert int(response["Retry-After"]) >= 1


def test_the_dashboard_lists_keys_with_the_hosts_permissions(admin, make_key):
    make_key([READ_REPORTS, WRITE_REPORTS])
    client = Client()
    client.force_login(admin)
    page = client.get("/keys/projects/reports/admin/api-keys/", secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'title="reports:read">Read reports<' in html
    assert 'title="reports:write">Write reports<' in html
    assert "Acme keys" in html
    assert "Read runs" not in html and "nunu" not in html.lower()


def test_the_dashboards_key_page_renders_with_the_hosts_permissions(admin, make_key):
    key, _ = make_key([WRITE_REPORTS])
    client = Client()
    client.force_login(admin)
    page = client.get(f"/keys/projects/reports/admin/api-keys/{key.key_id}/", secure=True)
    assert page.status_code == 200
    assert "Write reports" in page.content.decode()


def test_the_dashboard_signs_in_with_the_page_apikeys_ships(admin, settings):
    settings.APIKEYS_SIGNIN_USER_FAILURES = 2
    client = Client()
    wanted = "/keys/projects/reports/admin/api-keys/"
    redirect = client.get(wanted, secure=True)
    assert redirect.status_code == 302
    assert redirect["Location"] == f"/keys/login/?next={wanted}"
    page = client.get(redirect["Location"], secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Log in to Acme keys" in html and 'action="/keys/login/"' in html
    assert "nunu" not in html.lower()
    signed_in = client.post(
        "/keys/login/",
        {"username": "alice", "password": "not used here", "next": wanted},
        secure=True,
    )
    assert (signed_in.status_code, signed_in["Location"]) == (302, wanted)
    assert client.get(wanted, secure=True).status_code == 200


def test_the_shipped_sign_in_page_is_throttled(admin, settings):
    settings.APIKEYS_SIGNIN_USER_FAILURES = 2
    client = Client()
    wrong = {"username": "alice", "password": "wrong"}
    for _ in range(2):
        assert client.post("/keys/login/", wrong, secure=True).status_code == 200
    locked = client.post("/keys/login/", {**wrong, "password": "not used here"}, secure=True)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0


def test_createapikey_makes_a_key_of_the_host(project, capsys):
    call_command(
        "createapikey", "--project", "reports", "--name", "ci", "--permission", READ_REPORTS
    )
    out = capsys.readouterr().out
    (plaintext,) = [word for word in out.split() if word.startswith("acme_")]
    assert call("GET", "/v1/reports", plaintext).status_code == 200


def test_manage_py_check_is_clean():
    result = subprocess.run(
        [sys.executable, str(HOST / "manage.py"), "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


# Imports every module of apikeys (the front ends too) and of this host, and prints the
# nunu site's modules that came along.
PROBE = """\
import django, importlib, pkgutil, sys
django.setup()
import apikeys
for name in sys.argv[1:]:
    importlib.import_module(name)
for info in pkgutil.walk_packages(apikeys.__path__, "apikeys."):
    importlib.import_module(info.name)
importlib.import_module("tests.example_host.urls")
print(sorted(m for m in sys.modules if m.split(".")[0] in {"api", "nunu_admin"}))
"""


def nunu_modules_loaded(*also: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *also],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "tests.example_host.settings", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_apikeys_pulls_in_neither_api_nor_nunu_admin():
    assert nunu_modules_loaded() == "[]"


def test_the_import_probe_sees_a_nunu_module_when_one_is_imported():
    assert "'api.permissions'" in nunu_modules_loaded("api.permissions")
