"""Seed 004 answers built from the customer: `individual_user_document`,
`entity_user_document` and `user_event_document`, shaped by the serializers of `answers`.
"""

from __future__ import annotations

from users.api.user_serializers.answers import (
    EntityUserEventResultSerializer,
    EntityUserOutSerializer,
    IndividualUserEventResultSerializer,
    IndividualUserOutSerializer,
    UserEventOutSerializer,
)
from users.api.user_serializers.fields import iso_millis, millis
from users.models import Customer, UserEvent
from users.services.user_api import DIRECTOR, EMAIL, FAX, ID_CARD_TYPE_NAMES, MOBILE, PHONE, WEBSITE

# One instance of each answer serializer, shared: `Serializer(data).data` deep-copies every nested
# field of the class on each call, ten times the cost of the shaping itself (the transaction
# answer shapes two users per request, issue 4 benchmark). `to_representation` keeps no state on
# the serializer, so one instance serves every request and thread; the answer is the same dict.
_SHAPERS: dict = {}


def _shaped(serializer_class, data: dict) -> dict:
    shaper = _SHAPERS.get(serializer_class)
    if shaper is None:
        shaper = _SHAPERS[serializer_class] = serializer_class()
    return shaper.to_representation(data)


def _drop_empty(data: dict) -> dict:
    return {key: value for key, value in data.items() if value not in ("", None)}


def _name(customer: Customer) -> dict:
    return _drop_empty(
        {"firstName": customer.first_name, "middleName": customer.middle_name, "lastName": customer.last_name}
    )


def _person_details(customer: Customer) -> dict:
    return _drop_empty(
        {
            "name": _name(customer),
            "dateOfBirth": customer.date_birth,
            "countryOfResidence": customer.country_residence.alpha2 if customer.country_residence else None,
            "countryOfNationality": customer.country_nationality.alpha2
            if customer.country_nationality
            else None,
        }
    )


def _address(address) -> dict:
    ref = str(address.pk)
    data = _drop_empty(
        {
            "addressLines": address.street_name.split("\n") if address.street_name else [],
            "postcode": address.postcode,
            "city": address.city,
            "state": address.state,
            "country": address.country.name if address.country else None,
            "addressType": address.address_type,
        }
    )
    data["addressLines"] = data.get("addressLines", [])
    # Tags have no rows of their own: their id is the address's and their position.
    data["tags"] = [
        {**tag, "_id": f"{ref}-{i}", "id": f"{ref}-{i}"} for i, tag in enumerate(address.tags or [])
    ]
    data["_id"] = data["id"] = ref
    return data


def _contact_details(customer: Customer) -> dict:
    by_type: dict[int, list[str]] = {}
    for means in customer.communication_means.all():
        means_type = (
            PHONE if means.communication_means_type_id == MOBILE else means.communication_means_type_id
        )
        by_type.setdefault(means_type, []).append(means.value)
    return {
        "emailIds": by_type.get(EMAIL, []),
        "contactNumbers": by_type.get(PHONE, []),
        "websites": by_type.get(WEBSITE, []),
        "addresses": [_address(address) for address in customer.addresses.all()],
        "faxNumbers": by_type.get(FAX, []),
    }


def _legal_document(card) -> dict:
    return _drop_empty(
        {
            "documentType": card.document_type_name or ID_CARD_TYPE_NAMES.get(card.id_card_type_id, "other"),
            "documentNumber": card.number,
            "documentIssuedDate": millis(card.issued_date),
            "documentExpirationDate": millis(card.expiration_date),
            "documentIssuedCountry": card.issued_country.alpha2 if card.issued_country else None,
        }
    ) | {"tags": list(card.tags or [])}


def risk_score_details(customer: Customer, *, ors_score=None, ors_level=None) -> dict:
    return {
        "irsRiskScore": customer.onboarding_risk_score,
        "irsRiskLevel": customer.onboarding_risk_level or None,
        "orsRiskScore": customer.risk_effective_score if ors_score is None else ors_score,
        "orsRiskLevel": customer.risk_level if ors_level is None else ors_level,
    }


def _user_common(customer: Customer) -> dict:
    return {
        "contactDetails": _contact_details(customer),
        "userStateDetails": {"state": customer.user_state, "reason": customer.user_state_reason},
        "kycStatusDetails": {"status": customer.kyc_status, "reason": customer.kyc_status_reason},
        "userId": customer.external_ref,
        "createdTimestamp": millis(customer.registered_at),
        "updatedTimestamp": millis(customer.updated_at),
        "reasonForAccountOpening": customer.reason_for_account_opening or [],
        "sourceOfFunds": customer.source_of_funds or [],
        "tags": customer.tags or [],
        "pepStatus": customer.pep_status or [],
        "updatedAt": iso_millis(customer.updated_at),
        "executedRules": customer.executed_rules or [],
        "hitRules": customer.hit_rules or [],
        "riskScoreDetails": risk_score_details(customer),
    }


