"""apikeys.rows: values read with written-out SQL equal what the ORM reads."""

from __future__ import annotations

from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from api.permissions import READ_RUNS
from apikeys import rows
from apikeys.models import APIKey

# The wrapper itself: django.db.connection is a proxy, and converters are cached per wrapper.
connection = connections[DEFAULT_DB_ALIAS]


def test_converted_row_equals_the_orms_values(project, make_key):
    key, _ = make_key(project, [READ_RUNS], expires_at=timezone.now() + timedelta(days=3))
    names = ("id", "permissions", "expires_at", "is_active", "created_at")
    found = rows.converters(connection, APIKey, names)
    columns = ", ".join(rows.column_names(found))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM apikeys_apikey WHERE id = %s", [key.pk])
        values = rows.convert(cursor.fetchone(), found, connection)
    assert values == list(APIKey.objects.values_list(*names).get(pk=key.pk))
    assert values[2].tzinfo is not None  # SQLite's naive datetimes come back aware


def test_values_after_the_converted_ones_are_left_as_read(project, make_key):
    found = rows.converters(connection, APIKey, ("is_active",))
    assert rows.convert((True, "as read", 3), found, connection)[1:] == ["as read", 3]
