"""Seed 004 users and user events (`/api/individual/users`, `/api/entity/users`, `/api/events/.../user`).

The samples below are the Postman collection's (seed 004, folders "User/Individual Users",
"User/Entity Users", "User/Individual User Events", "User/Entity User Events"): request
bodies with their `//` comments stripped, and the answers the collection shows. Each sample
is posted as is and its answer compared with the sample's, property by property; where we
answer differently on purpose, the test says so and why.
"""

import copy
import hashlib
import json
from datetime import date

import pytest
from django.urls import reverse

from compliance.audit import Actor
from compliance.models import AuditTrail
from compliance.reference.models import Country
from tests.users.conftest import create_customer
from users.lists import BY_PATH
from users.models import (
    Address,
    Customer,
    CustomerAssociation,
    RiskTrail,
    Stake,
    UserEvent,
)
from users.services import kyc as kyc_services
from users.services import user_api

DAY_MS = 86_400_000

# --- the seed's samples -----------------------------------------------------------------------

INDIVIDUAL_USER_REQUEST = {
    "userId": "47b2ed45-971f-4234-b774-40acde4cc44c",
    "createdTimestamp": 1733646618204,
    "userType": "INDIVIDUAL",
    "userDetails": {
        "name": {"firstName": "Danny", "middleName": "Nancy", "lastName": "Anderson"},
        "dateOfBirth": "1994-01-21",
        "countryOfResidence": "EE",
        "countryOfNationality": "FR",
    },
    "legalDocuments": [
        {
            "documentType": "passport",
            "documentNumber": "vcj-758173",
            "documentIssuedDate": 1702089666204,
            "documentExpirationDate": 1765203570204,
            "documentIssuedCountry": "IT",
        }
    ],
    "reasonForAccountOpening": ["INVESTMENT"],
    "sourceOfFunds": ["SAVINGS"],
    "userStateDetails": {"state": "CREATED", "reason": ""},
    "kycStatusDetails": {"status": "NOT_STARTED", "reason": ""},
    "contactDetails": {
        "emailIds": ["gregory82@example.com"],
        "contactNumbers": ["690.518.4303"],
        "websites": ["http://www.page.com/"],
        "addresses": [
            {
                "addressLines": ["363 Johnson Crescent"],
                "postcode": "19499",
                "city": "New Shane",
                "state": "Maryland",
                "country": "Colombia",
                "addressType": "Other",
                "tags": [{"key": "forward", "value": "small"}],
            }
        ],
    },
    "tags": [{"key": "addedBy", "value": "API Docs Tester"}],
}

INDIVIDUAL_USER_RESPONSE = {
    "legalEntity": {"companyGeneralDetails": {"businessIndustry": [], "mainProductsServicesSold": []}},
    "userDetails": {
        "name": {"firstName": "Danny", "middleName": "Nancy", "lastName": "Anderson"},
        "dateOfBirth": "1994-01-21",
        "countryOfResidence": "EE",
        "countryOfNationality": "FR",
    },
    "contactDetails": {
        "emailIds": ["gregory82@example.com"],
        "contactNumbers": ["690.518.4303"],
        "websites": ["http://www.page.com/"],
        "addresses": [
            {
                "addressLines": ["363 Johnson Crescent"],
                "postcode": "19499",
                "city": "New Shane",
                "state": "Maryland",
                "country": "Colombia",
                "tags": [
                    {
                        "key": "forward",
                        "value": "small",
                        "_id": "675559e9b1d3a7ca74dc4aac",
                        "id": "675559e9b1d3a7ca74dc4aac",
                    }
                ],
                "_id": "675559e9b1d3a7ca74dc4aab",
                "id": "675559e9b1d3a7ca74dc4aab",
            }
        ],
        "faxNumbers": [],
    },
    "employmentDetails": {"businessIndustry": []},
    "userStateDetails": {"state": "CREATED", "reason": ""},
    "kycStatusDetails": {"status": "NOT_STARTED", "reason": ""},
    "userId": "47b2ed45-971f-4234-b774-40acde4cc44c",
    "createdTimestamp": 1733646618204,
    "updatedTimestamp": 1733646825456,
    "userType": "INDIVIDUAL",
    "legalDocuments": [
        {
            "documentType": "passport",
            "documentNumber": "vcj-758173",
            "documentIssuedDate": 1702089666204,
            "documentExpirationDate": 1765203570204,
            "documentIssuedCountry": "IT",
            "tags": [],
        }
    ],
    "reasonForAccountOpening": ["INVESTMENT"],
    "sourceOfFunds": ["SAVINGS"],
    "tags": [{"key": "addedBy", "value": "API Docs Tester"}],
    "pepStatus": [],
    "updatedAt": "2024-12-08T08:33:45.467Z",
    "executedRules": [],
    "hitRules": [],
    "riskScoreDetails": {
        "irsRiskScore": 0,
        "irsRiskLevel": "MEDIUM",
        "orsRiskScore": 0,
        "orsRiskLevel": "MEDIUM",
    },
}

ENTITY_USER_REQUEST = {
    "userId": "ef43e47a-7f3e-485f-b6ab-402949bf5ea5",
    "createdTimestamp": 1733651312288,
    "userType": "ENTITY",
    "legalEntity": {
        "companyGeneralDetails": {
            "legalName": "Ramos Ltd",
            "businessIndustry": ["unleash B2B initiatives"],
            "mainProductsServicesSold": ["Organized well-modulated leverage"],
        }
    },
    "contactDetails": {
        "emailIds": ["rjenkins@example.org"],
        "contactNumbers": ["(757)263-9862"],
        "faxNumbers": ["001-548-952-7534x50471"],
        "websites": ["http://vargas.com/"],
        "addresses": [
            {
                "addressLines": ["4012 Melissa Keys Suite 792"],
                "postcode": "66355",
                "city": "New Keithberg",
                "state": "Rhode Island",
                "country": "Togo",
                "addressType": "Home",
                "tags": [{"key": "store", "value": "production"}],
            }
        ],
    },
    "reasonForAccountOpening": ["INVESTMENT"],
    "sourceOfFunds": ["SAVINGS"],
    "companyRegistrationDetails": {
        "registrationIdentifier": "Ibg-856428",
        "registrationCountry": "BS",
        "taxResidenceCountry": "AG",
        "taxIdentifier": "wlh-528330",
        "legalEntityType": "LLC",
        "dateOfRegistration": "2016-07-21",
    },
    "userStateDetails": {"state": "CREATED", "reason": ""},
    "kycStatusDetails": {"status": "NOT_STARTED", "reason": ""},
    "shareHolders": [
        {
            "generalDetails": {
                "name": {"firstName": "Alyssa", "middleName": "Ralph", "lastName": "Flowers"},
                "dateOfBirth": "1983-02-08",
                "userCategory": "INDIVIDUAL",
                "countryOfResidence": "BA",
            }
        }
    ],
    "tags": [{"key": "Source", "value": "API Docs Tester"}],
}

