"""Drop the single-column indexes of `origin_user` / `destination_user`: the (user, timestamp)
indexes serve every lookup by user, and each index is written again on every verified
transaction (issue 4 benchmark). Only the indexes go: letting AlterField do it would drop and
re-add (and so re-validate over the whole table) the foreign keys too."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "origin_user": "transactions_transaction_origin_user_id_2b104698",
    "destination_user": "transactions_transaction_destination_user_id_ce09fe3f",
}


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0003_user_ref_indexes"),
        ("users", "0005_monitoring_activity"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="transaction",
                    name=name,
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="users.customer",
                    ),
                )
                for name in INDEXES
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "transactions_transaction" ("{name}_id")',
                )
                for name, index in INDEXES.items()
            ],
        )
    ]
