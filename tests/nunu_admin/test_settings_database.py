"""DATABASES from the environment: the timeouts of SPEC §10 and prepared statements."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest
from django.db import connection

from apikeys.guard.lookup import key_by_id

MODULE = Path(__file__).resolve().parents[2] / "nunu_admin" / "settings" / "database.py"
POSTGRES = "postgres://nunu@db.example.com:5432/nunu"


def database_settings(monkeypatch, **env: str) -> dict:
    for name in (
        "DATABASE_PREPARED_STATEMENTS",
        "DATABASE_STATEMENT_TIMEOUT",
        "DATABASE_CONNECT_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(MODULE))["DATABASES"]["default"]


def test_postgresql_prepares_repeated_queries_by_default(monkeypatch):
    options = database_settings(monkeypatch, DATABASE_URL=POSTGRES)["OPTIONS"]
    assert options["server_side_binding"] is True  # psycopg's ClientCursor cannot prepare
    assert options["prepare_threshold"] == 5
    assert options["connect_timeout"] == 5
    assert "statement_timeout=20000" in options["options"]


@pytest.mark.parametrize("value", ["0", "false", "no"])
def test_prepared_statements_can_be_switched_off_for_a_connection_pooler(monkeypatch, value):
    options = database_settings(
        monkeypatch, DATABASE_URL=POSTGRES, DATABASE_PREPARED_STATEMENTS=value
    )["OPTIONS"]
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options  # Django's default: None, nothing prepared
    assert options["connect_timeout"] == 5  # the timeouts stay


def test_sqlite_gets_none_of_the_postgresql_options(monkeypatch, tmp_path):
    options = database_settings(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")[
        "OPTIONS"
    ]
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options
    assert options["transaction_mode"] == "IMMEDIATE"


def test_the_guards_key_read_is_prepared_on_postgresql(make_key, project):
    # Only the database or an explicit opt-out skips: settings that lost the option fail.
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are a PostgreSQL setting")
    if os.environ.get("DATABASE_PREPARED_STATEMENTS", "1") in {"0", "false", "no", "off"}:
        pytest.skip("DATABASE_PREPARED_STATEMENTS switches them off for this run")
    key, _ = make_key(project)
    for _ in range(connection.settings_dict["OPTIONS"]["prepare_threshold"] + 1):
        assert key_by_id(key.key_id).pk == key.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    table = key._meta.db_table
    assert any(table in statement and "key_id" in statement for statement in prepared), prepared