ENTITY_USER_RESPONSE = {
    "legalEntity": {
        "companyGeneralDetails": {
            "legalName": "Ramos Ltd",
            "businessIndustry": ["unleash B2B initiatives"],
            "mainProductsServicesSold": ["Organized well-modulated leverage"],
        }
    },
    "contactDetails": {
        "emailIds": ["rjenkins@example.org"],
        "contactNumbers": ["(757)263-9862"],
        "faxNumbers": ["001-548-952-7534x50471"],
        "websites": ["http://vargas.com/"],
        "addresses": [
            {
                "addressLines": ["4012 Melissa Keys Suite 792"],
                "postcode": "66355",
                "city": "New Keithberg",
                "state": "Rhode Island",
                "country": "Togo",
                "tags": [
                    {
                        "key": "store",
                        "value": "production",
                        "_id": "67556beb02b98aaa578f9b65",
                        "id": "67556beb02b98aaa578f9b65",
                    }
                ],
                "_id": "67556beb02b98aaa578f9b64",
                "id": "67556beb02b98aaa578f9b64",
            }
        ],
    },
    "employmentDetails": {"businessIndustry": []},
    "userStateDetails": {"state": "CREATED", "reason": ""},
    "kycStatusDetails": {"status": "NOT_STARTED", "reason": ""},
    "userId": "ef43e47a-7f3e-485f-b6ab-402949bf5ea5",
    "createdTimestamp": 1733651312288,
    "updatedTimestamp": 1733651435744,
    "userType": "ENTITY",
    "reasonForAccountOpening": ["INVESTMENT"],
    "sourceOfFunds": ["SAVINGS"],
    "tags": [{"key": "Source", "value": "API Docs Tester"}],
    "legalDocuments": [],
    "pepStatus": [],
    "updatedAt": "2024-12-08T09:50:35.755Z",
    "executedRules": [],
    "hitRules": [],
    "riskScoreDetails": {
        "irsRiskScore": 0,
        "irsRiskLevel": "MEDIUM",
        "orsRiskScore": 0,
        "orsRiskLevel": "MEDIUM",
    },
}

INDIVIDUAL_EVENT_REQUEST = {
    "timestamp": 1733652039456,
    "userId": "47b2ed45-971f-4234-b774-40acde4cc44c",
    "eventId": "d354c59b09343f018b0d7f5fe888225e787ac3ad",
    "reason": "Update KYC Status",
    "eventDescription": "Update KYC Status",
    "updatedAttributes": {
        "kycStatusDetails": {"status": "SUCCESSFUL", "reason": "KYC Successful"},
        "userStateDetails": {"status": "ACTIVE", "reason": "KYC Successful"},
    },
}

INDIVIDUAL_EVENT_RETRIEVED = {
    "updatedAttributes": {
        "legalEntity": {"companyGeneralDetails": {"businessIndustry": [], "mainProductsServicesSold": []}},
        "contactDetails": {
            "emailIds": [],
            "contactNumbers": [],
            "faxNumbers": [],
            "websites": [],
            "addresses": [],
        },
        "employmentDetails": {"businessIndustry": []},
        "kycStatusDetails": {"status": "SUCCESSFUL", "reason": ""},
        "legalDocuments": [],
        "reasonForAccountOpening": [],
        "sourceOfFunds": [],
        "pepStatus": [],
        "tags": [],
        "userType": "INDIVIDUAL",
    },
    "timestamp": 1733652039456,
    "eventId": "d354c59b09343f018b0d7f5fe888225e787ac3ad",
    "userId": "47b2ed45-971f-4234-b774-40acde4cc44c",
    "reason": "Update KYC Status",
    "eventDescription": "Update KYC Status",
    "updatedAt": "2024-12-08T10:00:54.495Z",
    "tags": [],
    "pepStatus": [],
    "legalDocuments": [],
    "executedRules": [],
    "hitRules": [],
    "riskScoreDetails": {
        "irsRiskScore": 0,
        "irsRiskLevel": "MEDIUM",
        "orsRiskScore": 0,
        "orsRiskLevel": "MEDIUM",
    },
}

ENTITY_EVENT_REQUEST = {
    "timestamp": 1733652495364,
    "userId": "ef43e47a-7f3e-485f-b6ab-402949bf5ea5",
    "eventId": "ea78ebf380811839d27750bf85c9cb6e",
    "reason": "Update Source of Fund",
    "eventDescription": "Update Source of Fund",
    "updatedAttributes": {"sourceOfFunds": ["Investment"]},
}

ENTITY_EVENT_RETRIEVED = {
    "updatedAttributes": {
        "legalEntity": {"companyGeneralDetails": {"businessIndustry": [], "mainProductsServicesSold": []}},
        "contactDetails": {
            "emailIds": [],
            "contactNumbers": [],
            "faxNumbers": [],
            "websites": [],
            "addresses": [],
        },
        "employmentDetails": {"businessIndustry": []},
        "sourceOfFunds": ["Investment"],
        "legalDocuments": [],
        "reasonForAccountOpening": [],
        "pepStatus": [],
        "tags": [],
        "userType": "ENTITY",
    },
    "timestamp": 1733652495364,
    "eventId": "ea78ebf380811839d27750bf85c9cb6e",
    "userId": "ef43e47a-7f3e-485f-b6ab-402949bf5ea5",
    "reason": "Update Source of Fund",
    "eventDescription": "Update Source of Fund",
    "updatedAt": "2024-12-08T10:08:35.147Z",
    "tags": [],
    "pepStatus": [],
    "legalDocuments": [],
    "executedRules": [],
    "hitRules": [],
    "riskScoreDetails": {
        "irsRiskScore": 0,
        "irsRiskLevel": "MEDIUM",
        "orsRiskScore": 0,
        "orsRiskLevel": "MEDIUM",
    },
}

# The event answers are the user answers with the event applied (the collection's own
# "Create ... User Event" answers differ from the user answers in exactly these properties).
INDIVIDUAL_EVENT_RESPONSE = {
    **INDIVIDUAL_USER_RESPONSE,
    "kycStatusDetails": {"status": "SUCCESSFUL", "reason": ""},
    "eventId": "d354c59b09343f018b0d7f5fe888225e787ac3ad",
}
ENTITY_EVENT_RESPONSE = {
    **ENTITY_USER_RESPONSE,
    "sourceOfFunds": ["Investment"],
    "eventId": "ea78ebf380811839d27750bf85c9cb6e",
}

# Values that depend on when and where the sample was made: present, of the sample's type.
VOLATILE = {"updatedTimestamp", "updatedAt", "_id", "id", "riskScoreDetails"}


def assert_like_sample(actual, sample, *, extra=(), path="$"):
    """`actual` has every property of `sample` with its value, and no property beyond
    `extra` (names we answer on top of the sample, on purpose)."""
    if isinstance(sample, dict):
        assert isinstance(actual, dict), path
        assert not sample.keys() - actual.keys(), f"{path}: missing {sorted(sample.keys() - actual.keys())}"
        unexpected = actual.keys() - sample.keys() - set(extra)
        assert not unexpected, f"{path}: unexpected {sorted(unexpected)}"
        for key, value in sample.items():
            if key in VOLATILE:
                assert type(actual[key]) is type(value), f"{path}.{key}"
            else:
                assert_like_sample(actual[key], value, extra=extra, path=f"{path}.{key}")
    elif isinstance(sample, list):
        assert isinstance(actual, list), path
        assert len(actual) == len(sample), f"{path}: {actual!r} != {sample!r}"
        for index, (got, want) in enumerate(zip(actual, sample, strict=True)):
            assert_like_sample(got, want, extra=extra, path=f"{path}[{index}]")
    else:
        assert actual == sample, f"{path}: {actual!r} != {sample!r}"


