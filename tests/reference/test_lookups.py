"""Reference data: the seed-003 lookup ids, the countries, the registry, `/api/lookups` and the admin."""

import pytest
from django.urls import reverse

from compliance import roles
from compliance.models import AuditTrail
from compliance.reference import models as ref
from compliance.reference.registry import get_lookup, lookup_field, lookup_model, lookup_names, registry
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

# The `checkedLists` of seed 003 (GET /api/customer/...), verbatim, duplicates included.
SEED_DOCUMENT_TYPES = [
    (1, "Reference letter"),
    (2, "Due Diligence QUESTIONAIRE"),
    (3, "Signature"),
    (4, "World Compliance Questionnaire"),
    (5, "Tax Declaration"),
    (6, "Memorandum and Articles of Association"),
    (7, "Group/ Organization Chart"),
    (8, "Certificate of directors"),
    (9, "Certificate of shareholders"),
    (10, "Certificate of registered office"),
    (11, "Certificate of good standing"),
    (12, "Trust deed"),
    (13, "Board resolution"),
    (14, "Engagement letter"),
    (15, "Company relationship form"),
]
SEED_ACTIVITY_RISKS = [
    (1, "Art Dealer"),
    (2, "High Value transactions"),
    (3, "Precious stones"),
    (4, "High Risk trading / Casino gaming"),
    (5, "Internet based business"),
    (6, "Cash based business"),
    (7, "Electronic Money Institution"),
    (8, "Business generating high volumes of cash"),
    (9, "Money Service Business"),
    (10, "Art Dealer"),
    (11, "Precious stones"),
    (12, "High risk trading / Casino gaming"),
    (13, "Internet based business"),
    (14, "Cash based business"),
    (15, "Electronic Money Institution"),
    (16, "High Value transactions"),
    (17, "Money Service Business"),
    (18, "Business generating high volumes of cash"),
    (19, "Bearer Shares"),
]
SEED_BEHAVIOR_RISKS = [
    (1, "Frequent changes of address"),
    (2, "Avoidance of authorities"),
    (3, "Difficult to reach"),
    (4, "Criminal proceedings"),
    (5, "Unwillingness to provide (KYC) documentation/information requested"),
    (6, "Unwillingness to provide details on source of funds"),
    (7, "Provides unusual suspicious ID docs that cannot be easily verified"),
    (8, "Client acting nervous"),
    (9, "Client in depth knowledge of AML requirements"),
    (10, "Frequent changes of address"),
    (11, "Reluctant to provide information"),
    (12, "Not clear business activity"),
    (13, "Difficult to reach"),
    (14, "Avoidance of authorities"),
]
SEED_ENHANCED_CHECKS = [
    (1, "Second Identification Document"),
    (2, "Registered Mail with required response"),
    (3, "Called customer at home phone number"),
    (4, "Home visit"),
    (5, "Visited their offices"),
    (6, "Lawyer Certification"),
    (7, "Received Apostilled documents"),
    (8, "Called at their offices"),
    (9, "Visited their website"),
]

REGISTRY_NAMES = [
    "countries",
    "customer-statuses",
    "customer-types",
    "genders",
    "marital-statuses",
    "incorporation-types",
    "id-card-types",
    "communication-means-types",
    "wealth-scales",
    "wealth-statuses",
    "annual-income-scales",
    "annual-income-statuses",
    "fund-types",
    "statement-types",
    "screening-risk-types",
    "document-types",
    "activity-risks",
    "behavior-risks",
    "enhanced-checks",
    "association-roles",
    "approval-statuses",
    "risk-types",
]

INDEX_URL = "/api/lookups"


def rows_url(name):
    return f"/api/lookups/{name}"


def id_names(model):
    return list(model.objects.order_by("id").values_list("id", "name"))


# --- data ---------------------------------------------------------------------------------


def test_all_249_iso_countries_are_loaded_with_contiguous_ids():
    assert ref.Country.objects.count() == 249
    assert list(ref.Country.objects.order_by("id").values_list("id", flat=True)) == list(range(1, 250))


