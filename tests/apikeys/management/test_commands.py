"""The command line (SPEC §8): what CI scripts read, to the letter.

Most tests run a command in-process exactly as ``manage.py`` does
(``run_from_argv``: the exit status, the one-line error), which is fast; one
test runs the real ``manage.py`` in a subprocess over a temporary SQLite file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import import_module
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.utils import timezone

from api.permissions import MANAGE_BUILD_STORAGE, OPERATE_RUNS, READ_RUNS
from apikeys.conf import key_format
from apikeys.models import APIKey, AuditEvent, Membership, Project
from apikeys.permissions import registry

ROOT = Path(__file__).resolve().parents[3]
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# Written out here, not imported: scripts rely on these names and this order (SPEC §8).
LIST_FIELDS = (
    "id",
    "name",
    "permissions",
    "status",
    "flags",
    "created_at",
    "expires_at",
    "last_used_at",
    "created_by",
)
# JSON only: when, how and where an exposed key leaked (null for the others), and the
# key's IP allowlist (empty: any address).
JSON_FIELDS = {*LIST_FIELDS, "exposure", "allowed_ips"}
TABLE_HEADER = [field.upper() for field in LIST_FIELDS]


def run(*argv: str) -> tuple[int, str, str]:
    """Run a command as `python manage.py ARGV` does; return (exit status, stdout, stderr)."""
    name = argv[0]
    module = import_module(f"{get_commands()[name]}.management.commands.{name}")
    out, err = StringIO(), StringIO()
    command = module.Command(stdout=out, stderr=err, no_color=True)
    # manage.py closes the connections on the way out; the test's transaction must survive.
    command._close_connections = lambda: None
    try:
        command.run_from_argv(["manage.py", *argv])
        status = 0
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    return status, out.getvalue(), err.getvalue()


def assert_one_line_error(result: tuple[int, str, str], status: int, prefix: str) -> str:
    code, out, err = result
    assert code == status, err
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    # "apikey: error: ..." or, for an error in a subcommand, "apikey list: error: ...".
    assert re.match(rf"{re.escape(prefix)}( [a-z]+)?: error: \S", err), err
    assert "Traceback" not in err
    return err


def by_id(key_id: str) -> APIKey:
    return APIKey.objects.get(key_id=key_id)


# --- createapikey ---------------------------------------------------------


def test_createapikey_prints_the_key_alone_on_stdout_and_the_rest_on_stderr(project):
    code, out, err = run(
        "createapikey", "--project", "acme", "--name", "CI", "--preset", "monitoring"
    )

    assert code == 0, err
    assert out.endswith("\n") and out.count("\n") == 1
    parsed = key_format().parse(out.rstrip("\n"))
    assert parsed is not None
    key = by_id(parsed.key_id)
    assert key.project == project and key.name == "CI"
    assert key.permissions == [READ_RUNS]
    assert parsed.key_id in err and "will not be shown again" in err
    assert parsed.secret not in err


def test_createapikey_key_verifies_against_the_stored_hash(project):
    from apikeys.services import hasher

    _, out, _ = run("createapikey", "--project", "acme", "--name", "CI", "--preset", "ci-cd")
    parsed = key_format().parse(out.strip())
    assert parsed is not None
    assert hasher().verify(by_id(parsed.key_id).hashed_secret, parsed.secret)


def test_createapikey_permission_is_repeatable_and_accepts_commas(project):
    code, out, err = run(
        "createapikey",
        "--project",
        "acme",
        "--name",
        "all",
        "--permission",
        f"{READ_RUNS},{OPERATE_RUNS}",
        "--permission",
        MANAGE_BUILD_STORAGE,
        "--permission",
        READ_RUNS,
    )
    assert code == 0, err
    parsed = key_format().parse(out.strip())
    assert parsed is not None
    assert by_id(parsed.key_id).permissions == [READ_RUNS, OPERATE_RUNS, MANAGE_BUILD_STORAGE]


@pytest.mark.parametrize("preset", list(registry.presets))
def test_createapikey_preset_grants_exactly_the_preset_permissions(project, preset):
    _, out, _ = run("createapikey", "--project", "acme", "--name", preset, "--preset", preset)
    parsed = key_format().parse(out.strip())
    assert parsed is not None
    assert set(by_id(parsed.key_id).permissions) == set(registry.presets[preset].permissions)


@pytest.mark.parametrize(
    ("value", "delta"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_createapikey_expires_in_sets_the_expiry_from_now(project, value, delta):
    before = timezone.now()
    _, out, _ = run(
        "createapikey", "--project", "acme", "--name", "k", "--preset", "ci-cd",
        "--expires-in", value,
    )  # fmt: skip
    after = timezone.now()
    parsed = key_format().parse(out.strip())
    assert parsed is not None
    expires_at = by_id(parsed.key_id).expires_at
    assert expires_at is not None
    assert before + delta <= expires_at <= after + delta


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2099-06-30T12:00:00", datetime(2099, 6, 30, 12, tzinfo=UTC)),  # no zone: UTC
        ("2099-06-30T12:00:00+02:00", datetime(2099, 6, 30, 10, tzinfo=UTC)),  # offset honoured
    ],
)
def test_createapikey_expires_at_is_read_as_utc_unless_it_names_an_offset(project, given, stored):
    _, out, _ = run(
        "createapikey", "--project", "acme", "--name", "k", "--preset", "ci-cd",
        "--expires-at", given,
    )  # fmt: skip
    parsed = key_format().parse(out.strip())
    assert parsed is not None
    assert by_id(parsed.key_id).expires_at == stored


def test_createapikey_records_the_cli_user_in_the_audit_log(project):
    _, out, _ = run("createapikey", "--project", "acme", "--name", "k", "--preset", "ci-cd")
    parsed = key_format().parse(out.strip())
    assert parsed is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.KEY_CREATED, key_id=parsed.key_id)
    assert event.actor_username.startswith("cli:")
    assert parsed.secret not in str(event.changes)


BASE = ("createapikey", "--project", "acme", "--name", "k")


@pytest.mark.parametrize(
    ("argv", "status", "says"),
    [
        (("createapikey", "--project", "nope", "--name", "k", "--preset", "ci-cd"), 1, "nope"),
        ((*BASE, "--permission", "project:everything"), 2, "project:everything"),
        ((*BASE, "--permission", ""), 2, "at least one permission"),
        ((*BASE, "--preset", "admin"), 2, "invalid choice"),
        (BASE, 2, "--permission --preset"),
        (("createapikey", "--project", "acme", "--preset", "ci-cd"), 2, "--name"),
        (("createapikey", "--name", "k", "--preset", "ci-cd"), 2, "--project"),
        ((*BASE, "--preset", "ci-cd", "--permission", READ_RUNS), 2, "not allowed"),
        ((*BASE, "--preset", "ci-cd", "--expires-in", "3w"), 2, "'3w'"),
        ((*BASE, "--preset", "ci-cd", "--expires-in", "0h"), 2, "'0h'"),
        ((*BASE, "--preset", "ci-cd", "--expires-in", "-5d"), 2, "--expires-in"),
        ((*BASE, "--preset", "ci-cd", "--expires-at", "2020-01-01T00:00:00Z"), 2, "past"),
        ((*BASE, "--preset", "ci-cd", "--expires-at", "next tuesday"), 2, "'next tuesday'"),
        ((*BASE, "--preset", "ci-cd", "--expires-in", "1d", "--expires-at", "2099-01-01"), 2, ""),
        (("createapikey", "--project", "acme", "--name", "  ", "--preset", "ci-cd"), 2, "name"),
        (("createapikey", "--project", "acme", "--name", "x" * 101, "--preset", "ci-cd"), 2, ""),
        ((*BASE, "--preset", "ci-cd", "--no-such-option"), 2, "--no-such-option"),
    ],
)
def test_createapikey_bad_input_is_one_line_on_stderr_and_a_non_zero_exit(
    project, argv, status, says
):
    err = assert_one_line_error(run(*argv), status, "createapikey")
    assert says in err
    assert not APIKey.objects.exists()


def test_createapikey_refuses_a_duplicate_name(project, make_key):
    make_key(project, name="CI")
    err = assert_one_line_error(
        run("createapikey", "--project", "acme", "--name", "CI", "--preset", "ci-cd"),
        2,
        "createapikey",
    )
    assert "'CI' already exists" in err


def test_createapikey_without_expiry_is_refused_when_policy_requires_one(project):
    Project.objects.filter(pk=project.pk).update(expiry_required=True)
    err = assert_one_line_error(
        run("createapikey", "--project", "acme", "--name", "k", "--preset", "ci-cd"),
        2,
        "createapikey",
    )
    assert "policy" in err.lower()


def test_createapikey_beyond_the_maximum_lifetime_is_refused_naming_the_policy(project):
    Project.objects.filter(pk=project.pk).update(max_key_lifetime_days=30)
    err = assert_one_line_error(
        run(*BASE, "--preset", "ci-cd", "--expires-in", "31d"), 2, "createapikey"
    )
    assert "policy" in err.lower() and "30 days" in err

    code, out, _ = run(*BASE, "--preset", "ci-cd", "--expires-in", "30d")
    assert code == 0 and key_format().parse(out.strip()) is not None


def test_call_command_raises_command_error_with_the_exit_status(project):
    with pytest.raises(CommandError) as not_found:
        call_command("createapikey", "--project", "nope", "--name", "k", "--preset", "ci-cd")
    assert not_found.value.returncode == 1
    with pytest.raises(CommandError) as usage:
        call_command("createapikey", "--project", "acme", "--name", "k")
    assert usage.value.returncode == 2


def test_call_command_writes_the_key_to_the_given_stdout(project):
    out, err = StringIO(), StringIO()
    call_command(
        "createapikey", "--project", "acme", "--name", "k", "--preset", "ci-cd",
        stdout=out, stderr=err,
    )  # fmt: skip
    assert key_format().parse(out.getvalue().strip()) is not None
    assert "will not be shown again" in err.getvalue()


# --- createproject --------------------------------------------------------


def test_createproject_creates_the_project_and_makes_the_admin_a_member(db, make_user):
    alice = make_user("alice")
    code, out, err = run("createproject", "studio", "--name", "Studio", "--admin", "alice")
    assert code == 0, err
    assert out == ""
    project = Project.objects.get(slug="studio")
    assert project.name == "Studio"
    assert Membership.objects.get(project=project, user=alice).role == "admin"
    assert AuditEvent.objects.filter(project=project, action="member.added").count() == 1


def test_createproject_name_defaults_to_the_slug(db):
    assert run("createproject", "studio")[0] == 0
    assert Project.objects.get(slug="studio").name == "studio"


@pytest.mark.parametrize(
    ("argv", "status", "says"),
    [
        (("createproject", "acme"), 2, "already exists"),
        (("createproject", "not a slug"), 2, "'not a slug'"),
        (("createproject", "s" * 51), 2, "50"),
        (("createproject", "new", "--admin", "nobody"), 1, "'nobody'"),
        (("createproject",), 2, "slug"),
    ],
)
def test_createproject_bad_input_is_one_line_on_stderr(project, argv, status, says):
    err = assert_one_line_error(run(*argv), status, "createproject")
    assert says.lower() in err.lower()
    assert list(Project.objects.values_list("slug", flat=True)) == ["acme"]


# --- apikey list ----------------------------------------------------------


@pytest.fixture
def keys_in_every_state(project, make_key, make_user):
    """Keys named after their state, with usage set directly."""
    now = timezone.now()
    creator = make_user("carol")
    active, _ = make_key(project, [READ_RUNS], name="used", expires_at=now + timedelta(days=60))
    APIKey.objects.filter(pk=active.pk).update(
        last_used_at=now - timedelta(hours=1), created_by=creator
    )
    make_key(project, name="never used", expires_at=now + timedelta(days=60))
    stale, _ = make_key(
        project, name="stale", now=now - timedelta(days=100), expires_at=now + timedelta(days=60)
    )
    APIKey.objects.filter(pk=stale.pk).update(last_used_at=now - timedelta(days=60))
    make_key(project, name="expiring", expires_at=now + timedelta(days=3))
    make_key(project, name="no expiry")
    make_key(
        project,
        name="expired",
        now=now - timedelta(days=30),
        expires_at=now - timedelta(days=1),
    )
    disabled, _ = make_key(project, name="disabled", expires_at=now + timedelta(days=60))
    APIKey.objects.filter(pk=disabled.pk).update(is_active=False, deactivated_at=now)
    return {key.name: key for key in APIKey.objects.filter(project=project)}


def list_json(slug: str = "acme") -> list[dict]:
    code, out, err = run("apikey", "list", "--project", slug, "--format", "json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def test_list_json_has_the_documented_fields_in_utc_iso_8601(keys_in_every_state):
    rows = list_json()
    assert len(rows) == len(keys_in_every_state)
    for row in rows:
        assert set(row) == JSON_FIELDS
        assert ISO_UTC.fullmatch(row["created_at"])
        for field in ("expires_at", "last_used_at"):
            assert row[field] is None or ISO_UTC.fullmatch(row[field])
    used = next(row for row in rows if row["name"] == "used")
    key = keys_in_every_state["used"]
    assert used["id"] == key.key_id
    assert used["permissions"] == [READ_RUNS]
    assert used["created_by"] == "carol"
    assert used["last_used_at"] == key.last_used_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_list_json_is_newest_first(keys_in_every_state):
    created = [row["created_at"] for row in list_json()]
    assert created == sorted(created, reverse=True)


@pytest.mark.parametrize(
    ("name", "status", "flags"),
    [
        ("used", "active", []),
        ("never used", "active", ["never-used"]),
        ("stale", "active", ["stale"]),
        ("expiring", "active", ["expires-soon", "never-used"]),
        ("no expiry", "active", ["no-expiry", "never-used"]),
        ("expired", "expired", ["never-used"]),
        ("disabled", "disabled", ["never-used"]),
    ],
)
def test_list_reports_each_key_status_and_flags(keys_in_every_state, name, status, flags):
    row = next(row for row in list_json() if row["name"] == name)
    assert row["status"] == status
    assert row["flags"] == flags


def test_list_stale_follows_the_project_threshold(keys_in_every_state, project):
    Project.objects.filter(pk=project.pk).update(stale_threshold_days=90)
    row = next(row for row in list_json() if row["name"] == "stale")
    assert "stale" not in row["flags"]


def test_list_table_has_a_header_and_one_aligned_line_per_key(keys_in_every_state):
    code, out, err = run("apikey", "list", "--project", "acme")
    assert code == 0, err
    header, *lines = out.rstrip("\n").split("\n")
    assert header.split() == TABLE_HEADER
    assert len(lines) == len(keys_in_every_state)
    name_column = header.index("NAME")
    status_column = header.index("STATUS")
    for line in lines:
        key_id = line.split()[0]
        key = APIKey.objects.get(key_id=key_id)
        assert line[name_column:].startswith(key.name)
        assert line[status_column:].split()[0] == key.status()


def test_list_table_of_a_project_without_keys_is_the_header(project):
    code, out, _ = run("apikey", "list", "--project", "acme")
    assert code == 0
    assert out.split() == TABLE_HEADER


def test_list_only_shows_the_projects_own_keys(project, other_project, make_key):
    make_key(project, name="mine")
    make_key(other_project, name="theirs")
    assert [row["name"] for row in list_json()] == ["mine"]


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (("apikey", "list", "--project", "nope"), 1),
        (("apikey", "list"), 2),
        (("apikey", "list", "--project", "acme", "--format", "xml"), 2),
        (("apikey",), 2),
        (("apikey", "explode"), 2),
    ],
)
def test_list_bad_input_is_one_line_on_stderr(project, argv, status):
    assert_one_line_error(run(*argv), status, "apikey")


# --- deactivate, reactivate, delete ----------------------------------------


def test_deactivate_disables_the_key_and_records_who_did_it(project, make_key):
    key, _ = make_key(project)
    code, out, err = run("apikey", "deactivate", key.key_id)
    assert code == 0, err
    assert out == ""
    key.refresh_from_db()
    assert not key.is_active and key.deactivated_at is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.KEY_DEACTIVATED, key_id=key.key_id)
    assert event.actor_username.startswith("cli:")


def test_deactivating_a_disabled_key_succeeds_without_a_second_event(project, make_key):
    key, _ = make_key(project)
    run("apikey", "deactivate", key.key_id)
    code, _, err = run("apikey", "deactivate", key.key_id)
    assert code == 0 and "already disabled" in err
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_DEACTIVATED).count() == 1


def test_reactivate_enables_a_disabled_key(project, make_key):
    key, _ = make_key(project)
    run("apikey", "deactivate", key.key_id)
    code, _, err = run("apikey", "reactivate", key.key_id)
    assert code == 0, err
    key.refresh_from_db()
    assert key.is_active and key.deactivated_at is None
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.KEY_REACTIVATED, key_id=key.key_id
    ).exists()


def test_reactivating_an_expired_key_is_refused_with_a_hint_to_rotate(project, make_key):
    now = timezone.now()
    key, _ = make_key(project, now=now - timedelta(days=10), expires_at=now - timedelta(days=1))
    APIKey.objects.filter(pk=key.pk).update(is_active=False)
    err = assert_one_line_error(run("apikey", "reactivate", key.key_id), 2, "apikey reactivate")
    assert "rotate it instead" in err
    key.refresh_from_db()
    assert not key.is_active


def test_delete_removes_the_key_and_the_audit_log_keeps_its_record(project, make_key):
    key, _ = make_key(project, name="doomed")
    code, _, err = run("apikey", "delete", key.key_id)
    assert code == 0, err
    assert not APIKey.objects.filter(pk=key.pk).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.KEY_DELETED, key_id=key.key_id)
    assert event.key_name == "doomed"


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "delete", "rotate"])
def test_an_unknown_key_id_exits_1_with_one_line(project, action):
    err = assert_one_line_error(run("apikey", action, "A" * 12), 1, f"apikey {action}")
    assert "'AAAAAAAAAAAA'" in err


@pytest.mark.parametrize("action", ["deactivate", "reactivate", "delete", "rotate"])
@pytest.mark.parametrize("bad_id", ["short", "A" * 13, "has-a-dash!!"])
def test_a_malformed_key_id_exits_2_with_one_line(project, action, bad_id):
    assert_one_line_error(run("apikey", action, bad_id), 2, f"apikey {action}")


def test_a_whole_key_given_as_id_is_refused_without_echoing_it(project, make_key):
    key, plaintext = make_key(project)
    err = assert_one_line_error(run("apikey", "delete", plaintext), 2, "apikey delete")
    assert plaintext not in err and key_format().parse(plaintext).secret not in err
    assert APIKey.objects.filter(pk=key.pk).exists()


def test_missing_id_is_a_usage_error(project):
    assert_one_line_error(run("apikey", "delete"), 2, "apikey delete")


# --- rotate ---------------------------------------------------------------


def test_rotate_prints_the_successor_alone_on_stdout_and_links_the_two(project, make_key):
    old, old_plaintext = make_key(project, [READ_RUNS, OPERATE_RUNS], name="CI")
    code, out, err = run("apikey", "rotate", old.key_id)

    assert code == 0, err
    assert out.count("\n") == 1
    parsed = key_format().parse(out.strip())
    assert parsed is not None and parsed.key_id != old.key_id
    successor = by_id(parsed.key_id)
    assert successor.rotated_from_id == old.pk
    assert successor.permissions == [READ_RUNS, OPERATE_RUNS]
    assert successor.expires_at is not None
    assert parsed.secret not in err and old_plaintext not in err + out
    assert successor.key_id in err and "deactivate" in err
    old.refresh_from_db()
    assert old.is_active and old.expires_at is None and old.rotated_at is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_ROTATED, key_id=old.key_id)


@pytest.mark.parametrize(
    ("grace", "delta"), [("1h", timedelta(hours=1)), ("7d", timedelta(days=7))]
)
def test_rotate_with_grace_makes_the_old_key_expire_after_it(project, make_key, grace, delta):
    old, _ = make_key(project)
    before = timezone.now()
    code, _, err = run("apikey", "rotate", old.key_id, "--grace", grace)
    after = timezone.now()
    assert code == 0, err
    old.refresh_from_db()
    assert old.expires_at is not None
    assert before + delta <= old.expires_at <= after + delta
    assert old.status() == "active"


def test_rotate_successor_expiry_stays_within_the_policy(project, make_key):
    Project.objects.filter(pk=project.pk).update(max_key_lifetime_days=30)
    old, _ = make_key(project, expires_at=timezone.now() + timedelta(days=10))
    _, out, _ = run("apikey", "rotate", old.key_id)
    parsed = key_format().parse(out.strip())
    assert parsed is not None
    successor = by_id(parsed.key_id)
    assert successor.expires_at <= timezone.now() + timedelta(days=30, minutes=1)

    err = assert_one_line_error(
        run("apikey", "rotate", successor.key_id, "--expires-in", "60d"), 2, "apikey rotate"
    )
    assert "policy" in err.lower()


def test_rotating_a_key_whose_successor_works_is_refused_in_one_line(project, make_key):
    old, _ = make_key(project, name="CI")
    _, out, _ = run("apikey", "rotate", old.key_id)
    successor = by_id(key_format().parse(out.strip()).key_id)

    err = assert_one_line_error(run("apikey", "rotate", old.key_id), 2, "apikey rotate")
    assert successor.key_id in err and "rotate that key instead" in err
    assert old.successors.count() == 1


def test_a_key_whose_successor_was_deactivated_can_be_rotated_again(project, make_key):
    old, _ = make_key(project, name="CI")
    _, out, _ = run("apikey", "rotate", old.key_id)
    first = key_format().parse(out.strip()).key_id
    run("apikey", "deactivate", first)

    code, out, err = run("apikey", "rotate", old.key_id)
    assert code == 0, err
    assert f"it was rotated before, to {first}" in err
    assert old.successors.count() == 2


def test_rotate_an_expired_key(project, make_key):
    now = timezone.now()
    old, _ = make_key(project, now=now - timedelta(days=10), expires_at=now - timedelta(days=1))
    code, out, err = run("apikey", "rotate", old.key_id)
    assert code == 0, err
    parsed = key_format().parse(out.strip())
    assert parsed is not None
    assert by_id(parsed.key_id).status() == "active"


@pytest.mark.parametrize("grace", ["2h", "forever", ""])
def test_rotate_with_an_unknown_grace_period_is_a_usage_error(project, make_key, grace):
    old, _ = make_key(project)
    err = assert_one_line_error(
        run("apikey", "rotate", old.key_id, "--grace", grace), 2, "apikey rotate"
    )
    assert "--grace" in err
    assert APIKey.objects.count() == 1


# --- the real manage.py ---------------------------------------------------


def test_manage_py_exit_status_stdout_and_one_line_stderr(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nunu_admin.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "NO_COLOR": "1",
    }

    def manage(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert manage("migrate", "--noinput", "-v0").returncode == 0
    assert manage("createproject", "ci").returncode == 0

    created = manage("createapikey", "--project", "ci", "--name", "CI", "--preset", "ci-cd")
    assert created.returncode == 0, created.stderr
    assert key_format().parse(created.stdout.removesuffix("\n")) is not None
    assert "will not be shown again" in created.stderr

    for argv, status in (
        (("createapikey", "--project", "nope", "--name", "x", "--preset", "ci-cd"), 1),
        (("createapikey", "--project", "ci", "--name", "x"), 2),
        (("apikey", "rotate", "bad"), 2),
    ):
        refused = manage(*argv)
        assert refused.returncode == status, refused.stderr
        assert refused.stdout == ""
        assert len(refused.stderr.splitlines()) == 1, refused.stderr
        assert ": error: " in refused.stderr


# --- IP allowlists ----------------------------------------------------------------


def test_createapikey_allow_ip_is_repeatable_and_normalized(project):
    code, out, err = run(
        "createapikey",
        "--project", project.slug,
        "--name", "fenced",
        "--preset", "monitoring",
        "--allow-ip", "203.0.113.0/24",
        "--allow-ip", "2001:DB8::1",
        "--allow-ip", "203.0.113.0/24",
    )  # fmt: skip
    assert code == 0, err
    key = by_id(key_format().parse(out.strip()).key_id)
    assert key.allowed_ips == ["203.0.113.0/24", "2001:db8::1/128"]
    assert "from 203.0.113.0/24, 2001:db8::1/128 only" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.300", "'10.0.0.300' is not an IPv4/IPv6 address or CIDR range"),
        ("10.0.0.1/24", "'10.0.0.1/24' has host bits set"),
    ],
)
def test_createapikey_refuses_a_bad_allow_ip_on_one_line(project, value, message):
    result = run(
        "createapikey", "--project", project.slug, "--name", "x", "--preset", "monitoring",
        "--allow-ip", value,
    )  # fmt: skip
    err = assert_one_line_error(result, 2, "createapikey")
    assert message in err
    assert not APIKey.objects.exists()


def test_createapikey_refuses_more_than_fifty_ranges(project):
    many = [arg for n in range(51) for arg in ("--allow-ip", f"10.0.{n}.0/24")]
    result = run(
        "createapikey", "--project", project.slug, "--name", "x", "--preset", "monitoring", *many
    )
    assert "at most 50" in assert_one_line_error(result, 2, "createapikey")


def test_list_json_shows_the_allowlist(project):
    run(
        "createapikey", "--project", project.slug, "--name", "fenced", "--preset", "monitoring",
        "--allow-ip", "198.51.100.0/24",
    )  # fmt: skip
    run("createapikey", "--project", project.slug, "--name", "open", "--preset", "monitoring")
    code, out, err = run("apikey", "list", "--project", project.slug, "--format", "json")
    assert code == 0, err
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["fenced"]["allowed_ips"] == ["198.51.100.0/24"]
    assert rows["open"]["allowed_ips"] == []