def at_midnight(ms: int) -> int:
    return ms - ms % DAY_MS


def with_document_days(sample: dict) -> dict:
    """The sample with its documents' dates as we answer them: a document date is a day in
    our model (IdCard.issued_date / expiration_date), answered as its midnight UTC."""
    sample = copy.deepcopy(sample)
    for document in sample.get("legalDocuments", []):
        for key in ("documentIssuedDate", "documentExpirationDate"):
            document[key] = at_midnight(document[key])
    return sample


# Answered on top of the samples: what the request sent and the sample's answer dropped.
USER_EXTRA = ("addressType",)
ENTITY_EXTRA = ("addressType", "companyRegistrationDetails", "shareHolders", "directors")


def assert_risk_details(body: dict, customer: Customer) -> None:
    assert body["riskScoreDetails"] == {
        "irsRiskScore": customer.onboarding_risk_score,
        "irsRiskLevel": customer.onboarding_risk_level,
        "orsRiskScore": customer.risk_effective_score,
        "orsRiskLevel": customer.risk_level,
    }
    assert customer.onboarding_risk_level in {"VERY_LOW", "LOW", "MEDIUM", "HIGH", "VERY_HIGH"}


# --- helpers ----------------------------------------------------------------------------------

INDIVIDUAL_ID = INDIVIDUAL_USER_REQUEST["userId"]
ENTITY_ID = ENTITY_USER_REQUEST["userId"]


def post(client, name, body, **kwargs):
    return client.post(reverse(name, kwargs=kwargs or None), body, format="json")


def get(client, name, **kwargs):
    return client.get(reverse(name, kwargs=kwargs))


def post_individual(client, body=None):
    response = post(client, "individual-user-list", copy.deepcopy(body or INDIVIDUAL_USER_REQUEST))
    assert response.status_code == 200, response.json()
    return response.json()


def post_entity(client, body=None):
    response = post(client, "entity-user-list", copy.deepcopy(body or ENTITY_USER_REQUEST))
    assert response.status_code == 200, response.json()
    return response.json()


def properties(response) -> set[str]:
    return {error["property"] for error in response.json()["errors"]}


def audit_count() -> int:
    return AuditTrail.objects.count()


# --- individual users -------------------------------------------------------------------------


@pytest.mark.django_db
class TestIndividualUsers:
    def test_posting_the_sample_answers_the_samples_user(self, integrator_client):
        body = post_individual(integrator_client)

        assert_like_sample(body, with_document_days(INDIVIDUAL_USER_RESPONSE), extra=USER_EXTRA)
        assert body["contactDetails"]["addresses"][0]["addressType"] == "Other"
        customer = Customer.objects.get(external_ref=INDIVIDUAL_ID)
        assert_risk_details(body, customer)
        address = customer.addresses.get()
        assert body["contactDetails"]["addresses"][0]["id"] == body["contactDetails"]["addresses"][0]["_id"]
        assert body["contactDetails"]["addresses"][0]["id"] == str(address.pk)
        assert body["updatedTimestamp"] >= body["createdTimestamp"]
        assert body["updatedAt"].endswith("Z")
        assert len(body["updatedAt"]) == len("2024-12-08T08:33:45.467Z")

    def test_the_sample_lands_on_the_customer_model(self, integrator_client):
        post_individual(integrator_client)

        customer = Customer.objects.get(external_ref=INDIVIDUAL_ID)
        assert customer.customer_type_id == 1
        assert customer.status_id == 1
        assert (customer.first_name, customer.middle_name, customer.last_name) == (
            "Danny",
            "Nancy",
            "Anderson",
        )
        assert customer.date_birth == date(1994, 1, 21)
        assert customer.country_residence.alpha2 == "EE"
        assert customer.country_nationality.alpha2 == "FR"
        assert customer.registered_at.timestamp() * 1000 == pytest.approx(1733646618204)
        assert customer.relationship_start_date == date(2024, 12, 8)
        assert (customer.user_state, customer.kyc_status) == ("CREATED", "NOT_STARTED")
        assert customer.reason_for_account_opening == ["INVESTMENT"]
        assert customer.source_of_funds == ["SAVINGS"]
        assert customer.tags == [{"key": "addedBy", "value": "API Docs Tester"}]
        card = customer.id_cards.get()
        assert (card.id_card_type_id, card.document_type_name, card.number) == (1, "passport", "vcj-758173")
        assert (card.issued_date, card.expiration_date) == (date(2023, 12, 9), date(2025, 12, 8))
        assert card.issued_country.alpha2 == "IT"
        address = customer.addresses.get()
        assert (address.street_name, address.postcode, address.city, address.state) == (
            "363 Johnson Crescent",
            "19499",
            "New Shane",
            "Maryland",
        )
        assert address.country.alpha2 == "CO"
        assert address.address_type == "Other"
        assert address.tags == [{"key": "forward", "value": "small"}]
        means = sorted(customer.communication_means.values_list("communication_means_type_id", "value"))
        assert means == [(1, "690.518.4303"), (4, "gregory82@example.com"), (5, "http://www.page.com/")]

    def test_retrieving_answers_what_was_posted(self, integrator_client, analyst_client):
        posted = post_individual(integrator_client)

        response = get(analyst_client, "individual-user-detail", userId=INDIVIDUAL_ID)

        assert response.status_code == 200
        assert response.json() == posted
        assert_like_sample(response.json(), with_document_days(INDIVIDUAL_USER_RESPONSE), extra=USER_EXTRA)

    def test_a_new_user_is_scored_once_with_its_whole_file(self, integrator_client):
        post_individual(integrator_client)

        customer = Customer.objects.get(external_ref=INDIVIDUAL_ID)
        assert RiskTrail.objects.filter(customer=customer).count() == 1
        assert customer.risk_calculated_at is not None
        assert customer.onboarding_risk_score == customer.risk_score

    def test_writes_are_audited_as_the_api_key(self, integrator_client, integrator_key):
        post_individual(integrator_client)

        customer = Customer.objects.get(external_ref=INDIVIDUAL_ID)
        rows = AuditTrail.objects.filter(object_type="users.customer", object_id=str(customer.pk))
        assert rows.filter(action=AuditTrail.Action.CREATE).count() == 1
        # ID cards, addresses, communication means: one audited write each.
        assert rows.filter(action=AuditTrail.Action.UPDATE).count() == 3
        assert set(rows.values_list("actor_api_key", flat=True)) == {integrator_key[0].pk}

    def test_reposting_the_same_user_writes_nothing(self, integrator_client):
        first = post_individual(integrator_client)
        before = audit_count()

        second = post_individual(integrator_client)

        assert audit_count() == before
        assert second == first  # ids of addresses kept, nothing touched
        assert Customer.objects.filter(external_ref=INDIVIDUAL_ID).count() == 1

    def test_reposting_updates_what_is_sent_and_keeps_the_rest(self, integrator_client):
        first = post_individual(integrator_client)
        body = copy.deepcopy(INDIVIDUAL_USER_REQUEST)
        body["userDetails"] = {"name": {"firstName": "Dan"}}
        body["contactDetails"] = {"emailIds": ["dan@example.com", "other@example.com"]}
        body["legalDocuments"] = [
            {"documentType": "driving licence", "documentNumber": "DL-1", "documentIssuedCountry": "ee"}
        ]

        second = post_individual(integrator_client, body)

        assert second["userDetails"]["name"] == {
            "firstName": "Dan",
            "middleName": "Nancy",
            "lastName": "Anderson",
        }
        assert second["userDetails"]["countryOfResidence"] == "EE"
        assert second["contactDetails"]["emailIds"] == ["dan@example.com", "other@example.com"]
        # Lists not sent are kept, with their ids.
        assert second["contactDetails"]["addresses"] == first["contactDetails"]["addresses"]
        assert second["contactDetails"]["contactNumbers"] == ["690.518.4303"]
        assert second["legalDocuments"] == [
            {
                "documentType": "driving licence",
                "documentNumber": "DL-1",
                "documentIssuedCountry": "EE",
                "tags": [],
            }
        ]
        customer = Customer.objects.get(external_ref=INDIVIDUAL_ID)
        assert customer.id_cards.get().id_card_type_id == 3
        assert second["updatedTimestamp"] >= first["updatedTimestamp"]

    def test_a_list_sent_replaces_the_list_keeping_unchanged_rows(self, integrator_client):
        first = post_individual(integrator_client)
        kept = first["contactDetails"]["addresses"][0]
        body = copy.deepcopy(INDIVIDUAL_USER_REQUEST)
        body["contactDetails"]["addresses"].append(
            {"addressLines": ["Line 1", "Line 2"], "country": "EST", "city": "Tallinn"}
        )

        second = post_individual(integrator_client, body)

        addresses = second["contactDetails"]["addresses"]
        assert addresses[0] == kept
        assert addresses[1]["addressLines"] == ["Line 1", "Line 2"]
        assert addresses[1]["country"] == "Estonia"
        assert Address.objects.get(pk=addresses[1]["id"]).street_name == "Line 1\nLine 2"

        body["contactDetails"]["addresses"] = []
        third = post_individual(integrator_client, body)
        assert third["contactDetails"]["addresses"] == []

    def test_an_entity_user_id_cannot_be_posted_as_an_individual(self, integrator_client):
        post_entity(integrator_client)
        body = copy.deepcopy(INDIVIDUAL_USER_REQUEST)
        body["userId"] = ENTITY_ID

        response = post(integrator_client, "individual-user-list", body)

        assert response.status_code == 409
        assert properties(response) == {"userId"}


