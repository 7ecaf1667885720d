"""Association roles (directors, shareholders, beneficial owners...) and the Website means of contact.

Rows are inline: `data/lookups.json` is a frozen input of migration 0002.
"""

from django.db import migrations, models

ASSOCIATION_ROLES = [
    (1, "Director"),
    (2, "Shareholder"),
    (3, "Beneficial owner"),
    (4, "Authorised signatory"),
    (5, "Company secretary"),
    (6, "Authorised representative"),
    (7, "Trustee"),
    (8, "Settlor"),
    (9, "Protector"),
    (10, "Beneficiary"),
    (11, "Partner"),
    (12, "Other"),
]
WEBSITE = 5


def load(apps, schema_editor):
    db = schema_editor.connection.alias
    role = apps.get_model("reference", "AssociationRole")
    role.objects.using(db).bulk_create(
        [role(id=pk, name=name, sort_order=pk) for pk, name in ASSOCIATION_ROLES]
    )
    means = apps.get_model("reference", "CommunicationMeansType")
    means.objects.using(db).get_or_create(id=WEBSITE, defaults={"name": "Website", "sort_order": WEBSITE})


def unload(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("reference", "CommunicationMeansType").objects.using(db).filter(id=WEBSITE).delete()


class Migration(migrations.Migration):
    dependencies = [("reference", "0002_load_reference_data")]

    operations = [
        migrations.CreateModel(
            name="AssociationRole",
            fields=[
                (
                    "id",
                    models.PositiveIntegerField(
                        help_text="Stable id used by the API; never renumbered or reused.",
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                (
                    "is_active",
                    models.BooleanField(
                        default=True,
                        help_text="Inactive rows stay valid on existing records but are not offered for new ones.",
                        verbose_name="active",
                    ),
                ),
                (
                    "sort_order",
                    models.IntegerField(default=0, help_text="Lower first; rows with equal order sort by id."),
                ),
            ],
            options={
                "verbose_name": "association role",
                "verbose_name_plural": "association roles",
                "ordering": ["sort_order", "id"],
                "abstract": False,
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("name", ""), _negated=True),
                        name="reference_associationrole_name_not_blank",
                        violation_error_message="The name must not be blank.",
                    )
                ],
            },
        ),
        migrations.RunPython(load, unload),
    ]