@pytest.mark.parametrize(
    ("alpha2", "alpha3", "numeric", "name"),
    [
        ("CY", "CYP", "196", "Cyprus"),
        ("AF", "AFG", "004", "Afghanistan"),  # numeric keeps its leading zeros
        ("AX", "ALA", "248", "Åland Islands"),
        ("GB", "GBR", "826", "United Kingdom"),
    ],
)
def test_country_codes(alpha2, alpha3, numeric, name):
    country = ref.Country.objects.get(alpha2=alpha2)
    assert (country.alpha3, country.numeric, country.name) == (alpha3, numeric, name)


def test_country_ids_follow_alphabetical_order():
    assert ref.Country.objects.get(pk=1).alpha2 == "AF"
    assert ref.Country.objects.get(pk=2).alpha2 == "AX"  # "Åland" sorts as "Aland"
    assert ref.Country.objects.get(pk=249).alpha2 == "ZW"


@pytest.mark.parametrize(
    ("alpha2", "score"),
    [
        ("IR", 100),
        ("KP", 100),
        ("MM", 100),  # FATF call for action
        ("KE", 60),
        ("VG", 60),
        ("KW", 60),
        ("PG", 60),  # FATF increased monitoring (13 Feb 2026)
        ("ZA", 0),
        ("NG", 0),
        ("HR", 0),  # delisted in 2025
        ("CY", 0),
        ("GB", 0),
    ],
)
def test_country_default_risk_scores_follow_fatf_lists(alpha2, score):
    country = ref.Country.objects.get(alpha2=alpha2)
    assert country.risk_score == score
    assert country.is_high_risk is (score >= ref.HIGH_RISK_SCORE)


def test_high_risk_counts_match_the_fatf_lists():
    assert ref.Country.objects.filter(risk_score=100).count() == 3
    assert ref.Country.objects.filter(risk_score=60).count() == 22
    assert ref.Country.objects.exclude(risk_score__in=[0, 60, 100]).count() == 0


@pytest.mark.parametrize(
    ("model", "ids"),
    [
        (ref.Country, [1, 90, 128, 137]),  # idCountry, idCountryBirth, ... in the samples
        (ref.CustomerStatus, [1]),
        (ref.CustomerType, [1, 2]),
        (ref.Gender, [1, 3]),
        (ref.MaritalStatus, [1, 6]),
        (ref.IncorporationType, [1]),
        (ref.IdCardType, [2, 3, 4]),
        (ref.CommunicationMeansType, [1, 3, 4]),
        (ref.WealthScale, [1, 2, 6]),
        (ref.WealthStatus, [1, 2]),
        (ref.AnnualIncomeScale, [1, 2]),
        (ref.AnnualIncomeStatus, [1]),
        (ref.FundType, [1, 2]),
        (ref.StatementType, [1]),
        (ref.ScreeningRiskType, [1, 2]),
        (ref.ApprovalStatus, [1]),
        (ref.RiskType, [1]),
    ],
)
def test_every_id_the_seed_samples_use_exists(model, ids):
    assert set(model.objects.filter(pk__in=ids).values_list("pk", flat=True)) == set(ids)


def test_seed_sample_meanings():
    assert ref.ScreeningRiskType.objects.get(pk=2).name == "PEP List"
    assert ref.CustomerType.objects.get(pk=1).name == "Person"
    assert ref.CustomerType.objects.get(pk=2).name == "Organisation"
    # Type 4 holds an email address in the seed, types 1 and 3 phone numbers.
    assert id_names(ref.CommunicationMeansType) == [
        (1, "Phone"),
        (2, "Fax"),
        (3, "Mobile"),
        (4, "Email"),
        (5, "Website"),  # added for seed 004's contactDetails.websites (issue 3)
    ]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (ref.DocumentType, SEED_DOCUMENT_TYPES),
        (ref.ActivityRisk, SEED_ACTIVITY_RISKS),
        (ref.BehaviorRisk, SEED_BEHAVIOR_RISKS),
        (ref.EnhancedCheck, SEED_ENHANCED_CHECKS),
    ],
)
def test_checked_lists_equal_the_seed_exactly(model, expected):
    assert id_names(model) == expected


def test_document_types_required_by_default():
    assert not ref.DocumentType.objects.filter(required_for_person=True).exists()
    assert set(
        ref.DocumentType.objects.filter(required_for_organisation=True).values_list("pk", flat=True)
    ) == {6, 8, 9, 10}