# --- the other direction: customers written elsewhere are users ---------------------------------


@pytest.mark.django_db
def test_a_customer_created_by_the_services_is_an_individual_user(analyst_client):
    actor = Actor.system_actor("tests")
    customer = create_customer(
        ref="CUST-42",
        first_name="Ada",
        last_name="Lovelace",
        date_birth=date(1815, 12, 10),
        country_residence=Country.objects.get(alpha2="GB"),
    )
    kyc_services.kyc_rows_add(
        actor=actor,
        customer=customer,
        kyc_list=BY_PATH["id-card"],
        rows=[{"id_card_type_id": 2, "number": "X123", "expiration_date": date(2030, 1, 31)}],
    )
    kyc_services.kyc_rows_add(
        actor=actor,
        customer=customer,
        kyc_list=BY_PATH["addresses"],
        rows=[
            {
                "street_name": "12 St James's Square",
                "city": "London",
                "country": Country.objects.get(alpha2="GB"),
            }
        ],
    )
    kyc_services.kyc_rows_add(
        actor=actor,
        customer=customer,
        kyc_list=BY_PATH["communication-means"],
        rows=[
            {"communication_means_type_id": 4, "value": "ada@example.com"},
            {"communication_means_type_id": 3, "value": "+44 7000 000000"},
            {"communication_means_type_id": 2, "value": "+44 20 0000 0000"},
        ],
    )
    customer.refresh_from_db()

    response = get(analyst_client, "individual-user-detail", userId="CUST-42")

    assert response.status_code == 200
    body = response.json()
    assert body["userId"] == "CUST-42"
    assert body["userType"] == "INDIVIDUAL"
    assert body["userDetails"] == {
        "name": {"firstName": "Ada", "lastName": "Lovelace"},
        "dateOfBirth": "1815-12-10",
        "countryOfResidence": "GB",
    }
    assert body["legalDocuments"] == [
        {
            "documentType": "national_id",
            "documentNumber": "X123",
            "documentExpirationDate": 1896048000000,
            "tags": [],
        }
    ]
    address = customer.addresses.get()
    assert body["contactDetails"] == {
        "emailIds": ["ada@example.com"],
        "contactNumbers": ["+44 7000 000000"],
        "websites": [],
        "addresses": [
            {
                "addressLines": ["12 St James's Square"],
                "city": "London",
                "country": "United Kingdom",
                "tags": [],
                "_id": str(address.pk),
                "id": str(address.pk),
            }
        ],
        "faxNumbers": ["+44 20 0000 0000"],
    }
    assert body["legalEntity"] == {
        "companyGeneralDetails": {"businessIndustry": [], "mainProductsServicesSold": []}
    }
    assert body["createdTimestamp"] == customer.registered_at.timestamp() * 1000 // 1
    assert_risk_details(body, customer)


@pytest.mark.django_db
def test_an_organisation_created_by_the_services_is_an_entity_user(analyst_client):
    create_customer(ref="ORG-1", person=False, registration_no="R-1", legal_entity_type="LTD")

    body = get(analyst_client, "entity-user-detail", userId="ORG-1").json()

    assert body["legalEntity"]["companyGeneralDetails"]["legalName"] == "ACME Corporation LTD"
    assert body["companyRegistrationDetails"] == {"registrationIdentifier": "R-1", "legalEntityType": "LTD"}
    assert body["shareHolders"] == []
    assert body["directors"] == []
    assert body["legalDocuments"] == []


@pytest.mark.django_db
def test_a_user_posted_here_is_a_customer_of_seed_003(integrator_client):
    post_individual(integrator_client)

    response = integrator_client.get(f"/api/customer/{INDIVIDUAL_ID}")

    if response.status_code == 404 and response.json()["message"] == "No such endpoint.":
        pytest.skip("GET /api/customer/{ref} (seed 003) is not routed yet")
    assert response.status_code == 200, response.json()
    text = json.dumps(response.json())
    for value in (
        INDIVIDUAL_ID,
        "Danny",
        "Anderson",
        "vcj-758173",
        "363 Johnson Crescent",
        "gregory82@example.com",
    ):
        assert value in text


# --- entity users -----------------------------------------------------------------------------


