"""manage.py audit_keys: the review's findings on stdout, exit codes for CI."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.permissions import READ_RUNS
from apikeys.models import APIKey
from apikeys.reports import review

T0 = datetime(2026, 2, 1, tzinfo=UTC)
AT = (T0 + timedelta(days=60)).isoformat()


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def stale_and_never_used(project, make_key):
    """At AT: one stale key (medium) and one never-used key (medium)."""
    stale, _ = make_key(project, [READ_RUNS], name="stale", now=T0)
    APIKey.objects.filter(pk=stale.pk).update(last_used_at=T0 + timedelta(days=1))
    never, _ = make_key(project, [READ_RUNS], name="never", now=T0)
    return stale, never


def test_json_output_is_exactly_the_review_findings(project, stale_and_never_used):
    out, err = run("--project", "acme", "--format", "json", "--at", AT)
    data = json.loads(out)
    expected = review.findings(project, now=datetime.fromisoformat(AT))
    assert data["findings"] == [f.as_dict() for f in expected]
    assert data["counts"] == {"high": 0, "medium": 2, "low": 0}
    assert "2 findings in acme" in err


def test_csv_output_has_one_row_per_finding(project, stale_and_never_used):
    out, _ = run("--project", "acme", "--format", "csv", "--at", AT)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {row["code"] for row in rows} == {"stale", "never-used"}
    assert all(row["recommendation"] for row in rows)
    assert "last_used_at=" in next(r for r in rows if r["code"] == "stale")["evidence"]


def test_table_output_names_keys_and_recommendations(project, stale_and_never_used):
    stale, never = stale_and_never_used
    out, _ = run("--project", "acme", "--at", AT)
    assert out.splitlines()[0].split() == [
        "severity",
        "code",
        "key_id",
        "key_name",
        "title",
        "recommendation",
    ]
    assert stale.key_id in out and never.key_id in out


def test_no_findings_says_so_and_exits_zero(project):
    out, _ = run("--project", "acme", "--fail-on", "low")
    assert out == "No findings.\n"


def test_fail_on_exits_1_at_or_above_the_level_only(project, stale_and_never_used):
    run("--project", "acme", "--fail-on", "high", "--at", AT)  # mediums only: exit 0
    for level in ("medium", "low"):
        with pytest.raises(CommandError) as raised:
            run("--project", "acme", "--fail-on", level, "--at", AT)
        assert raised.value.returncode == 1
        assert "2 findings at or above" in str(raised.value)


@pytest.mark.parametrize(
    "args",
    [
        ("--project", "nope"),
        ("--project", "acme", "--fail-on", "urgent"),
        ("--project", "acme", "--format", "xml"),
        ("--project", "acme", "--at", "yesterday"),
        (),
    ],
)
def test_bad_input_exits_2(project, args):
    with pytest.raises(CommandError) as raised:
        run(*args)
    assert raised.value.returncode == 2


def test_bad_input_is_one_line_on_stderr_from_the_command_line(project, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "audit_keys", "--project", "nope"]).execute()
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().count("\n") == 0
    assert "'nope'" in captured.err


def test_findings_exit_1_from_the_command_line(project, stale_and_never_used, capsys):
    from django.core.management import ManagementUtility

    argv = ["manage.py", "audit_keys", "--project", "acme", "--fail-on", "medium", "--at", AT]
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(argv).execute()
    assert exited.value.code == 1
    assert "stale" in capsys.readouterr().out
