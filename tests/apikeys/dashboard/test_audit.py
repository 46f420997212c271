"""The audit log: append-only on every layer, filtered, exported as a stream."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import StreamingHttpResponse

from api.permissions import READ_RUNS
from apikeys import services
from apikeys.models import AppendOnlyError, AuditEvent
from apikeys.reports import exports as audit_export

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTOR = services.Actor.cli("test")


def event(project, *, action=AuditEvent.Action.KEY_CREATED, at=T0, **fields) -> AuditEvent:
    return AuditEvent.objects.create(
        project=project, action=action, created_at=at, actor_username="alice", **fields
    )


def body(response: StreamingHttpResponse) -> str:
    return b"".join(response.streaming_content).decode()


# --- Append-only ----------------------------------------------------------


def test_model_refuses_to_update_or_delete_an_event(project):
    logged = event(project)
    logged.key_name = "rewritten"
    with pytest.raises(AppendOnlyError):
        logged.save()
    with pytest.raises(AppendOnlyError):
        logged.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=logged.pk).update(key_name="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=logged.pk).delete()


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgresql_trigger_refuses_raw_update_and_delete(project):
    logged = event(project, key_name="as it was")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE apikeys_auditevent SET key_name = %s WHERE id = %s", ["x", logged.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM apikeys_auditevent WHERE id = %s", [logged.pk])
    assert AuditEvent.objects.get(pk=logged.pk).key_name == "as it was"


def test_raw_insert_still_works_everywhere(project):
    """The trigger guards UPDATE and DELETE only: the application must keep logging."""
    event(project)
    services.key_create(project=project, name="k", permissions=[READ_RUNS], actor=ACTOR)
    assert AuditEvent.objects.filter(project=project).count() == 2


def test_trigger_migration_is_a_no_op_on_sqlite(project):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert cursor.fetchall() == []


# --- Every change is logged, as it was ------------------------------------


def test_every_key_change_leaves_one_event_with_the_key_as_it_was(project, make_user):
    alice = make_user("alice")
    actor = services.Actor(user=alice, ip="192.0.2.9", user_agent="pytest")
    key, _ = services.key_create(project=project, name="k", permissions=[READ_RUNS], actor=actor)
    services.key_update(key=key, actor=actor, name="k2")
    services.key_deactivate(key=key, actor=actor)
    services.key_reactivate(key=key, actor=actor)
    successor, _ = services.key_rotate(key=key, actor=actor)
    services.key_delete(key=key, actor=actor)
    actions = list(
        AuditEvent.objects.filter(key_id=key.key_id).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "key.created",
        "key.updated",
        "key.deactivated",
        "key.reactivated",
        "key.rotated",
        "key.deleted",
    ]
    updated = AuditEvent.objects.get(key_id=key.key_id, action="key.updated")
    assert updated.changes == {"name": {"before": "k", "after": "k2"}}
    assert updated.key_name == "k2"
    assert (updated.actor_username, updated.actor_ip, updated.user_agent) == (
        "alice",
        "192.0.2.9",
        "pytest",
    )
    rotated = AuditEvent.objects.get(key_id=key.key_id, action="key.rotated")
    assert rotated.changes["successor"] == successor.key_id


# --- Filters --------------------------------------------------------------


def test_filters_by_action_actor_key_and_inclusive_date_range(project):
    event(project, at=T0, key_id="AAAAAAAAAAAA", key_name="deploy bot")
    event(project, at=T0 + timedelta(days=1), action=AuditEvent.Action.KEY_DELETED)
    AuditEvent.objects.create(
        project=project, action="policy.changed", created_at=T0, actor_username="bob"
    )
    assert audit_export.audit_events(project, action="key.deleted").count() == 1
    assert audit_export.audit_events(project, actor="BOB").count() == 1
    assert audit_export.audit_events(project, key="AAAAAAAAAAAA").count() == 1
    assert audit_export.audit_events(project, key="deploy").count() == 1
    assert audit_export.audit_events(project, since=date(2026, 3, 2)).count() == 1
    assert audit_export.audit_events(project, until=date(2026, 3, 1)).count() == 2
    assert (
        audit_export.audit_events(project, since=date(2026, 3, 1), until=date(2026, 3, 2)).count()
        == 3
    )


def test_filters_never_show_another_projects_events(project, other_project):
    event(other_project)
    assert audit_export.audit_events(project).count() == 0


# --- Streamed exports -----------------------------------------------------


def test_csv_export_streams_every_event_newest_first_with_changes_as_json(project):
    event(project, at=T0, key_id="AAAAAAAAAAAA", key_name="first", changes={"a": 1})
    event(project, at=T0 + timedelta(hours=1), key_name="second")
    response = audit_export.export_csv(audit_export.audit_events(project), filename="audit.csv")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == 'attachment; filename="audit.csv"'
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [row["key_name"] for row in rows] == ["second", "first"]
    assert json.loads(rows[1]["changes"]) == {"a": 1}
    assert rows[1]["created_at"] == T0.isoformat()


def test_csv_cells_cannot_run_as_spreadsheet_formulas(project):
    event(project, key_name='=HYPERLINK("http://evil")')
    response = audit_export.export_csv(audit_export.audit_events(project), filename="a.csv")
    row = next(csv.DictReader(io.StringIO(body(response))))
    assert row["key_name"] == '\'=HYPERLINK("http://evil")'


def test_json_export_is_one_valid_array(project):
    event(project, key_name="one", changes={"x": [1, 2]})
    event(project, key_name="two", at=T0 + timedelta(seconds=1))
    response = audit_export.export_json(audit_export.audit_events(project), filename="a.json")
    records = json.loads(body(response))
    assert [r["key_name"] for r in records] == ["two", "one"]
    assert records[1]["changes"] == {"x": [1, 2]}
    assert set(records[0]) == {
        "created_at",
        "action",
        "actor",
        "actor_ip",
        "user_agent",
        "key_id",
        "key_name",
        "changes",
    }


def test_empty_json_export_is_an_empty_array(project):
    response = audit_export.export_json(audit_export.audit_events(project), filename="a.json")
    assert json.loads(body(response)) == []


@pytest.mark.parametrize("export", [audit_export.export_csv, audit_export.export_json])
def test_large_export_reads_in_chunks_not_all_at_once(
    project, export, monkeypatch, django_assert_max_num_queries
):
    """A stream: nothing is read before the first chunk is asked for, and the rows come
    through .iterator(chunk_size) in a bounded number of queries, whatever the size."""
    monkeypatch.setattr(audit_export, "CHUNK_SIZE", 100)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            project=project,
            action="key.created",
            created_at=T0 + timedelta(seconds=n),
            key_name=f"k{n}",
        )
        for n in range(1050)
    )
    chunk_sizes = []
    real_iterator = audit_export.QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return real_iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(audit_export.QuerySet, "iterator", spy)
    with django_assert_max_num_queries(0):
        response = export(audit_export.audit_events(project), filename="x")
    assert isinstance(response, StreamingHttpResponse)
    assert not hasattr(response, "content")  # never joined into one string
    with django_assert_max_num_queries(1):
        chunks = list(response.streaming_content)
    assert chunk_sizes == [100]
    # One chunk per event (plus the header or brackets): nothing held back and joined.
    assert len(chunks) >= 1050
    assert b"".join(chunks).count(b"k1049") == 1


# --- The page -------------------------------------------------------------

AUDIT = "/projects/acme/admin/audit/"


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admins_and_auditors_read_the_log(client, project, make_user, role):
    event(project, key_name="visible")
    client.force_login(make_user("u", project=project, role=role))
    response = client.get(AUDIT)
    assert response.status_code == 200
    assert "visible" in response.content.decode()


def test_outsiders_get_404_for_the_log_and_its_exports(client, project, make_user):
    client.force_login(make_user("mallory"))
    assert client.get(AUDIT).status_code == 404
    assert client.get(AUDIT + "export.csv").status_code == 404


def test_page_filters_and_paginates(client, project, admin_user):
    client.force_login(admin_user)
    for n in range(55):
        event(project, at=T0 + timedelta(minutes=n), key_name=f"key-{n:02d}")
    event(
        project, action=AuditEvent.Action.POLICY_CHANGED, changes={"x": {"before": 1, "after": 2}}
    )
    first = client.get(AUDIT, {"action": "key.created"}).content.decode()
    assert "55 events" in first
    assert "key-54" in first and "key-04" not in first
    assert "Page 1 of 2" in first
    second = client.get(AUDIT, {"action": "key.created", "page": "2"}).content.decode()
    assert "key-04" in second
    policy = client.get(AUDIT, {"action": "policy.changed"}).content.decode()
    assert "1 → 2" in policy


def test_page_export_links_keep_the_filters(client, project, admin_user):
    client.force_login(admin_user)
    event(project, key_name="a")
    event(project, key_name="b", actor_ip="192.0.2.1")
    response = client.get(AUDIT + "export.csv", {"key": "b"})
    assert isinstance(response, StreamingHttpResponse)
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [row["key_name"] for row in rows] == ["b"]
    assert json.loads(body(client.get(AUDIT + "export.json")))[0]["key_name"] in {"a", "b"}
    assert client.get(AUDIT + "export.xml").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"action": "bogus"}, "Action: Select a valid choice. bogus is not one of"),
        ({"since": "notadate"}, "From: Enter a valid date."),
    ],
)
def test_an_export_with_a_bad_filter_is_400_naming_the_field(
    client, project, admin_user, query, message
):
    client.force_login(admin_user)
    response = client.get(AUDIT + "export.json", query)
    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith(f"These filters cannot be exported: {message}")
    assert "None:" not in text


def test_every_audit_filter_names_itself_in_its_errors():
    from apikeys.dashboard.views.audit import AuditFilterForm, filter_errors

    form = AuditFilterForm(
        {"action": "bogus", "since": "x", "until": "y", "actor": "a" * 151, "key": "k" * 101}
    )
    prefixes = {error.split(": ", 1)[0] for error in filter_errors(form)}
    assert prefixes == {"Action", "From", "To", "Actor (username)", "Key (id or name)"}


def test_changes_read_as_before_and_after_with_times_in_utc():
    from apikeys.dashboard.views.audit import describe_changes

    assert describe_changes(
        {
            "name": {"before": "old", "after": "new"},
            "permissions": ["project:read-runs", "project:operate-runs"],
            "expires_at": "2026-12-27T05:37:43.554938+00:00",
            "grace_ends_at": None,
        }
    ) == [
        ("name", "old → new"),
        ("permissions", "project:read-runs, project:operate-runs"),
        ("expires_at", "2026-12-27 05:37 UTC"),
        ("grace_ends_at", "none"),
    ]
