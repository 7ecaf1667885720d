"""Seed 003 customer API: every sample request of the document, answered in its shapes and codes."""

import pytest

from compliance.models import AuditTrail
from users.models import Address, Customer, RiskTrail

pytestmark = pytest.mark.django_db

PERSON = {
    "details": {
        "dateBirth": "1965-02-01",
        "firstName": "John",
        "maidenName": "Sierra",
        "lastName": "Doe",
        "idCountryBirth": 137,
        "idCountryNationality": 137,
        "idCountryResidence": 137,
        "idGender": 3,
        "idMaritalStatus": 1,
        "nonFaceToFace": True,
        "profession": "Accountant",
    },
    "main": {
        "idCustomerStatus": 1,
        "idCustomerType": 1,
        "idInternalCustomer": "JD001",
        "idUserResponsibleOfficer": None,
        "otherInfo": "Lorem Ipsum Comment",
        "relationshipStartDate": "2001-01-19",
        "relationshipEndDate": "2004-12-24",
    },
}
ORGANISATION = {
    "details": {
        "dateIncorporation": "2001-12-20",
        "idCountryActivity": 137,
        "idCountryDomiciliary": 137,
        "idCountryIncorporation": 137,
        "idIncorporationType": 1,
        "mainBusinessActivity": "Trading",
        "registeredName": "ACME Corporation LTD",
        "registrationNo": "CY123",
        "tradeName": None,
    },
    "main": {
        "idCustomerStatus": 1,
        "idCustomerType": 2,
        "idInternalCustomer": "AC001",
        "idUserResponsibleOfficer": None,
        "otherInfo": None,
        "referralAgent": None,
        "relationshipStartDate": "2001-01-19",
        "relationshipEndDate": None,
    },
}

# The seed's sample bodies for each list: (path, POST body, PUT body).
LIST_SAMPLES = {
    "person": [
        (
            "id-card",
            [{"idIdCardType": 3, "number": "CY-JD-001", "expirationDate": "2080-01-04", "copy": True}],
            {"copy": False, "number": "CY-JD-002"},
        ),
        (
            "addresses",
            [
                {
                    "streetName": "13 Nelsonos Street",
                    "city": "Nicosia",
                    "postcode": "2029",
                    "idCountry": 137,
                    "verified": True,
                }
            ],
            {"streetName": "55 Fykardou Street", "postcode": "2010", "verified": False},
        ),
        (
            "communication-means",
            [{"idCommunicationMeansType": 4, "value": "jd@example.com"}],
            {"value": "john@example.com"},
        ),
        (
            "wealth",
            [{"idWealthScale": 1, "idWealthStatus": 1, "source": "Oil Investments"}],
            {"source": "Lottery Winnings"},
        ),
        (
            "annual-income",
            [{"idAnnualIncomeScale": 1, "idAnnualIncomeStatus": 1, "source": "Oil Investments"}],
            {"source": "Lottery Winnings"},
        ),
        (
            "screening-risks",
            [
                {
                    "idScreeningRiskType": 1,
                    "full_name": "Donald Trump",
                    "score": 97,
                    "inspected": True,
                    "confirmed": False,
                    "manual_addition": True,
                }
            ],
            {"confirmed": True},
        ),
    ],
    "organisation": [
        (
            "counterparty",
            [
                {
                    "counterpartName": "Mary Jane",
                    "idCountry": 137,
                    "idFundType": 1,
                    "comments": "Lorem Ipsum",
                },
                {
                    "counterpartName": "John Doe",
                    "idCountry": 128,
                    "idFundType": 2,
                    "comments": "The comments",
                },
            ],
            {"comments": "Lorem Ipsum Dolor Sit Amet"},
        ),
        (
            "financial-statement",
            [{"copy": True, "idStatementType": 1, "income": "500000.00", "year": 2005}],
            {"year": 2006},
        ),
        ("country-presence", [{"idCountry": 1, "year": 2005}], {"year": 2006}),
    ],
}


def _write_result(response, status=200):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"idAuditTrail", "idRiskTrail"}
    assert AuditTrail.objects.filter(pk=body["idAuditTrail"]).exists()
    assert RiskTrail.objects.filter(pk=body["idRiskTrail"]).exists()
    return body