@pytest.mark.django_db
class TestEntityUsers:
    def test_posting_the_sample_answers_the_samples_user(self, integrator_client):
        body = post_entity(integrator_client)

        assert_like_sample(body, ENTITY_USER_RESPONSE, extra=ENTITY_EXTRA)
        assert body["companyRegistrationDetails"] == ENTITY_USER_REQUEST["companyRegistrationDetails"]
        assert body["shareHolders"] == [
            {
                "userId": f"{ENTITY_ID}-SH1",
                "generalDetails": {
                    "name": {"firstName": "Alyssa", "middleName": "Ralph", "lastName": "Flowers"},
                    "dateOfBirth": "1983-02-08",
                    "countryOfResidence": "BA",
                    "userCategory": "INDIVIDUAL",
                },
            }
        ]
        assert body["directors"] == []
        assert_risk_details(body, Customer.objects.get(external_ref=ENTITY_ID))

    def test_retrieving_answers_what_was_posted(self, integrator_client, analyst_client):
        posted = post_entity(integrator_client)

        response = get(analyst_client, "entity-user-detail", userId=ENTITY_ID)

        assert response.status_code == 200
        assert response.json() == posted

    def test_the_sample_lands_on_the_customer_model(self, integrator_client):
        post_entity(integrator_client)

        entity = Customer.objects.get(external_ref=ENTITY_ID)
        assert entity.customer_type_id == 2
        assert entity.status_id == 1
        assert entity.registered_name == "Ramos Ltd"
        assert entity.company_business_industry == ["unleash B2B initiatives"]
        assert entity.main_products_services == ["Organized well-modulated leverage"]
        assert (entity.registration_no, entity.tax_identifier, entity.legal_entity_type) == (
            "Ibg-856428",
            "wlh-528330",
            "LLC",
        )
        assert entity.incorporation_type_id == 1  # LLC: private limited company
        assert entity.country_incorporation.alpha2 == "BS"
        assert entity.country_domiciliary.alpha2 == "AG"
        assert entity.date_incorporation == date(2016, 7, 21)
        means = sorted(entity.communication_means.values_list("communication_means_type_id", "value"))
        assert means == [
            (1, "(757)263-9862"),
            (2, "001-548-952-7534x50471"),
            (4, "rjenkins@example.org"),
            (5, "http://vargas.com/"),
        ]
        assert entity.addresses.get().country.name == "Togo"
        shareholder = Customer.objects.get(external_ref=f"{ENTITY_ID}-SH1")
        assert (shareholder.customer_type_id, shareholder.status_id) == (1, 2)
        assert shareholder.country_residence.alpha2 == "BA"
        assert Stake.objects.get(entity=entity).holder == shareholder

    def test_reposting_updates_shareholders_without_duplicating_them(self, integrator_client):
        post_entity(integrator_client)
        body = copy.deepcopy(ENTITY_USER_REQUEST)
        body["shareHolders"][0]["ownershipPercentage"] = 60
        body["shareHolders"][0]["generalDetails"]["name"]["lastName"] = "Flowers-Smith"
        body["shareHolders"].append(
            {
                "userId": "SH-OWN-ID",
                "generalDetails": {"name": {"firstName": "Bob"}},
                "ownershipPercentage": 40,
            }
        )
        body["directors"] = [{"generalDetails": {"name": {"firstName": "Carol", "lastName": "Director"}}}]

        answer = post_entity(integrator_client, body)
        again = post_entity(integrator_client, body)

        assert again == answer
        entity = Customer.objects.get(external_ref=ENTITY_ID)
        stakes = {
            stake.holder.external_ref: stake.percentage for stake in Stake.objects.filter(entity=entity)
        }
        assert stakes == {f"{ENTITY_ID}-SH1": 60, "SH-OWN-ID": 40}
        assert Customer.objects.filter(external_ref=f"{ENTITY_ID}-SH1").get().last_name == "Flowers-Smith"
        assert [holder["ownershipPercentage"] for holder in answer["shareHolders"]] == [60.0, 40.0]
        director = Customer.objects.get(external_ref=f"{ENTITY_ID}-DIR1")
        assert CustomerAssociation.objects.filter(associate=director, customer=entity, role_id=1).count() == 1
        assert answer["directors"][0]["userId"] == f"{ENTITY_ID}-DIR1"

        body["shareHolders"] = body["shareHolders"][1:]
        body["directors"] = []
        answer = post_entity(integrator_client, body)

        assert [holder["userId"] for holder in answer["shareHolders"]] == ["SH-OWN-ID"]
        assert answer["directors"] == []
        # The persons stay customers; only their links to the entity went.
        assert (
            Customer.objects.filter(external_ref__in=[f"{ENTITY_ID}-SH1", f"{ENTITY_ID}-DIR1"]).count() == 2
        )

    def test_shareholder_references_fit_a_long_entity_id(self, integrator_client):
        body = copy.deepcopy(ENTITY_USER_REQUEST)
        body["userId"] = "E" * 100

        answer = post_entity(integrator_client, body)
        again = post_entity(integrator_client, body)

        ref = answer["shareHolders"][0]["userId"]
        assert len(ref) == 100
        assert ref.endswith("-SH1")
        assert again["shareHolders"] == answer["shareHolders"]

    def test_a_deleted_shareholder_is_replaced_by_a_new_person(self, integrator_client):
        from users.services.customers import customer_delete

        post_entity(integrator_client)
        old = Customer.objects.get(external_ref=f"{ENTITY_ID}-SH1")
        customer_delete(actor=Actor.system_actor("tests"), customer=old)

        answer = post_entity(integrator_client)

        assert answer["shareHolders"][0]["userId"] == f"{ENTITY_ID}-SH1"
        assert Customer.objects.get(external_ref=f"{ENTITY_ID}-SH1").pk != old.pk

    def test_shareholders_contaminate_the_entitys_risk(self, integrator_client):
        post_entity(integrator_client)

        entity = Customer.objects.get(external_ref=ENTITY_ID)
        holder = Customer.objects.get(external_ref=f"{ENTITY_ID}-SH1")
        assert entity.risk_effective_score == max(entity.risk_score, holder.risk_score)
        assert RiskTrail.objects.filter(customer=entity).count() == 1

    def test_an_entity_has_no_identity_documents(self, integrator_client):
        body = copy.deepcopy(ENTITY_USER_REQUEST)
        body["legalDocuments"] = INDIVIDUAL_USER_REQUEST["legalDocuments"]

        response = post(integrator_client, "entity-user-list", body)

        assert response.status_code == 400
        assert properties(response) == {"legalDocuments"}
        body["legalDocuments"] = []  # what GET answers is accepted back
        assert post(integrator_client, "entity-user-list", body).status_code == 200


