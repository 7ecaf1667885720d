"""The database refuses to rewrite or delete a risk trail (append-only, like the audit trail).

A trail records what the risk was; only its single review may be filled in afterwards
(reviewed, reviewed_date, reviewer, approval_status, risk_type, comments), once.
PostgreSQL: a row trigger refuses DELETE, a change of any recorded column, and a second
review. TRUNCATE stays possible (test flush, benchmark reset). On the embedded SQLite
default the ORM's services are the only writers; no trigger is installed there.
"""

from django.db import migrations

RECORDED = (
    "customer_id",
    "created_at",
    "created_by_id",
    "created_by_label",
    "cause",
    "score",
    "effective_score",
    "level",
    "breakdown",
    "contaminators",
    "inputs_digest",
)

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION users_risktrail_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'Risk trails are append-only: DELETE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF ({" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in RECORDED)}) THEN
        RAISE EXCEPTION 'Risk trails are append-only: a recorded column cannot change'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.reviewed THEN
        RAISE EXCEPTION 'A risk trail is reviewed once' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER users_risktrail_append_only
    BEFORE UPDATE OR DELETE ON users_risktrail
    FOR EACH ROW EXECUTE FUNCTION users_risktrail_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS users_risktrail_append_only ON users_risktrail;
DROP FUNCTION IF EXISTS users_risktrail_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("users", "0003_indexes")]
    operations = [migrations.RunPython(forward, backward)]
