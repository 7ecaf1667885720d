"""Load the seed-003 lookup rows and the ISO 3166-1 countries with their FATF risk defaults.

Reads `compliance/reference/data/lookups.json` and `countries.json`, which are frozen
inputs of this migration: a later change to the rows needs a new data migration (or an
edit in the admin), not an edit of these files. Reversing deletes exactly the ids loaded.
"""

import json
from pathlib import Path

from django.db import migrations

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _read(name):
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _lookup_tables():
    return {model: rows for model, rows in _read("lookups.json").items() if not model.startswith("_")}


def _countries():
    data = _read("countries.json")
    score_of = {}
    for source in data["default_risk_scores"]:
        for alpha2 in source["alpha2"]:
            score_of[alpha2] = max(score_of.get(alpha2, 0), source["risk_score"])
    known = {row["alpha2"] for row in data["countries"]}
    unknown = set(score_of) - known
    if unknown:
        raise ValueError(f"default_risk_scores name unknown countries: {sorted(unknown)}")
    return [{**row, "risk_score": score_of.get(row["alpha2"], 0)} for row in data["countries"]]


def load(apps, schema_editor):
    db = schema_editor.connection.alias
    for model_name, rows in _lookup_tables().items():
        model = apps.get_model("reference", model_name)
        model.objects.using(db).bulk_create([model(**row) for row in rows])
    country = apps.get_model("reference", "Country")
    country.objects.using(db).bulk_create([country(**row) for row in _countries()])


def unload(apps, schema_editor):
    db = schema_editor.connection.alias
    for model_name, rows in _lookup_tables().items():
        model = apps.get_model("reference", model_name)
        model.objects.using(db).filter(pk__in=[row["id"] for row in rows]).delete()
    country = apps.get_model("reference", "Country")
    country.objects.using(db).filter(pk__in=[row["id"] for row in _countries()]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reference", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
