"""The database itself refuses to change or delete audit rows.

PostgreSQL: a row trigger refuses UPDATE and DELETE from any client, ORM or raw SQL.
(TRUNCATE stays possible so the test suite can reset tables; in production, also revoke
UPDATE, DELETE and TRUNCATE on the table from the application's role — see README.)
SQLite, the embedded default: UPDATE is refused; DELETE is left to the ORM's refusal,
because Django's test flush empties SQLite tables with DELETE.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION compliance_audittrail_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER compliance_audittrail_append_only
    BEFORE UPDATE OR DELETE ON compliance_audittrail
    FOR EACH ROW EXECUTE FUNCTION compliance_audittrail_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS compliance_audittrail_append_only ON compliance_audittrail;
DROP FUNCTION IF EXISTS compliance_audittrail_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER compliance_audittrail_no_update BEFORE UPDATE ON compliance_audittrail
BEGIN SELECT RAISE(ABORT, 'The audit trail is append-only: UPDATE refused'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS compliance_audittrail_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
