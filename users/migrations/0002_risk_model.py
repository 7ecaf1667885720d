"""The default risk model: seed 003's factors in its five categories, level thresholds, review policy.

Rows are data the compliance admin edits afterwards; the parameters here are frozen
inputs of this migration (the factor functions fill any parameter a row leaves out from
`users.risk.factors.DEFAULTS`).
"""

from django.db import migrations

BOTH, PERSON, ORGANISATION = (True, True), (True, False), (False, True)

FACTORS = [
    # code, name, category, (person, organisation), sort, parameters
    ("screening", "Screening", "screening", BOTH, 10,
     {"points_by_list": {"1": 1000, "2": 300, "3": 200, "4": 150, "5": 300}, "pending_min_score": 85,
      "pending_points": 100}),
    ("non_face_to_face", "Non Face to Face", "kyc", PERSON, 20, {"points": 100, "mitigating_checks": [1, 4]}),
    ("id_card", "ID Card", "kyc", PERSON, 30, {"points_no_valid_id": 300, "points_no_copy": 50}),
    ("entity_type", "Entity Type", "kyc", ORGANISATION, 35,
     {"points_by_incorporation_type": {"6": 200, "7": 150, "9": 100, "13": 100}, "points_unknown": 50}),
    ("address", "Address", "kyc", BOTH, 40, {"points_no_address": 300, "points_no_verified_address": 300}),
    ("communication_means", "Communication Means", "kyc", BOTH, 50,
     {"points_none": 100, "points_no_phone": 20, "points_no_email": 20, "phone_types": [1, 3], "email_types": [4]}),
    ("missing_documents", "Missing Documents", "kyc", BOTH, 60, {"points_per_document": 20, "max_points": 200}),
    ("activity", "Activity", "economicProfile", BOTH, 70, {"points_per_risk": 100, "max_points": 500}),
    ("wealth", "Wealth", "economicProfile", BOTH, 80,
     {"verified_status": 2, "points_unverified_wealth_by_scale": {"4": 50, "5": 100, "6": 150},
      "points_unverified_income_by_scale": {"5": 50, "6": 100}}),
    ("financial_statements", "Financial Statements", "economicProfile", ORGANISATION, 90,
     {"max_age_years": 2, "points_missing": 100, "points_no_copy": 30}),
    ("countries", "Countries", "countries", BOTH, 100, {"multiplier": 3, "include_addresses": True}),
    ("country_presence", "Country Presence", "countries", ORGANISATION, 110, {"multiplier": 1, "max_points": 500}),
    ("counterparty", "Counterparty", "countries", ORGANISATION, 120, {"multiplier": 2, "max_points": 600}),
    ("referred_by_third_party", "Referred by third party", "general", BOTH, 130, {"points": 100}),
    ("relationship_length", "Relationship Length", "general", BOTH, 140,
     {"bands": [{"under_years": 1, "points": 50}, {"under_years": 2, "points": 20},
                {"under_years": 5, "points": 10}], "points_unknown": 50}),
    ("behavior", "Behavior", "general", BOTH, 150, {"points_per_risk": 100, "max_points": 500}),
]

# level, from score, seed 003 idRiskType (1 Low, 2 Medium, 3 High)
THRESHOLDS = [
    ("VERY_LOW", 0, 1),
    ("LOW", 200, 1),
    ("MEDIUM", 400, 2),
    ("HIGH", 700, 3),
    ("VERY_HIGH", 1000, 3),
]

REVIEW_MONTHS = [("VERY_HIGH", 6), ("HIGH", 12), ("MEDIUM", 24), ("LOW", 36), ("VERY_LOW", 60)]


def load(apps, schema_editor):
    db = schema_editor.connection.alias
    factor = apps.get_model("users", "RiskFactor")
    factor.objects.using(db).bulk_create(
        factor(
            code=code,
            name=name,
            category=category,
            applies_to_person=scope[0],
            applies_to_organisation=scope[1],
            sort_order=sort,
            parameters=params,
        )
        for code, name, category, scope, sort, params in FACTORS
    )
    threshold = apps.get_model("users", "RiskLevelThreshold")
    threshold.objects.using(db).bulk_create(
        threshold(level=level, min_score=score, risk_type_id=risk_type) for level, score, risk_type in THRESHOLDS
    )
    policy = apps.get_model("users", "ReviewPolicy")
    policy.objects.using(db).bulk_create(policy(level=level, review_months=months) for level, months in REVIEW_MONTHS)


def unload(apps, schema_editor):
    db = schema_editor.connection.alias
    for name in ("RiskFactor", "RiskLevelThreshold", "ReviewPolicy"):
        apps.get_model("users", name).objects.using(db).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
        ("reference", "0003_association_roles_websites"),
    ]

    operations = [migrations.RunPython(load, unload)]
