"""`pip wheel .` builds the apikeys app alone, and the wheel serves another Django project
(SPEC §12; README, "Using apikeys in another Django project").

Marker ``slow`` (`make test-slow`): it builds the wheel from a copy of the checkout,
installs it with its declared dependencies into a fresh virtualenv (no system site
packages: only what the wheel declares is there), writes a minimal host project into a
temporary folder and, from there, runs `migrate`, `check` and `createapikey`, then asks
a guarded view with the key and without. Dependencies are pinned to requirements.txt,
so pip's cache answers and the site and the wheel are tested on the same versions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

pytestmark = pytest.mark.slow
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
FRONT_ENDS = ["middleware", "drf", "ninja"]

# Not part of the source a build sees: local state, caches, earlier builds.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "node_modules",
    "media",
    "staticfiles",
    "artifacts",
    "db.sqlite3*",
)
# The nunu site, its tests and its benchmark: in the repository, never in the wheel.
NOT_IN_THE_WHEEL = ("api/", "nunu_admin/", "tests/", "bench/", "templates/", "deploy/")

PERMISSIONS_MODULE = """\
from apikeys.permissions import Permission

READ_REPORTS = "reports:read"

PERMISSIONS = [
    Permission(READ_REPORTS, "Read reports", "List the reports.", ("GET /api/reports",)),
]
"""

# Only what SPEC §12 says a host needs: Django's contrib apps, apikeys, django_htmx and
# template_partials; the usual middleware, HtmxMiddleware and the guard.
SETTINGS_MODULE = """\
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "a-host-of-the-apikeys-wheel-in-a-test-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "apikeys",
]
MIDDLEWARE = [
    "apikeys.middleware.APIKeyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]
ROOT_URLCONF = "host.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"

APIKEYS_PERMISSIONS = "host.permissions.PERMISSIONS"
LOGIN_URL = "apikeys:login"
"""

URLS_MODULE = """\
from django.contrib import admin
from django.urls import include, path

from host import adapters, views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/reports", views.reports),
    path("api/drf/reports", adapters.ReportList.as_view()),
    path("api/ninja/", adapters.ninja_api.urls),
    path("keys/", include("apikeys.urls")),
]
"""

VIEWS_MODULE = """\
from django.http import JsonResponse

from apikeys.decorators import require_permission
from host.permissions import READ_REPORTS


@require_permission(READ_REPORTS)
def reports(request):
    return JsonResponse({"data": [], "key_id": request.api_key.key_id})
"""

# The two adapters, from the extras.
ADAPTERS_MODULE = """\
from ninja import NinjaAPI
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.contrib.drf import APIKeyAuthentication, HasAPIKeyPermission
from apikeys.contrib.ninja import APIKeyAuth, install
from apikeys.decorators import public
from host.permissions import READ_REPORTS


class ReportList(APIView):
    authentication_classes = [APIKeyAuthentication]
    permission_classes = [HasAPIKeyPermission]
    required_permission = READ_REPORTS

    def get(self, request):
        return Response({"data": [], "key_id": request.auth.key_id})


ninja_api = install(NinjaAPI(docs_decorator=public))


@ninja_api.get("/reports", auth=APIKeyAuth(permission=READ_REPORTS))
def ninja_reports(request):
    return {"data": [], "key_id": request.auth.key_id}
"""

MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "host.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

# Run in the host with the virtualenv's Python: what the host sees, as JSON.
PROBE = """\
import json
import os
import sys
import sysconfig

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "host.settings")
import django

django.setup()

import apikeys
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.test import Client

key = sys.argv[1]
wrong = key[:-1] + ("B" if key[-1] == "A" else "A")
client = Client()


def answer(response):
    return [response.status_code, json.loads(response.content)]


result = {
    "apikeys": apikeys.__file__,
    "purelib": sysconfig.get_paths()["purelib"],
    "css": finders.find("apikeys/dashboard.css"),
}
for front_end, path in [
    ("middleware", "/api/reports"),
    ("drf", "/api/drf/reports"),
    ("ninja", "/api/ninja/reports"),
]:
    result[front_end] = {
        "with_key": answer(client.get(path, secure=True, HTTP_X_API_KEY=key)),
        "without_key": answer(client.get(path, secure=True)),
        "wrong_key": answer(client.get(path, secure=True, HTTP_X_API_KEY=wrong)),
        "plain_http": answer(client.get(path, HTTP_X_API_KEY=key)),
    }
signin = client.get("/keys/projects/reports/admin/api-keys/", secure=True, follow=True)
result["signin"] = [signin.status_code, signin.content.decode()]
client.force_login(get_user_model().objects.get(username="alice"))
page = client.get("/keys/projects/reports/admin/api-keys/", secure=True)
result["dashboard"] = [page.status_code, page.content.decode()]
print(json.dumps(result))
"""


def run(*args: str | Path, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def clean_env() -> dict[str, str]:
    """This environment without what would point Python or Django at the checkout."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
    env = {name: value for name, value in os.environ.items() if name not in drop}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def distribution_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def pinned_dependencies() -> list[str]:
    """The pins (requirements*.txt) of the wheel's dependencies and its extras', so the
    wheel is tried on the versions the site's tests use."""
    pins = {}
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / requirements).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                pins[distribution_name(line)] = re.sub(r"\[[^\]]*\]", "", line)
    declared = [
        distribution_name(dep)
        for dep in PYPROJECT["project"]["dependencies"]
        + [dep for deps in PYPROJECT["project"]["optional-dependencies"].values() for dep in deps]
    ]
    missing = [name for name in declared if name not in pins]
    assert not missing, f"requirements*.txt pin no version of {missing}"
    return [pins[name] for name in declared]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source") / "repo"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    out = tmp_path_factory.mktemp("dist")
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        out,
        source,
        cwd=source,
        timeout=300,
    )
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    folder = tmp_path_factory.mktemp("venv") / "venv"
    run(sys.executable, "-m", "venv", folder, cwd=folder.parent)
    constraints = folder.parent / "constraints.txt"
    constraints.write_text("\n".join(pinned_dependencies()) + "\n")
    python = folder / "bin" / "python"
    run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "-c",
        constraints,
        f"{wheel}[{','.join(sorted(EXTRAS))}]",
        cwd=folder.parent,
        timeout=600,
    )
    return folder