# --- user events ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestUserEvents:
    def test_the_individual_event_sample(self, integrator_client, analyst_client):
        post_individual(integrator_client)

        response = post(integrator_client, "individual-user-event-list", INDIVIDUAL_EVENT_REQUEST)

        assert response.status_code == 200, response.json()
        body = response.json()
        # The sample sends `userStateDetails.status` (for `state`) and a KYC reason; the
        # collection's answer ignored both. We apply what was sent (`status` is accepted
        # as `state`), so the answer shows the new state and the reason.
        expected = with_document_days(INDIVIDUAL_EVENT_RESPONSE)
        expected["userStateDetails"] = {"state": "ACTIVE", "reason": "KYC Successful"}
        expected["kycStatusDetails"] = {"status": "SUCCESSFUL", "reason": "KYC Successful"}
        assert_like_sample(body, expected, extra=USER_EXTRA)
        customer = Customer.objects.get(external_ref=INDIVIDUAL_ID)
        assert (customer.user_state, customer.kyc_status) == ("ACTIVE", "SUCCESSFUL")

        event = UserEvent.objects.get()
        assert (event.event_id, event.kind, event.customer) == (
            INDIVIDUAL_EVENT_REQUEST["eventId"],
            "INDIVIDUAL",
            customer,
        )
        assert event.timestamp.timestamp() * 1000 == pytest.approx(1733652039456)
        assert event.updated_attributes == INDIVIDUAL_EVENT_REQUEST["updatedAttributes"]
        canonical = json.dumps(INDIVIDUAL_EVENT_REQUEST, sort_keys=True, separators=(",", ":"))
        assert event.payload_digest == hashlib.sha256(canonical.encode()).hexdigest()
        assert event.risk_trail == RiskTrail.objects.filter(customer=customer).latest("id")

        retrieved = get(analyst_client, "individual-user-event-detail", eventId=event.event_id)
        assert retrieved.status_code == 200
        expected = copy.deepcopy(INDIVIDUAL_EVENT_RETRIEVED)
        # Same difference as above: the state sent is recorded, the KYC reason kept.
        expected["updatedAttributes"]["userStateDetails"] = {"state": "ACTIVE", "reason": "KYC Successful"}
        expected["updatedAttributes"]["kycStatusDetails"]["reason"] = "KYC Successful"
        assert_like_sample(retrieved.json(), expected)
        assert_risk_details(retrieved.json(), customer)

    def test_the_entity_event_sample(self, integrator_client, analyst_client):
        post_entity(integrator_client)

        response = post(integrator_client, "entity-user-event-list", ENTITY_EVENT_REQUEST)

        assert response.status_code == 200, response.json()
        assert_like_sample(response.json(), ENTITY_EVENT_RESPONSE, extra=ENTITY_EXTRA)
        assert Customer.objects.get(external_ref=ENTITY_ID).source_of_funds == ["Investment"]
        retrieved = get(analyst_client, "entity-user-event-detail", eventId=ENTITY_EVENT_REQUEST["eventId"])
        assert retrieved.status_code == 200
        assert_like_sample(retrieved.json(), ENTITY_EVENT_RETRIEVED)

    def test_replaying_an_event_answers_it_without_applying_it_again(self, integrator_client):
        post_individual(integrator_client)
        first = post(integrator_client, "individual-user-event-list", INDIVIDUAL_EVENT_REQUEST).json()
        # Changed since: a replay must not put the event's state back.
        customer = Customer.objects.get(external_ref=INDIVIDUAL_ID)
        customer_update = {"user_state": "BLOCKED"}
        from users.services.customers import customer_update as update

        update(actor=Actor.system_actor("tests"), customer=customer, fields=customer_update)
        before = audit_count()

        reordered = dict(reversed(list(copy.deepcopy(INDIVIDUAL_EVENT_REQUEST).items())))
        response = post(integrator_client, "individual-user-event-list", reordered)

        assert response.status_code == 200
        assert response.json()["eventId"] == first["eventId"]
        assert response.json()["userStateDetails"]["state"] == "BLOCKED"
        assert UserEvent.objects.count() == 1
        assert audit_count() == before

    def test_reusing_an_event_id_for_another_body_is_a_conflict(self, integrator_client):
        post_individual(integrator_client)
        post(integrator_client, "individual-user-event-list", INDIVIDUAL_EVENT_REQUEST)
        body = copy.deepcopy(INDIVIDUAL_EVENT_REQUEST)
        body["reason"] = "Something else"

        response = post(integrator_client, "individual-user-event-list", body)

        assert response.status_code == 409
        assert properties(response) == {"eventId"}
        assert Customer.objects.get(external_ref=INDIVIDUAL_ID).kyc_status == "SUCCESSFUL"

    def test_an_event_without_id_gets_one(self, integrator_client):
        post_individual(integrator_client)
        body = {"timestamp": 1733652039456, "userId": INDIVIDUAL_ID, "updatedAttributes": {"tags": []}}

        first = post(integrator_client, "individual-user-event-list", body).json()
        second = post(integrator_client, "individual-user-event-list", body).json()

        assert len(first["eventId"]) == 32
        assert first["eventId"] != second["eventId"]
        assert first["tags"] == []
        assert UserEvent.objects.count() == 2

    def test_attributes_change_only_what_they_send(self, integrator_client):
        post_individual(integrator_client)
        body = {
            "timestamp": 1733652039456,
            "userId": INDIVIDUAL_ID,
            "updatedConsumerUserAttributes": {
                "userDetails": {"name": {"middleName": ""}, "countryOfResidence": "DE"},
                "contactDetails": {"websites": []},
            },
        }

        answer = post(integrator_client, "individual-user-event-list", body).json()

        assert answer["userDetails"] == {
            "name": {"firstName": "Danny", "lastName": "Anderson"},
            "dateOfBirth": "1994-01-21",
            "countryOfResidence": "DE",
            "countryOfNationality": "FR",
        }
        assert answer["contactDetails"]["websites"] == []
        assert answer["contactDetails"]["emailIds"] == ["gregory82@example.com"]
        assert len(answer["legalDocuments"]) == 1

    def test_entity_attributes_under_the_seed_002_name(self, integrator_client):
        post_entity(integrator_client)
        body = {
            "timestamp": 1733652039456,
            "userId": ENTITY_ID,
            "updatedBusinessUserAttributes": {
                "legalEntity": {"companyGeneralDetails": {"legalName": "Ramos Holdings Ltd"}},
                "companyRegistrationDetails": {"legalEntityType": "TRUST"},
            },
        }

        answer = post(integrator_client, "entity-user-event-list", body).json()

        assert answer["legalEntity"]["companyGeneralDetails"]["legalName"] == "Ramos Holdings Ltd"
        assert answer["legalEntity"]["companyGeneralDetails"]["businessIndustry"] == [
            "unleash B2B initiatives"
        ]
        assert Customer.objects.get(external_ref=ENTITY_ID).incorporation_type_id == 6

    def test_events_are_audited(self, integrator_client, integrator_key):
        post_individual(integrator_client)

        post(integrator_client, "individual-user-event-list", INDIVIDUAL_EVENT_REQUEST)

        event = UserEvent.objects.get()
        row = AuditTrail.objects.get(object_type="users.userevent", object_id=str(event.pk))
        assert row.action == AuditTrail.Action.CREATE
        assert row.actor_api_key_id == integrator_key[0].pk
        customer = Customer.objects.get(external_ref=INDIVIDUAL_ID)
        change = AuditTrail.objects.filter(object_type="users.customer", object_id=str(customer.pk)).latest(
            "id"
        )
        assert change.after["kyc_status"] == "SUCCESSFUL"

    def test_an_event_without_attributes_is_recorded_and_changes_nothing(
        self, integrator_client, analyst_client
    ):
        first = post_individual(integrator_client)
        body = {"timestamp": 1733652039456, "userId": INDIVIDUAL_ID, "eventId": "note-1", "reason": "Call"}

        answer = post(integrator_client, "individual-user-event-list", body).json()

        assert answer == {**first, "eventId": "note-1"}
        event = get(analyst_client, "individual-user-event-detail", eventId="note-1").json()
        assert event["reason"] == "Call"
        assert event["updatedAttributes"]["userType"] == "INDIVIDUAL"
        assert event["updatedAttributes"]["contactDetails"]["emailIds"] == []
        assert UserEvent.objects.get().risk_trail is not None

    def test_an_unknown_user_is_a_400_naming_userId(self, integrator_client):
        response = post(integrator_client, "individual-user-event-list", INDIVIDUAL_EVENT_REQUEST)

        assert response.status_code == 400
        assert properties(response) == {"userId"}
        assert not UserEvent.objects.exists()

    def test_an_event_of_the_wrong_kind_is_a_400(self, integrator_client):
        post_entity(integrator_client)
        body = {**ENTITY_EVENT_REQUEST}

        response = post(integrator_client, "individual-user-event-list", body)

        assert response.status_code == 400
        assert properties(response) == {"userId"}

    def test_an_event_is_read_only_under_its_kind(self, integrator_client):
        post_entity(integrator_client)
        post(integrator_client, "entity-user-event-list", ENTITY_EVENT_REQUEST)

        response = get(
            integrator_client, "individual-user-event-detail", eventId=ENTITY_EVENT_REQUEST["eventId"]
        )

        assert response.status_code == 404


