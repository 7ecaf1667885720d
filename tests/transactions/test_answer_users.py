"""The users in a transaction answer (`originUserDetail` / `destinationUserDetail`) are read on a
lean path (transactions.api.user_details, issue 4 benchmark): it must answer, byte for byte,
what the users' own documents answer when their lists are read through the ORM's prefetch."""

import copy
import json

import pytest
from django.db.models import prefetch_related_objects
from rest_framework.renderers import JSONRenderer

from compliance.reference.models import Country
from tests.transactions.conftest import body
from tests.users.test_user_api import (
    ENTITY_ID,
    ENTITY_USER_REQUEST,
    INDIVIDUAL_ID,
    INDIVIDUAL_USER_REQUEST,
    post_entity,
    post_individual,
)
from transactions.api.user_details import user_details
from transactions.models import Transaction
from users.api.user_serializers import entity_user_document, individual_user_document
from users.api.user_views import user_prefetches
from users.models import Customer
from users.models.customers import PERSON


def reference(customer_id: int) -> dict:
    """The user's document as the users app builds it, its lists read through the ORM."""
    customer = Customer.objects.get(pk=customer_id)
    prefetch_related_objects([customer], *user_prefetches(customer.customer_type_id))
    document = individual_user_document if customer.customer_type_id == PERSON else entity_user_document
    return document(customer)


def rendered(document) -> bytes:
    return JSONRenderer().render(document)


@pytest.fixture
def users(integrator_client):
    person = copy.deepcopy(INDIVIDUAL_USER_REQUEST)
    person["contactDetails"]["addresses"] *= 3
    person["legalDocuments"] *= 2
    post_individual(integrator_client, person)
    entity = copy.deepcopy(ENTITY_USER_REQUEST)
    entity["shareHolders"] *= 2
    entity["directors"] = [{"generalDetails": {"name": {"firstName": "Carol"}}}]
    post_entity(integrator_client, entity)
    return Customer.objects.get(external_ref=INDIVIDUAL_ID), Customer.objects.get(external_ref=ENTITY_ID)


def verify(client, origin, destination) -> dict:
    response = client.post(
        "/api/transactions",
        body(originUserId=origin, destinationUserId=destination, originDeviceData=None),
        format="json",
    )
    assert response.status_code == 200, response.content
    return response


@pytest.mark.parametrize(
    ("origin", "destination"),
    [
        (INDIVIDUAL_ID, ENTITY_ID),
        (ENTITY_ID, INDIVIDUAL_ID),
        (INDIVIDUAL_ID, INDIVIDUAL_ID),
        (ENTITY_ID, None),
    ],
)
def test_the_answer_shows_the_users_exactly_as_their_own_documents(
    integrator_client, users, origin, destination
):
    response = verify(integrator_client, origin, destination)
    answer = json.loads(response.content)
    by_ref = {customer.external_ref: customer.pk for customer in users}
    assert rendered(answer["originUserDetail"]) == rendered(reference(by_ref[origin]))
    if destination:
        assert rendered(answer["destinationUserDetail"]) == rendered(reference(by_ref[destination]))
    else:
        assert "destinationUserDetail" not in answer
    # The lists are not empty: the comparison compares something.
    person = answer["originUserDetail"] if origin == INDIVIDUAL_ID else answer.get("destinationUserDetail")
    if person:
        assert len(person["contactDetails"]["addresses"]) == 3
        assert len(person["legalDocuments"]) == 2
    # GET answers what the POST did (read through the same path).
    stored = integrator_client.get(f"/api/transactions/{answer['transactionId']}").json()
    assert rendered(stored["originUserDetail"]) == rendered(answer["originUserDetail"])


def test_a_deactivated_country_is_still_shown(integrator_client, users):
    """Countries come from the process's table of active countries; one deactivated since is read
    from the database, as the ORM path would read it."""
    person, _ = users
    country = person.addresses.exclude(country=None).first().country
    Country.objects.filter(pk=country.pk).update(is_active=False)
    from users.api.user_serializers.fields import forget_countries

    forget_countries()
    tx = Transaction.objects.select_related("origin_user", "destination_user").get(
        transaction_id=verify(integrator_client, INDIVIDUAL_ID, None).json()["transactionId"]
    )
    details = user_details(tx)
    assert rendered(details["originUserDetail"]) == rendered(reference(person.pk))
    assert country.name in {
        a.get("country") for a in details["originUserDetail"]["contactDetails"]["addresses"]
    }


def test_the_lists_of_both_users_take_one_statement_each(integrator_client, users, django_assert_num_queries):
    answer = verify(integrator_client, INDIVIDUAL_ID, ENTITY_ID).json()
    tx = Transaction.objects.select_related("origin_user", "destination_user").get(
        transaction_id=answer["transactionId"]
    )
    # Communication means and addresses of both (2), the person's ID cards (1), the entity's
    # shareholders and directors (2); countries come from the process's table.
    with django_assert_num_queries(5):
        user_details(tx)