def test_every_lookup_table_has_rows_with_names():
    for name, model in registry.items():
        assert model.objects.exists(), name
        assert not model.objects.filter(name="").exists(), name


# --- registry ------------------------------------------------------------------------------


def test_registry_names_and_models():
    assert lookup_names() == REGISTRY_NAMES
    assert lookup_model("genders") is ref.Gender
    assert lookup_model("countries") is ref.Country
    assert lookup_model("no-such-table") is None
    assert lookup_field("genders") == "idGender"
    assert lookup_field("document-types") == "checkedDocuments"
    assert lookup_field("no-such-table") is None
    # Every concrete model of the app is registered exactly once.
    assert sorted(m.__name__ for m in registry.values()) == sorted(
        m.__name__ for m in [*ref.LookupTable.__subclasses__(), ref.Country]
    )


def test_get_lookup_accepts_ids_and_rejects_junk():
    assert get_lookup(ref.Gender, 3).name == "Other or unspecified"
    assert get_lookup(ref.Gender, "2").name == "Female"
    for junk in (None, True, 1.0, "1.0", "", "abc", -1, 99, 10**30, "٣"):
        assert get_lookup(ref.Gender, junk) is None, junk


def test_get_lookup_active_only():
    ref.Gender.objects.filter(pk=3).update(is_active=False)
    assert get_lookup(ref.Gender, 3) is not None
    assert get_lookup(ref.Gender, 3, active_only=True) is None


# --- API -------------------------------------------------------------------------------------


def test_urls_are_where_the_api_documents_them():
    assert reverse("lookup-tables") == INDEX_URL
    assert reverse("lookup-rows", kwargs={"name": "genders"}) == rows_url("genders")


def test_index_lists_every_registered_table(analyst_client):
    response = analyst_client.get(INDEX_URL)
    assert response.status_code == 200
    body = response.json()
    assert [entry["name"] for entry in body] == REGISTRY_NAMES
    genders = next(entry for entry in body if entry["name"] == "genders")
    assert genders == {"name": "genders", "field": "idGender", "count": 3, "url": "/api/lookups/genders"}
    countries = next(entry for entry in body if entry["name"] == "countries")
    assert countries["count"] == 249
    assert countries["field"] == "idCountry"


def test_countries_shape(integrator_client):
    response = integrator_client.get(rows_url("countries"))
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)  # not paginated
    assert len(body) == 249
    cyprus = next(row for row in body if row["alpha2"] == "CY")
    assert cyprus == {
        "id": ref.Country.objects.get(alpha2="CY").pk,
        "alpha2": "CY",
        "alpha3": "CYP",
        "numeric": "196",
        "name": "Cyprus",
        "riskScore": 0,
        "isActive": True,
    }
    assert next(row for row in body if row["alpha2"] == "AF")["numeric"] == "004"
    names = [row["name"] for row in body]
    assert names == sorted(names)  # ordered by name


def test_plain_lookup_shape(analyst_client):
    response = analyst_client.get(rows_url("screening-risk-types"))
    assert response.status_code == 200
    assert response.json() == [
        {"id": 1, "name": "Sanctions List", "isActive": True},
        {"id": 2, "name": "PEP List", "isActive": True},
        {"id": 3, "name": "Watchlist", "isActive": True},
        {"id": 4, "name": "Adverse Media", "isActive": True},
        {"id": 5, "name": "Internal List", "isActive": True},
    ]


def test_document_types_shape(analyst_client):
    response = analyst_client.get(rows_url("document-types"))
    assert response.status_code == 200
    body = response.json()
    assert [(row["id"], row["name"]) for row in body] == SEED_DOCUMENT_TYPES
    assert body[5] == {
        "id": 6,
        "name": "Memorandum and Articles of Association",
        "isActive": True,
        "requiredForPerson": False,
        "requiredForOrganisation": True,
    }


@pytest.mark.parametrize("name", REGISTRY_NAMES)
def test_every_registered_table_is_readable(analyst_client, name):
    response = analyst_client.get(rows_url(name))
    assert response.status_code == 200
    assert len(response.json()) == lookup_model(name).objects.count()


def test_unknown_table_is_404_naming_it_and_the_valid_names(analyst_client):
    response = analyst_client.get(rows_url("planets"))
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == 404
    assert "planets" in body["message"]
    for name in REGISTRY_NAMES:
        assert name in body["message"]