# --- refusals ---------------------------------------------------------------------------------


def _with(body: dict, path: str, value):
    """A deep copy of `body` with the property at dotted `path` set (or removed, for `...`)."""
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target[int(name)] if name.isdigit() else target[name]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "value", "prop"),
    [
        ("userDetails.countryOfResidence", "XX", "userDetails.countryOfResidence"),
        ("userDetails.countryOfNationality", 49, "userDetails.countryOfNationality"),
        ("contactDetails.addresses.0.country", "Atlantis", "contactDetails.addresses[0].country"),
        ("legalDocuments.0.documentIssuedCountry", "ZZ", "legalDocuments[0].documentIssuedCountry"),
        ("kycStatusDetails.status", "DONE", "kycStatusDetails.status"),
        ("userStateDetails.state", "HAPPY", "userStateDetails.state"),
        ("userDetails.dateOfBirth", "1994-13-01", "userDetails.dateOfBirth"),
        ("userDetails.dateOfBirth", 19940121, "userDetails.dateOfBirth"),
        ("createdTimestamp", "1733646618204", "createdTimestamp"),
        ("createdTimestamp", 10**20, "createdTimestamp"),
        ("createdTimestamp", ..., "createdTimestamp"),
        ("legalDocuments.0.documentExpirationDate", True, "legalDocuments[0].documentExpirationDate"),
        ("legalDocuments.0.documentNumber", ..., "legalDocuments[0].documentNumber"),
        ("userId", ..., "userId"),
        ("userId", "  ", "userId"),
        ("userId", "x" * 101, "userId"),
        ("userType", "ENTITY", "userType"),
        ("nickname", "Dan", "nickname"),
        ("userDetails.name.nickName", "Dan", "userDetails.name.nickName"),
        ("contactDetails.addresses.0.tags.0.colour", "red", "contactDetails.addresses[0].tags[0].colour"),
        (
            "contactDetails.addresses.0.addressLines",
            "363 Johnson Crescent",
            "contactDetails.addresses[0].addressLines",
        ),
        ("sourceOfFunds", [{"a": 1}], "sourceOfFunds[0]"),
        ("tags", {"key": "a"}, "tags"),
        ("userDetails.name.firstName", "\x00", "userDetails.name.firstName"),
        ("pepStatus", [{"isPepHit": "maybe"}], "pepStatus[0].isPepHit"),
        ("updatedAt", "2024-12-08T08:33:45.467Z", "updatedAt"),
        # JSON types as the schema says them: no numbers for strings, no 1 for true...
        ("userDetails.name.firstName", 42, "userDetails.name.firstName"),
        ("pepStatus", [{"isPepHit": 1}], "pepStatus[0].isPepHit"),
        ("userDetails.dateOfBirth", "19940121", "userDetails.dateOfBirth"),
        ("createdTimestamp", 1733646618204.0, "createdTimestamp"),
        ("contactDetails.addresses.0.addressLines", ["a\nb"], "contactDetails.addresses[0].addressLines[0]"),
        ("contactDetails.emailIds", ["  "], "contactDetails.emailIds[0]"),
    ],
)
def test_an_invalid_individual_user_is_a_400_naming_the_property(integrator_client, path, value, prop):
    response = post(integrator_client, "individual-user-list", _with(INDIVIDUAL_USER_REQUEST, path, value))

    assert response.status_code == 400, response.json()
    assert prop in properties(response)
    assert not Customer.objects.filter(external_ref=INDIVIDUAL_ID).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "value", "prop"),
    [
        ("legalEntity.companyGeneralDetails.legalName", ..., "legalEntity.companyGeneralDetails.legalName"),
        ("legalEntity", ..., "legalEntity"),
        (
            "companyRegistrationDetails.registrationCountry",
            "BSS",
            "companyRegistrationDetails.registrationCountry",
        ),
        (
            "companyRegistrationDetails.dateOfRegistration",
            "21/07/2016",
            "companyRegistrationDetails.dateOfRegistration",
        ),
        (
            "shareHolders.0.generalDetails.userCategory",
            "BUSINESS",
            "shareHolders[0].generalDetails.userCategory",
        ),
        ("shareHolders.0.ownershipPercentage", 101, "shareHolders[0].ownershipPercentage"),
        ("shareHolders.0.userId", ENTITY_ID, "shareHolders[0].userId"),
        ("userDetails", {}, "userDetails"),
        ("companyRegistrationDetails.legalEntityType", 0, "companyRegistrationDetails.legalEntityType"),
        ("shareHolders.0.ownershipPercentage", "50", "shareHolders[0].ownershipPercentage"),
        ("userType", "INDIVIDUAL", "userType"),
    ],
)
def test_an_invalid_entity_user_is_a_400_naming_the_property(integrator_client, path, value, prop):
    response = post(integrator_client, "entity-user-list", _with(ENTITY_USER_REQUEST, path, value))

    assert response.status_code == 400, response.json()
    assert prop in properties(response)
    assert not Customer.objects.filter(external_ref=ENTITY_ID).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "value", "prop"),
    [
        ("timestamp", ..., "timestamp"),
        ("timestamp", 1.5, "timestamp"),
        ("eventId", "", "eventId"),
        ("updatedAttributes.kycStatusDetails.status", "DONE", "updatedAttributes.kycStatusDetails.status"),
        ("updatedAttributes.userStateDetails.status", "HAPPY", "updatedAttributes.userStateDetails.status"),
        ("updatedAttributes.userStateDetails.state", "BLOCKED", "updatedAttributes.userStateDetails.status"),
        ("updatedAttributes.userId", "someone-else", "updatedAttributes.userId"),
        ("updatedAttributes.shoeSize", 44, "updatedAttributes.shoeSize"),
        ("updatedConsumerUserAttributes", {"tags": []}, "updatedConsumerUserAttributes"),
        ("updatedBusinessUserAttributes", {"tags": []}, "updatedBusinessUserAttributes"),
        ("userId", 42, "userId"),
    ],
)
def test_an_invalid_event_is_a_400_naming_the_property(integrator_client, path, value, prop):
    post_individual(integrator_client)

    response = post(
        integrator_client, "individual-user-event-list", _with(INDIVIDUAL_EVENT_REQUEST, path, value)
    )

    assert response.status_code == 400, response.json()
    assert prop in properties(response)
    assert not UserEvent.objects.exists()


