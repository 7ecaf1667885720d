"""Compress the stored rule results with lz4 on PostgreSQL 14+ (when the server has it).

`executed_rules` (about 12 kB of JSON for ten instances) and `hit_rules` are compressed on every
verified transaction and event; pglz, the default, cost PostgreSQL a noticeable part of the
INSERT (issue 4 benchmark), lz4 is several times faster for the same kind of ratio. Only values
written from now on are affected; nothing else changes (and nothing at all on SQLite).
"""

from django.db import migrations

COLUMNS = {
    "transactions_transaction": ("executed_rules", "hit_rules"),
    "transactions_transactionevent": ("executed_rules", "hit_rules"),
}


def _compress_with(method):
    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql" or connection.pg_version < 140000:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND %s = ANY(enumvals)",
                [method],
            )
            if cursor.fetchone() is None:  # a server built without lz4
                return
            for table, columns in COLUMNS.items():
                alterations = ", ".join(f'ALTER COLUMN "{column}" SET COMPRESSION {method}' for column in columns)
                cursor.execute(f'ALTER TABLE "{table}" {alterations}')

    return apply


class Migration(migrations.Migration):
    dependencies = [("transactions", "0004_user_indexes_covered")]

    operations = [migrations.RunPython(_compress_with("lz4"), _compress_with("pglz"))]
