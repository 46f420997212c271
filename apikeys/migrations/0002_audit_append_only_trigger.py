"""The audit log is append-only in the database too, on PostgreSQL.

The model and its queryset refuse update() and delete(), but raw SQL, a
dbshell session or another application sharing the database would not go
through them. A row-level trigger refuses UPDATE and DELETE on the table so an
attacker with the application's database role cannot quietly rewrite history.

TRUNCATE is left alone on purpose: the test runner flushes tables with it,
and a role that may TRUNCATE may also drop the trigger. SQLite has no such
privilege model, so this migration does nothing there.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION apikeys_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'apikeys_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS apikeys_auditevent_append_only ON apikeys_auditevent;
CREATE TRIGGER apikeys_auditevent_append_only
    BEFORE UPDATE OR DELETE ON apikeys_auditevent
    FOR EACH ROW EXECUTE FUNCTION apikeys_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS apikeys_auditevent_append_only ON apikeys_auditevent;
DROP FUNCTION IF EXISTS apikeys_auditevent_append_only();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("apikeys", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
