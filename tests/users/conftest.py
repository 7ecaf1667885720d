"""Customers for the customer-side tests, created through the real services."""

import pytest

from compliance.audit import Actor
from compliance.reference.models import Country, CustomerStatus, CustomerType
from users.models import Customer
from users.services import customers as customer_services


def create_customer(*, ref: str, person: bool = True, actor: Actor | None = None, **fields) -> Customer:
    """A customer with the minimum the API requires, plus `fields` (model field names;
    lookups as ids or instances)."""
    values = {
        "external_ref": ref,
        "customer_type": CustomerType.objects.get(pk=1 if person else 2),
        "status": CustomerStatus.objects.get(pk=1),
    }
    if person:
        values.update(first_name="John", last_name="Doe")
    else:
        values.update(registered_name="ACME Corporation LTD")
    for name, value in fields.items():
        if name.startswith("country_") and isinstance(value, int):
            value = Country.objects.get(pk=value)
        values[name] = value
    result = customer_services.customer_create(actor=actor or Actor.system_actor("tests"), fields=values)
    return Customer.objects.get(pk=result.customer.pk)


@pytest.fixture
def make_customer(db):
    return create_customer


@pytest.fixture
def person(db):
    return create_customer(ref="JD001")


@pytest.fixture
def organisation(db):
    return create_customer(ref="AC001", person=False)