@pytest.mark.django_db
def test_errors_under_the_seed_002_attributes_name_are_named_as_sent(integrator_client):
    post_individual(integrator_client)
    body = {
        "timestamp": 1733652039456,
        "userId": INDIVIDUAL_ID,
        "updatedConsumerUserAttributes": {"kycStatusDetails": {"status": "DONE"}},
    }

    response = post(integrator_client, "individual-user-event-list", body)

    assert response.status_code == 400
    assert properties(response) == {"updatedConsumerUserAttributes.kycStatusDetails.status"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", [[], "user", None, {"userId": None, "createdTimestamp": None}])
def test_a_body_that_is_not_a_user_is_a_400(integrator_client, body):
    response = integrator_client.post(
        reverse("individual-user-list"), json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("individual-user-detail", {"userId": "nobody"}),
        ("entity-user-detail", {"userId": "nobody"}),
        ("individual-user-event-detail", {"eventId": "nothing"}),
        ("entity-user-event-detail", {"eventId": "nothing"}),
    ],
)
def test_unknown_ids_in_the_path_are_404(analyst_client, name, kwargs):
    response = get(analyst_client, name, **kwargs)

    assert response.status_code == 404
    assert response.json()["status"] == 404


@pytest.mark.django_db
def test_a_user_is_found_only_under_its_kind(integrator_client):
    post_individual(integrator_client)
    post_entity(integrator_client)

    assert get(integrator_client, "entity-user-detail", userId=INDIVIDUAL_ID).status_code == 404
    assert get(integrator_client, "individual-user-detail", userId=ENTITY_ID).status_code == 404


@pytest.mark.django_db
def test_a_deleted_customer_is_no_user(integrator_client):
    from users.services.customers import customer_delete

    post_individual(integrator_client)
    customer_delete(
        actor=Actor.system_actor("tests"), customer=Customer.objects.get(external_ref=INDIVIDUAL_ID)
    )

    assert get(integrator_client, "individual-user-detail", userId=INDIVIDUAL_ID).status_code == 404


# --- permissions ------------------------------------------------------------------------------

ENDPOINTS = [
    ("post", "individual-user-list", {}, INDIVIDUAL_USER_REQUEST),
    ("get", "individual-user-detail", {"userId": INDIVIDUAL_ID}, None),
    ("post", "entity-user-list", {}, ENTITY_USER_REQUEST),
    ("get", "entity-user-detail", {"userId": ENTITY_ID}, None),
    ("post", "individual-user-event-list", {}, INDIVIDUAL_EVENT_REQUEST),
    ("get", "individual-user-event-detail", {"eventId": "e1"}, None),
    ("post", "entity-user-event-list", {}, ENTITY_EVENT_REQUEST),
    ("get", "entity-user-event-detail", {"eventId": "e1"}, None),
]


def _call(client, method, name, kwargs, body):
    url = reverse(name, kwargs=kwargs or None)
    return client.post(url, body, format="json") if method == "post" else client.get(url)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "name", "kwargs", "body"), ENDPOINTS)
def test_without_credentials_it_is_401(api_client, method, name, kwargs, body):
    assert _call(api_client, method, name, kwargs, body).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "name", "kwargs", "body"), ENDPOINTS)
def test_an_outsider_is_403(outsider_client, method, name, kwargs, body):
    response = _call(outsider_client, method, name, kwargs, body)

    assert response.status_code == 403
    assert not Customer.objects.exists()
    assert not UserEvent.objects.exists()


@pytest.mark.django_db
def test_an_analyst_may_post_users_and_events(analyst_client):
    post_individual(analyst_client)

    response = post(analyst_client, "individual-user-event-list", INDIVIDUAL_EVENT_REQUEST)

    assert response.status_code == 200


@pytest.mark.django_db
def test_bearer_credentials_of_seed_004_are_accepted(integrator_key, api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {integrator_key[1]}")

    assert post(api_client, "individual-user-list", INDIVIDUAL_USER_REQUEST).status_code == 200


# --- reading in a fixed number of queries ----------------------------------------------------------


@pytest.mark.django_db
def test_reading_a_user_takes_a_fixed_number_of_queries(integrator_client, django_assert_num_queries):
    body = copy.deepcopy(INDIVIDUAL_USER_REQUEST)
    body["contactDetails"]["addresses"] *= 5
    body["legalDocuments"] *= 5
    post_individual(integrator_client, body)
    body = copy.deepcopy(ENTITY_USER_REQUEST)
    body["shareHolders"] *= 3
    body["directors"] = [{"generalDetails": {"name": {"firstName": "Carol"}}}] * 2
    post_entity(integrator_client, body)

    # API key (1; its permissions were read by the posts above and are cached, see
    # compliance.api.permissions); the customer with its countries; communication means;
    # addresses with countries; ID cards with countries.
    with django_assert_num_queries(5):
        assert get(integrator_client, "individual-user-detail", userId=INDIVIDUAL_ID).status_code == 200
    # ... for an entity: stakes with their holders, director roles with their persons.
    with django_assert_num_queries(6):
        assert get(integrator_client, "entity-user-detail", userId=ENTITY_ID).status_code == 200


# --- unit: the mappings the seed leaves open ----------------------------------------------------


@pytest.mark.parametrize(
    ("document_type", "type_id"),
    [
        ("passport", 1),
        ("PASSPORT", 1),
        ("national_id", 2),
        ("ID card", 2),
        ("national identity card", 2),
        ("driving licence", 3),
        ("DRIVERS_LICENSE", 3),
        ("residence permit", 4),
        ("utility bill", 5),
    ],
)
def test_document_types_map_onto_id_card_types(document_type, type_id):
    from users.services.user_api import id_card_type_for

    assert id_card_type_for(document_type) == type_id


@pytest.mark.parametrize(
    ("legal_entity_type", "type_id"),
    [
        ("LLC", 1),
        ("Ltd", 1),
        ("PLC", 2),
        ("TRUST", 6),
        ("foundation", 7),
        ("SOLE_PROPRIETORSHIP", 8),
        ("NON-PROFIT", 10),
        ("Limited Partnership", 4),
        ("whatever", 13),
        ("", None),
    ],
)
def test_legal_entity_types_map_onto_incorporation_types(legal_entity_type, type_id):
    from users.services.user_api import incorporation_type_for

    assert incorporation_type_for(legal_entity_type) == type_id


def test_the_payload_digest_ignores_key_order():
    assert user_api.payload_digest({"a": 1, "b": [1, 2]}) == user_api.payload_digest({"b": [1, 2], "a": 1})
    assert user_api.payload_digest({"a": 1}) != user_api.payload_digest({"a": 2})