def test_active_filter(analyst_client):
    ref.Gender.objects.filter(pk=3).update(is_active=False)
    everything = analyst_client.get(rows_url("genders")).json()
    active = analyst_client.get(rows_url("genders"), {"active": "true"}).json()
    inactive = analyst_client.get(rows_url("genders"), {"active": "false"}).json()
    assert [row["id"] for row in everything] == [1, 2, 3]
    assert [row["id"] for row in active] == [1, 2]
    assert [row["id"] for row in inactive] == [3]
    assert inactive[0]["isActive"] is False


@pytest.mark.parametrize("value", ["maybe", ""])
def test_active_filter_rejects_junk(analyst_client, value):
    """An empty `?active=` is a 400 too (issue 2: found by the schemathesis fuzz test)."""
    response = analyst_client.get(rows_url("genders"), {"active": value})
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "active"


@pytest.mark.parametrize("url", [INDEX_URL, rows_url("countries"), rows_url("genders"), rows_url("planets")])
def test_unauthenticated_is_401(api_client, url):
    assert api_client.get(url).status_code == 401


@pytest.mark.parametrize("url", [INDEX_URL, rows_url("countries"), rows_url("genders"), rows_url("planets")])
def test_outsider_is_403(outsider_client, url):
    assert outsider_client.get(url).status_code == 403


@pytest.mark.parametrize("url", [INDEX_URL, rows_url("countries"), rows_url("document-types")])
@pytest.mark.parametrize("persona", ["analyst_client", "integrator_client"])
def test_roles_that_read_reference_data(request, persona, url):
    client = request.getfixturevalue(persona)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_reference_api_is_read_only(analyst_client, method):
    assert getattr(analyst_client, method)(rows_url("genders"), {}).status_code in (403, 405)
    assert getattr(analyst_client, method)(INDEX_URL, {}).status_code in (403, 405)


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_browser(client):
    user = StaffUserFactory(username="reference-admin", roles=[roles.COMPLIANCE_ADMIN], is_staff=True)
    client.force_login(user)
    return client


def test_admin_changelists_load(admin_browser):
    for model in registry.values():
        url = reverse(f"admin:reference_{model._meta.model_name}_changelist")
        assert admin_browser.get(url).status_code == 200, url
    for risk in ("zero", "elevated", "high"):
        url = reverse("admin:reference_country_changelist")
        assert admin_browser.get(url, {"risk": risk}).status_code == 200


def test_admin_never_deletes_reference_rows(admin_browser):
    assert admin_browser.get(reverse("admin:reference_gender_delete", args=[3])).status_code == 403
    assert admin_browser.get(reverse("admin:reference_country_delete", args=[1])).status_code == 403


def test_admin_risk_score_change_is_audited(admin_browser):
    cyprus = ref.Country.objects.get(alpha2="CY")
    response = admin_browser.post(
        reverse("admin:reference_country_change", args=[cyprus.pk]),
        {
            "name": "Cyprus",
            "is_active": "on",
            "alpha2": "CY",
            "alpha3": "CYP",
            "numeric": "196",
            "risk_score": "75",
            # An id is read-only once the row exists: a new id here must be ignored.
            "id": "999",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    cyprus.refresh_from_db()
    assert cyprus.risk_score == 75
    assert not ref.Country.objects.filter(pk=999).exists()
    entry = AuditTrail.objects.get(object_type="reference.country", object_id=str(cyprus.pk))
    assert entry.action == AuditTrail.Action.UPDATE
    assert entry.before["risk_score"] == 0
    assert entry.after["risk_score"] == 75


# --- schema ----------------------------------------------------------------------------------


def test_schema_documents_both_operations_with_the_table_names():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["paths"]["/api/lookups"]["get"]["operationId"] == "lookup_tables_list"
    operation = schema["paths"]["/api/lookups/{name}"]["get"]
    assert operation["operationId"] == "lookup_rows_list"
    name = next(p for p in operation["parameters"] if p["name"] == "name")
    assert sorted(name["schema"]["enum"]) == sorted(REGISTRY_NAMES)
    assert any(p["name"] == "active" and p["in"] == "query" for p in operation["parameters"])