@pytest.mark.parametrize("sample", [PERSON, ORGANISATION], ids=["person", "organisation"])
def test_create_answers_audit_and_risk_trail_ids(integrator_client, sample):
    body = _write_result(integrator_client.post("/api/customer", sample, format="json"))
    customer = Customer.objects.get(external_ref=sample["main"]["idInternalCustomer"])
    trail = RiskTrail.objects.get(pk=body["idRiskTrail"])
    assert trail.customer == customer
    assert trail.score == customer.risk_score
    audit = AuditTrail.objects.get(pk=body["idAuditTrail"])
    assert audit.action == "create"
    assert audit.object_id == str(customer.pk)
    assert audit.actor_api_key is not None


def test_get_person_document_has_the_seed_shape(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    for path, rows, _ in LIST_SAMPLES["person"]:
        _write_result(integrator_client.post(f"/api/customer/JD001/{path}", rows, format="json"))
    integrator_client.put("/api/customer/JD001/checked-lists/documents", {"added": [1, 5]}, format="json")

    body = integrator_client.get("/api/customer/JD001").json()
    assert set(body) == {"singles", "lists", "checkedLists"}
    main, details = body["singles"]["main"], body["singles"]["details"]
    assert set(main) >= {
        "idCustomer",
        "idUserLastModified",
        "idInternalCustomer",
        "relationshipStartDate",
        "relationshipEndDate",
        "referralAgent",
        "otherInfo",
        "idCustomerStatus",
        "idCustomerType",
        "idUserResponsibleOfficer",
        "idUser",
        "printName",
    }
    assert main["idInternalCustomer"] == "JD001"
    assert main["referralAgent"] is None
    assert main["idUser"] == integrator_client.user.pk
    assert details["firstName"] == "John"
    assert details["maidenName"] == "Sierra"
    assert details["idCountryNationality"] == 137
    assert details["nonFaceToFace"] is True
    assert set(body["lists"]) == {
        "idCards",
        "addresses",
        "communicationMeans",
        "wealthEntries",
        "annualIncomeEntries",
        "screeningRisks",
        "documents",
        "events",
        "stakesOut",
        "rolesOut",
    }
    addresses = body["lists"]["addresses"]
    assert addresses["id"] == "idAddress"
    assert addresses["deletedRows"] == []
    row = addresses["contents"][0]
    assert row == {
        "idAddress": row["id"],
        "idCustomer": main["idCustomer"],
        "idCountry": 137,
        "streetName": "13 Nelsonos Street",
        "postcode": "2029",
        "city": "Nicosia",
        "filename": None,
        "verified": True,
        "id": row["id"],
    }
    id_card = body["lists"]["idCards"]["contents"][0]
    assert id_card["idIdCardType"] == 3
    assert id_card["expirationDate"] == "2080-01-04"
    assert id_card["copy"] is True
    documents = body["checkedLists"]["checkedDocuments"]
    assert documents["contents"] == [1, 5]
    assert documents["added"] == []
    assert documents["removed"] == []
    assert documents["listId"] == "documents"
    assert {"id": 1, "name": "Reference letter"} in documents["types"]
    assert set(body["checkedLists"]) == {
        "checkedDocuments",
        "checkedActivityRisks",
        "checkedBehaviorRisks",
        "checkedEnhancedChecks",
    }


def test_organisation_document_has_its_own_lists(integrator_client):
    integrator_client.post("/api/customer", ORGANISATION, format="json")
    for path, rows, _ in LIST_SAMPLES["organisation"]:
        _write_result(integrator_client.post(f"/api/customer/AC001/{path}", rows, format="json"))
    body = integrator_client.get("/api/customer/AC001").json()
    assert body["singles"]["details"]["registeredName"] == "ACME Corporation LTD"
    assert body["singles"]["details"]["tradeName"] is None
    assert "idCards" not in body["lists"]
    assert {"funds", "financialStatements", "countryPresence", "stakesIn", "rolesIn"} <= set(body["lists"])
    statement = integrator_client.get("/api/customer/AC001/financial-statement").json()[0]
    assert statement == {
        "idStatement": statement["id"],
        "idStatementType": 1,
        "year": 2005,
        "income": 500000.0,
        "expenses": None,
        "copy": True,
        "id": statement["id"],
    }
    funds = integrator_client.get("/api/customer/AC001/counterparty").json()
    assert [f["counterpartName"] for f in funds] == ["Mary Jane", "John Doe"]
    assert set(funds[0]) == {"idFund", "idFundType", "idCountry", "comments", "counterpartName", "id"}


@pytest.mark.parametrize(
    ("kind", "ref", "sample"), [("person", "JD001", PERSON), ("organisation", "AC001", ORGANISATION)]
)
def test_every_list_sample_posts_gets_puts_and_deletes(integrator_client, kind, ref, sample):
    integrator_client.post("/api/customer", sample, format="json")
    for path, rows, change in LIST_SAMPLES[kind]:
        _write_result(integrator_client.post(f"/api/customer/{ref}/{path}", rows, format="json"))
        listed = integrator_client.get(f"/api/customer/{ref}/{path}")
        assert listed.status_code == 200
        assert len(listed.json()) == len(rows)
        row_id = listed.json()[0]["id"]
        _write_result(integrator_client.put(f"/api/customer/{ref}/{path}/{row_id}", change, format="json"))
        changed = next(
            r for r in integrator_client.get(f"/api/customer/{ref}/{path}").json() if r["id"] == row_id
        )
        for key, value in change.items():
            assert changed[key] == value, (path, key)
        _write_result(integrator_client.delete(f"/api/customer/{ref}/{path}/{row_id}"))
        assert row_id not in [r["id"] for r in integrator_client.get(f"/api/customer/{ref}/{path}").json()]


def test_put_customer_samples(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    integrator_client.post("/api/customer", ORGANISATION, format="json")
    _write_result(
        integrator_client.put(
            "/api/customer/JD001",
            {"details": {"profession": "Programmer"}, "main": {"otherInfo": "Lorem Ipsum Comment 2"}},
            format="json",
        )
    )
    _write_result(
        integrator_client.put(
            "/api/customer/AC001",
            {"details": {"registrationNo": "CY-456"}, "main": {"otherInfo": "Lorem Ipsum Comment 2"}},
            format="json",
        )
    )
    person = Customer.objects.get(external_ref="JD001")
    assert person.profession == "Programmer"
    assert person.other_info == "Lorem Ipsum Comment 2"
    assert person.first_name == "John"  # a PUT changes only what it sends
    assert Customer.objects.get(external_ref="AC001").registration_no == "CY-456"


def test_delete_customer_is_204_and_keeps_the_record(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    response = integrator_client.delete("/api/customer/JD001")
    assert response.status_code == 204
    assert response.content == b""
    assert integrator_client.get("/api/customer/JD001").status_code == 404
    assert Customer.all_objects.filter(external_ref="JD001", deleted_at__isnull=False).exists()
    assert AuditTrail.objects.filter(action="delete", object_type="users.customer").exists()
    # The reference is free again.
    _write_result(integrator_client.post("/api/customer", PERSON, format="json"))


def test_unchanged_write_repeats_the_latest_risk_trail(integrator_client):
    first = _write_result(integrator_client.post("/api/customer", PERSON, format="json"))
    # otherInfo is not an input of the risk: same trail.
    same = _write_result(
        integrator_client.put("/api/customer/JD001", {"main": {"otherInfo": "x"}}, format="json")
    )
    assert same["idRiskTrail"] == first["idRiskTrail"]
    assert same["idAuditTrail"] > first["idAuditTrail"]
    # A verified address changes the score: a new trail.
    moved = _write_result(
        integrator_client.post(
            "/api/customer/JD001/addresses",
            [{"idCountry": 137, "verified": True, "city": "Nicosia"}],
            format="json",
        )
    )
    assert moved["idRiskTrail"] > first["idRiskTrail"]


def test_risk_answers_the_seed_shape_for_each_type(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    integrator_client.post("/api/customer", ORGANISATION, format="json")
    person = integrator_client.get("/api/customer/JD001/risk").json()
    assert list(person["totals"]) == ["screening", "kyc", "economicProfile", "countries", "general"]
    assert [f["name"] for f in person["totals"]["kyc"]["contents"]] == [
        "Non Face to Face",
        "ID Card",
        "Address",
        "Communication Means",
        "Missing Documents",
    ]
    assert person["totals"]["kyc"]["name"] == "KYC Risks"
    assert person["global"]["score"] == sum(group["score"] for group in person["totals"].values())
    assert person["contaminators"] == []
    organisation = integrator_client.get("/api/customer/AC001/risk").json()
    assert [f["name"] for f in organisation["totals"]["kyc"]["contents"]] == [
        "Entity Type",
        "Address",
        "Communication Means",
        "Missing Documents",
    ]
    assert [f["name"] for f in organisation["totals"]["economicProfile"]["contents"]] == [
        "Activity",
        "Wealth",
        "Financial Statements",
    ]
    assert [f["name"] for f in organisation["totals"]["countries"]["contents"]] == [
        "Countries",
        "Country Presence",
        "Counterparty",
    ]
    assert [f["name"] for f in organisation["totals"]["general"]["contents"]] == [
        "Referred by third party",
        "Relationship Length",
        "Behavior",
        "Transaction Monitoring",  # issue 4: the CRA factor fed by transaction monitoring
    ]


def test_risk_trails_limits(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    integrator_client.post(
        "/api/customer/JD001/addresses", [{"idCountry": 137, "verified": True}], format="json"
    )
    one = integrator_client.get("/api/customer/JD001/risk-trails?limits=1").json()
    assert isinstance(one, dict)
    assert set(one) >= {
        "id",
        "idRiskTrail",
        "reviewed",
        "reviewedDate",
        "comments",
        "idCustomer",
        "idRiskType",
        "idUserReviewer",
        "userReviewerName",
        "idApprovalStatus",
        "approvalStatusName",
    }
    assert one["reviewed"] is False
    assert one["idApprovalStatus"] is None
    many = integrator_client.get("/api/customer/JD001/risk-trails?limits=5").json()
    assert [t["id"] for t in many] == sorted((t["id"] for t in many), reverse=True)
    assert many[0]["id"] == one["id"]
    assert len(many) == 2
    assert integrator_client.get("/api/customer/JD001/risk-trails?limits=0").status_code == 400
    assert integrator_client.get("/api/customer/JD001/risk-trails?limits=x").status_code == 400


def test_checked_lists_add_remove_and_replace(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    url = "/api/customer/JD001/checked-lists/behavior-risks"
    _write_result(integrator_client.put(url, {"added": [3, 5]}, format="json"))
    assert integrator_client.get(url).json()["contents"] == [3, 5]
    _write_result(integrator_client.put(url, {"removed": [3]}, format="json"))
    assert integrator_client.get(url).json()["contents"] == [5]
    _write_result(integrator_client.put(url, {"contents": [1, 2]}, format="json"))
    assert integrator_client.get(url).json()["contents"] == [1, 2]
    bad = integrator_client.put(url, {"added": [999]}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["property"] == "added"
    assert (
        integrator_client.put(
            "/api/customer/JD001/checked-lists/nope", {"added": [1]}, format="json"
        ).status_code
        == 404
    )


def test_list_filters_and_paging(integrator_client, make_customer):
    make_customer(ref="P1")
    make_customer(ref="O1", person=False)
    make_customer(ref="P2", country_residence=1)
    body = integrator_client.get("/api/customer?idCustomerType=2").json()
    assert [c["idInternalCustomer"] for c in body["customers"]] == ["O1"]
    assert body["totalCount"] == 1
    body = integrator_client.get("/api/customer?idCountryResidence=1").json()
    assert [c["idInternalCustomer"] for c in body["customers"]] == ["P2"]
    level = Customer.objects.get(external_ref="P1").risk_level
    body = integrator_client.get(f"/api/customer?riskLevel={level}").json()
    assert "P1" in [c["idInternalCustomer"] for c in body["customers"]]
    body = integrator_client.get("/api/customer?pageSize=2&page=2").json()
    assert body["totalCount"] == 3
    assert len(body["customers"]) == 1
    assert integrator_client.get("/api/customer?riskLevel=EXTREME").status_code == 400
    assert integrator_client.get("/api/customer?reviewDueBefore=yesterday").status_code == 400


# --- bad input ---------------------------------------------------------------------------


def _problems(response):
    assert response.status_code == 400, response.content
    return {e["property"]: e["issue"] for e in response.json()["errors"]}


def test_unknown_lookup_ids_are_named(integrator_client):
    body = {**PERSON, "details": {**PERSON["details"], "idGender": 99, "idCountryBirth": 9999}}
    problems = _problems(integrator_client.post("/api/customer", body, format="json"))
    assert problems["details.idGender"] == "Unknown id 99."
    assert problems["details.idCountryBirth"] == "Unknown id 9999."


def test_malformed_dates_wrong_types_unknown_properties(integrator_client):
    body = {
        "main": {**PERSON["main"], "relationshipStartDate": "19-01-2001", "idCustomerStatus": "one"},
        "details": {**PERSON["details"], "nonFaceToFace": "perhaps", "idCountryResidense": 1},
    }
    problems = _problems(integrator_client.post("/api/customer", body, format="json"))
    assert "main.relationshipStartDate" in problems
    assert "wrong format" in problems["main.relationshipStartDate"]
    assert problems["main.idCustomerStatus"] == "Expected an integer id, got str."
    assert "details.nonFaceToFace" in problems
    assert problems["details.idCountryResidense"] == "Unknown property."


def test_organisation_fields_on_a_person_are_refused(integrator_client):
    body = {**PERSON, "details": {**PERSON["details"], "registeredName": "ACME"}}
    assert "details.registeredName" in _problems(integrator_client.post("/api/customer", body, format="json"))


def test_missing_type_and_bad_bodies(integrator_client):
    assert "main.idCustomerType" in _problems(
        integrator_client.post("/api/customer", {"main": {"idInternalCustomer": "X"}}, format="json")
    )
    assert integrator_client.post("/api/customer", [1, 2], format="json").status_code == 400
    integrator_client.post("/api/customer", PERSON, format="json")
    assert (
        integrator_client.post("/api/customer/JD001/addresses", {"city": "x"}, format="json").status_code
        == 400
    )
    assert integrator_client.post("/api/customer/JD001/addresses", [], format="json").status_code == 400
    problems = _problems(
        integrator_client.post(
            "/api/customer/JD001/id-card", [{"idIdCardType": 1}, {"number": "x"}], format="json"
        )
    )
    assert "[0].number" in problems
    assert "[1].idIdCardType" in problems
    problems = _problems(
        integrator_client.put(
            "/api/customer/JD001", {"main": {"relationshipEndDate": "1990-01-01"}}, format="json"
        )
    )
    assert "main.relationshipEndDate" in problems


def test_relationship_dates_in_order(integrator_client):
    body = {**PERSON, "main": {**PERSON["main"], "relationshipEndDate": "1990-01-01"}}
    assert "main.relationshipEndDate" in _problems(
        integrator_client.post("/api/customer", body, format="json")
    )


def test_duplicate_reference_is_409(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    assert integrator_client.post("/api/customer", PERSON, format="json").status_code == 409


def test_list_of_the_other_type_is_refused(integrator_client):
    integrator_client.post("/api/customer", ORGANISATION, format="json")
    response = integrator_client.post(
        "/api/customer/AC001/id-card", [{"idIdCardType": 1, "number": "1"}], format="json"
    )
    assert response.status_code == 400
    assert "persons only" in response.json()["message"]


def test_unknown_customer_and_row_are_404(integrator_client):
    assert integrator_client.get("/api/customer/NOPE").status_code == 404
    assert integrator_client.get("/api/customer/NOPE/risk").status_code == 404
    assert (
        integrator_client.post("/api/customer/NOPE/addresses", [{"city": "x"}], format="json").status_code
        == 404
    )
    integrator_client.post("/api/customer", PERSON, format="json")
    assert (
        integrator_client.put("/api/customer/JD001/addresses/999", {"city": "x"}, format="json").status_code
        == 404
    )
    assert integrator_client.delete("/api/customer/JD001/addresses/abc").status_code == 404
    # Rows of another customer are not reachable through this one.
    integrator_client.post("/api/customer", ORGANISATION, format="json")
    integrator_client.post("/api/customer/AC001/addresses", [{"city": "Limassol"}], format="json")
    other = Address.objects.get(city="Limassol")
    assert integrator_client.delete(f"/api/customer/JD001/addresses/{other.pk}").status_code == 404


# --- who may do what -----------------------------------------------------------------------


def test_credentials_and_roles(api_client, outsider_client, analyst_client, integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    assert api_client.get("/api/customer/JD001").status_code == 401
    assert outsider_client.get("/api/customer/JD001").status_code == 403
    assert analyst_client.get("/api/customer/JD001").status_code == 200
    assert (
        analyst_client.post("/api/customer/JD001/addresses", [{"city": "Nicosia"}], format="json").status_code
        == 200
    )
    # Analysts keep files up to date but do not delete customers.
    assert analyst_client.delete("/api/customer/JD001").status_code == 403
    assert outsider_client.post("/api/customer", ORGANISATION, format="json").status_code == 403


def test_document_uses_a_fixed_number_of_queries(integrator_client, django_assert_num_queries):
    integrator_client.post("/api/customer", PERSON, format="json")
    integrator_client.post(
        "/api/customer", {**PERSON, "main": {**PERSON["main"], "idInternalCustomer": "JD002"}}, format="json"
    )
    for _ in range(5):
        for path, rows, _ in LIST_SAMPLES["person"]:
            integrator_client.post(f"/api/customer/JD002/{path}", rows, format="json")
    # Authentication: the API key with its user (1; the user's permissions were read by the
    # posts above and are cached, see compliance.api.permissions); throttling uses the cache.
    # Then the customer (1), the ten lists of a person (10), the four checked lists (4) and
    # their types (4).
    with django_assert_num_queries(1 + 1 + 10 + 4 + 4):
        small = integrator_client.get("/api/customer/JD001")
    with django_assert_num_queries(1 + 1 + 10 + 4 + 4):
        large = integrator_client.get("/api/customer/JD002")
    assert len(large.json()["lists"]["addresses"]["contents"]) == 5
    assert small.status_code == 200


def test_empty_filter_values_are_refused(integrator_client):
    response = integrator_client.get("/api/customer?updatedAfter=&riskLevel=")
    assert response.status_code == 400
    assert {"updatedAfter", "riskLevel"} <= {e["property"] for e in response.json()["errors"]}
    assert integrator_client.get("/api/customer?search=").status_code == 200


def test_out_of_range_filter_ids_are_400(integrator_client):
    # Found by the fuzz test: an id beyond the column's range overflowed SQLite (a 500).
    for query in (
        "idCustomerStatus=9223372036854775808",
        "idCountryResidence=99999999999",
        "idCustomerType=-1",
    ):
        assert integrator_client.get(f"/api/customer?{query}").status_code == 400, query


def test_responsible_officer_must_be_an_active_staff_user(integrator_client, analyst):
    body = {**PERSON, "main": {**PERSON["main"], "idUserResponsibleOfficer": 987654}}
    assert _problems(integrator_client.post("/api/customer", body, format="json")) == {
        "main.idUserResponsibleOfficer": "Unknown staff user id 987654."
    }
    body["main"]["idUserResponsibleOfficer"] = analyst.pk
    _write_result(integrator_client.post("/api/customer", body, format="json"))
    assert Customer.objects.get(external_ref="JD001").responsible_officer == analyst


def test_stakes_and_roles_through_the_api(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    integrator_client.post("/api/customer", ORGANISATION, format="json")
    _write_result(
        integrator_client.post(
            "/api/customer/JD001/stakes", [{"idInternalCustomer": "AC001", "percentage": 25}], format="json"
        )
    )
    _write_result(
        integrator_client.post(
            "/api/customer/JD001/roles",
            [{"idInternalCustomer": "AC001", "idAssociationRole": 1}],
            format="json",
        )
    )
    person = integrator_client.get("/api/customer/JD001").json()["lists"]
    organisation = integrator_client.get("/api/customer/AC001").json()["lists"]
    [stake] = person["stakesOut"]["contents"]
    assert stake["percentage"] == 25.0
    assert organisation["stakesIn"]["contents"] == [stake]
    [role] = person["rolesOut"]["contents"]
    assert role["idAssociationRole"] == 1
    assert organisation["rolesIn"]["contents"] == [role]
    _write_result(integrator_client.delete(f"/api/customer/JD001/stakes/{stake['idStake']}"))
    _write_result(integrator_client.delete(f"/api/customer/JD001/roles/{role['idCustomerAssociation']}"))
    assert integrator_client.get("/api/customer/JD001/stakes").json() == []
    assert integrator_client.get("/api/customer/JD001/roles").json() == []


def test_a_refused_stake_leaves_the_whole_array_unwritten(integrator_client):
    integrator_client.post("/api/customer", PERSON, format="json")
    integrator_client.post("/api/customer", ORGANISATION, format="json")
    integrator_client.post(
        "/api/customer", {**PERSON, "main": {**PERSON["main"], "idInternalCustomer": "JD002"}}, format="json"
    )
    # The second stake is in a person: refused, and the first one must not stay behind.
    response = integrator_client.post(
        "/api/customer/JD001/stakes",
        [{"idInternalCustomer": "AC001", "percentage": 10}, {"idInternalCustomer": "JD002"}],
        format="json",
    )
    assert response.status_code == 400
    assert integrator_client.get("/api/customer/JD001/stakes").json() == []
    assert _problems(
        integrator_client.post("/api/customer/JD001/stakes", [{"idInternalCustomer": "NOPE"}], format="json")
    ) == {"[0].idInternalCustomer": "Unknown customer NOPE."}