def individual_user_document(customer: Customer, **extra) -> dict:
    """The seed 004 individual user of a person customer (its id cards, addresses, contacts prefetched)."""
    data = {
        "legalEntity": {"companyGeneralDetails": {"businessIndustry": [], "mainProductsServicesSold": []}},
        "userDetails": _person_details(customer),
        "employmentDetails": {"businessIndustry": customer.business_industry or []},
        "userType": "INDIVIDUAL",
        "legalDocuments": [_legal_document(card) for card in customer.id_cards.all()],
        **_user_common(customer),
        **extra,
    }
    serializer = IndividualUserEventResultSerializer if "eventId" in extra else IndividualUserOutSerializer
    return _shaped(serializer, data)


def _associate_document(person: Customer, percentage=None) -> dict:
    data = {
        "userId": person.external_ref,
        "generalDetails": _person_details(person) | {"userCategory": "INDIVIDUAL"},
    }
    if percentage is not None:
        data["ownershipPercentage"] = float(percentage)
    return data


def entity_user_document(customer: Customer, **extra) -> dict:
    """The seed 004 entity user of an organisation customer, with its person shareholders and directors."""
    general = {
        "legalName": customer.registered_name or None,
        "businessIndustry": customer.company_business_industry or [],
        "mainProductsServicesSold": customer.main_products_services or [],
    }
    registration = _drop_empty(
        {
            "registrationIdentifier": customer.registration_no,
            "registrationCountry": customer.country_incorporation.alpha2
            if customer.country_incorporation
            else None,
            "taxResidenceCountry": customer.country_domiciliary.alpha2
            if customer.country_domiciliary
            else None,
            "taxIdentifier": customer.tax_identifier,
            "legalEntityType": customer.legal_entity_type,
            "dateOfRegistration": customer.date_incorporation,
        }
    )
    data = {
        "legalEntity": {"companyGeneralDetails": _drop_empty(general)},
        "employmentDetails": {"businessIndustry": []},
        "userType": "ENTITY",
        "legalDocuments": [],
        **_user_common(customer),
        "shareHolders": [
            _associate_document(stake.holder, stake.percentage)
            for stake in customer.stakes_in.all()
            if stake.holder.is_person and stake.holder.deleted_at is None
        ],
        "directors": [
            _associate_document(association.associate)
            for association in customer.roles_in.all()
            if association.role_id == DIRECTOR
            and association.associate.is_person
            and association.associate.deleted_at is None
        ],
        **extra,
    }
    if registration:
        data["companyRegistrationDetails"] = registration
    serializer = EntityUserEventResultSerializer if "eventId" in extra else EntityUserOutSerializer
    return _shaped(serializer, data)


def _attributes_with_defaults(attributes: dict, kind: str) -> dict:
    """An event's attributes as sent, completed as seed 004's "Retrieve a User Event" shows them."""
    sent = dict(attributes)
    legal_entity = dict(sent.pop("legalEntity", None) or {})
    general = {
        "businessIndustry": [],
        "mainProductsServicesSold": [],
        **(legal_entity.get("companyGeneralDetails") or {}),
    }
    contacts = {
        "emailIds": [],
        "contactNumbers": [],
        "faxNumbers": [],
        "websites": [],
        "addresses": [],
        **(sent.pop("contactDetails", None) or {}),
    }
    employment = {"businessIndustry": [], **(sent.pop("employmentDetails", None) or {})}
    data = {
        "legalEntity": {**legal_entity, "companyGeneralDetails": general},
        "contactDetails": contacts,
        "employmentDetails": employment,
    }
    if "userStateDetails" in sent:
        state = sent.pop("userStateDetails")
        data["userStateDetails"] = {
            "state": state.get("state") or state.get("status"),
            "reason": state.get("reason", ""),
        }
    if "kycStatusDetails" in sent:
        kyc = sent.pop("kycStatusDetails")
        data["kycStatusDetails"] = {"status": kyc.get("status"), "reason": kyc.get("reason", "")}
    data.update(sent)
    data["legalDocuments"] = [
        {**document, "tags": document.get("tags", [])} for document in sent.get("legalDocuments", [])
    ]
    for key in ("reasonForAccountOpening", "sourceOfFunds", "pepStatus", "tags"):
        data.setdefault(key, [])
    data["userType"] = kind
    return data


def user_event_document(event: UserEvent) -> dict:
    """Seed 004 "Retrieve a User Event": the event, its attributes, and the user's risk as the
    event left it (its risk trail) next to the user's rule results."""
    customer = event.customer
    attributes = _attributes_with_defaults(event.updated_attributes or {}, event.kind)
    trail = event.risk_trail
    data = {
        "updatedAttributes": attributes,
        "timestamp": millis(event.timestamp),
        "eventId": event.event_id,
        "userId": customer.external_ref,
        "reason": event.reason,
        "eventDescription": event.event_description,
        "updatedAt": iso_millis(event.created_at),
        "tags": attributes["tags"],
        "pepStatus": attributes["pepStatus"],
        "legalDocuments": attributes["legalDocuments"],
        "executedRules": customer.executed_rules or [],
        "hitRules": customer.hit_rules or [],
        "riskScoreDetails": risk_score_details(
            customer,
            ors_score=trail.effective_score if trail else None,
            ors_level=trail.level if trail else None,
        ),
    }
    return _shaped(UserEventOutSerializer, data)