@pytest.fixture(scope="module")
def host(tmp_path_factory, venv) -> dict:
    """A host project beside (not inside) the checkout, set up with manage.py as a
    host's operator would; returns the probe's findings."""
    folder = tmp_path_factory.mktemp("host")
    package = folder / "host"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS_MODULE)
    (package / "permissions.py").write_text(PERMISSIONS_MODULE)
    (package / "urls.py").write_text(URLS_MODULE)
    (package / "views.py").write_text(VIEWS_MODULE)
    (package / "adapters.py").write_text(ADAPTERS_MODULE)
    (folder / "manage.py").write_text(MANAGE)
    (folder / "probe.py").write_text(PROBE)
    python = venv / "bin" / "python"

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return run(python, "manage.py", *args, cwd=folder)

    manage("migrate", "--noinput")
    checked = manage("check", "--fail-level", "WARNING")
    manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; User.objects.create(username='alice')",
    )
    manage("createproject", "reports", "--admin", "alice")
    created = manage(
        "createapikey",
        "--project",
        "reports",
        "--name",
        "wheel probe",
        "--permission",
        "reports:read",
        "--expires-in",
        "30d",
    )
    key = created.stdout.strip()
    probe = run(python, "probe.py", key, cwd=folder)
    return {"key": key, "check": checked.stdout, "venv": venv, **json.loads(probe.stdout)}


def test_the_wheel_holds_every_file_of_apikeys_and_nothing_else(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    in_wheel = {name for name in names if name.startswith("apikeys/")}
    in_checkout = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "apikeys").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert in_wheel == in_checkout
    assert "apikeys/templates/apikeys/base.html" in in_wheel
    assert "apikeys/static/apikeys/dashboard.css" in in_wheel
    assert "apikeys/migrations/0001_initial.py" in in_wheel
    assert "apikeys/management/commands/createapikey.py" in in_wheel
    others = {name.split("/", 1)[0] for name in names if not name.startswith("apikeys/")}
    assert others == {f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    assert not [name for name in names if name.startswith(NOT_IN_THE_WHEEL)]


def test_the_wheel_declares_the_runtime_dependencies_and_the_adapters_extras(wheel):
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
    text = archive.read(metadata).decode()
    requires = re.findall(r"^Requires-Dist: (.+)$", text, re.MULTILINE)
    plain = {distribution_name(req) for req in requires if "extra ==" not in req}
    assert plain == {
        "django",
        "django-htmx",
        "django-template-partials",
        "argon2-cffi",
        "cryptography",
    }
    extras = {
        re.search(r'extra == "([^"]+)"', req).group(1): distribution_name(req)
        for req in requires
        if "extra ==" in req
    }
    assert extras == {
        "drf": "djangorestframework",
        "ninja": "django-ninja",
        "redis": "redis",
        "postgres": "psycopg",
    }


def test_the_host_uses_the_installed_copy_not_the_checkout(host):
    installed = Path(host["apikeys"]).resolve()
    assert installed.is_relative_to(Path(host["purelib"]).resolve())
    assert installed.is_relative_to(host["venv"].resolve())
    assert not installed.is_relative_to(ROOT)
    # The dashboard's CSS is found by staticfiles in the installed package.
    assert Path(host["css"]).resolve().is_relative_to(installed.parent)


def test_the_host_passes_the_system_check(host):
    assert "System check identified no issues" in host["check"]


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_a_key_from_createapikey_opens_the_guarded_view(host, front_end):
    status, body = host[front_end]["with_key"]
    assert status == 200
    assert host["key"].split("_")[1] == body["key_id"]


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_no_key_or_a_wrong_key_is_refused_with_401(host, front_end):
    assert host[front_end]["without_key"][0] == 401
    assert host[front_end]["without_key"][1]["code"] == "MISSING_API_KEY"
    assert host[front_end]["wrong_key"][0] == 401
    assert host[front_end]["wrong_key"][1]["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize("front_end", FRONT_ENDS)
def test_plain_http_is_refused_in_production(host, front_end):
    assert host[front_end]["plain_http"][0] == 403
    assert host[front_end]["plain_http"][1]["code"] == "HTTPS_REQUIRED"


def test_the_dashboard_asks_to_sign_in_on_the_apps_own_page(host):
    status, page = host["signin"]
    assert status == 200
    assert 'id="login-form"' in page and 'action="/keys/login/"' in page


def test_the_dashboard_lists_the_key_with_the_apps_own_templates(host):
    status, page = host["dashboard"]
    assert status == 200
    assert "wheel probe" in page
    assert "apikeys/dashboard.css" in page
