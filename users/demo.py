"""Demo customers for `make run` (setup_demo): the seed 003 samples with lists, associations,
a screening hit, and risk trails the demo analyst caused so the demo approver can approve."""

from datetime import date

from django.db import transaction

from compliance.audit import Actor
from compliance.models import StaffUser
from compliance.reference import models as ref
from users.lists import BY_PATH, CHECKED_BY_ID
from users.models import Customer
from users.services import customers as customer_services
from users.services import kyc


def _rows(customer, actor, path, rows):
    kyc.kyc_rows_add(actor=actor, customer=customer, kyc_list=BY_PATH[path], rows=rows)


def load(stdout) -> None:
    if Customer.objects.filter(external_ref="JD001").exists():
        stdout.write("Demo customers exist already.")
        return
    analyst = StaffUser.objects.filter(username="analyst").first()
    actor = Actor(user=analyst) if analyst else Actor.system_actor("setup_demo")
    country = ref.Country.objects.get
    with transaction.atomic():
        person = customer_services.customer_create(
            actor=actor,
            fields={
                "external_ref": "JD001",
                "customer_type": ref.CustomerType.objects.get(pk=1),
                "status": ref.CustomerStatus.objects.get(pk=1),
                "first_name": "John",
                "maiden_name": "Sierra",
                "last_name": "Doe",
                "date_birth": date(1965, 2, 1),
                "country_birth": country(alpha2="CY"),
                "country_nationality": country(alpha2="CY"),
                "country_residence": country(alpha2="CY"),
                "gender": ref.Gender.objects.get(pk=3),
                "marital_status": ref.MaritalStatus.objects.get(pk=1),
                "non_face_to_face": True,
                "profession": "Accountant",
                "other_info": "Lorem Ipsum Comment",
                "relationship_start_date": date(2001, 1, 19),
            },
        ).customer
        _rows(
            person,
            actor,
            "id-card",
            [
                {
                    "id_card_type": ref.IdCardType.objects.get(pk=4),
                    "number": "624323",
                    "copy": True,
                    "expiration_date": date(2020, 11, 25),
                },
            ],
        )
        _rows(
            person,
            actor,
            "addresses",
            [
                {
                    "street_name": "Makariou",
                    "postcode": "4787",
                    "city": "Nicosia",
                    "country": country(alpha2="CY"),
                },
            ],
        )
        _rows(
            person,
            actor,
            "communication-means",
            [
                {
                    "communication_means_type": ref.CommunicationMeansType.objects.get(pk=1),
                    "value": "99999999",
                },
                {
                    "communication_means_type": ref.CommunicationMeansType.objects.get(pk=4),
                    "value": "jd@example.com",
                },
            ],
        )
        _rows(
            person,
            actor,
            "screening-risks",
            [
                {
                    "screening_risk_type": ref.ScreeningRiskType.objects.get(pk=2),
                    "full_name": "John Doe",
                    "score": 91,
                    "inspected": False,
                    "type": "PEP List",
                },
            ],
        )
        kyc.checked_list_change(
            actor=actor,
            customer=person,
            checked=CHECKED_BY_ID["behavior-risks"],
            added=list(ref.BehaviorRisk.objects.filter(pk__in=[3, 5])),
        )
        organisation = customer_services.customer_create(
            actor=actor,
            fields={
                "external_ref": "AC001",
                "customer_type": ref.CustomerType.objects.get(pk=2),
                "status": ref.CustomerStatus.objects.get(pk=1),
                "registered_name": "ACME Corporation LTD",
                "registration_no": "CY123",
                "date_incorporation": date(2001, 12, 20),
                "incorporation_type": ref.IncorporationType.objects.get(pk=1),
                "country_incorporation": country(alpha2="CY"),
                "country_domiciliary": country(alpha2="CY"),
                "country_activity": country(alpha2="CY"),
                "main_business_activity": "Trading",
                "relationship_start_date": date(2001, 1, 19),
            },
        ).customer
        _rows(
            organisation,
            actor,
            "counterparty",
            [
                {
                    "counterpart_name": "Mary Jane",
                    "country": country(alpha2="CY"),
                    "fund_type": ref.FundType.objects.get(pk=1),
                    "comments": "Lorem Ipsum",
                },
                {
                    "counterpart_name": "John Doe",
                    "country": country(alpha2="IR"),
                    "fund_type": ref.FundType.objects.get(pk=2),
                    "comments": "The comments",
                },
            ],
        )
        _rows(
            organisation,
            actor,
            "financial-statement",
            [
                {
                    "statement_type": ref.StatementType.objects.get(pk=1),
                    "year": 2005,
                    "income": 500000,
                    "copy": True,
                },
            ],
        )
        _rows(organisation, actor, "country-presence", [{"country": country(alpha2="AF"), "year": 2005}])
        kyc.stake_add(actor=actor, holder=person, entity=organisation, percentage=25)
        kyc.association_add(
            actor=actor, associate=person, customer=organisation, role=ref.AssociationRole.objects.get(pk=1)
        )
    stdout.write("  demo customers: JD001 (person), AC001 (organisation) — see /admin/users/customer/")
