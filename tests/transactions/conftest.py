"""Transactions, users and rule instances for the monitoring tests, through the real services."""

import copy
import itertools

import pytest

from compliance.audit import Actor
from rules import services as rule_services
from tests.users.conftest import create_customer
from transactions import money

ORIGIN_ID = "47b2ed45-971f-4234-b774-40acde4cc44c"
DESTINATION_ID = "d9ecf9c9-1c89-4c14-a74f-c92b3856e857"

# Seed 004 "Verify a Transaction", as sent (the `//` comments stripped).
SEED_TRANSACTION = {
    "type": "TRANSFER",
    "transactionId": "23c94c9e7b5f1107db15a530ea2f54c0",
    "timestamp": 1733648901229,
    "transactionState": "CREATED",
    "originUserId": ORIGIN_ID,
    "destinationUserId": DESTINATION_ID,
    "productType": "Digital",
    "originAmountDetails": {"transactionAmount": 35000, "transactionCurrency": "PHP", "country": "PH"},
    "originPaymentDetails": {"method": "WALLET"},
    "destinationAmountDetails": {"transactionAmount": 35000, "transactionCurrency": "PHP", "country": "PH"},
    "destinationPaymentDetails": {"method": "WALLET"},
    "reference": "Intra Transfer",
    "originDeviceData": {
        "batteryLevel": 95,
        "deviceLatitude": 13.0033,
        "deviceLongitude": 76.1004,
        "ipAddress": "10.23.100.1",
        "deviceIdentifier": "xxx9f915d04xxxx",
        "vpnUsed": False,
        "operatingSystem": "Android 11.2",
        "deviceMaker": "XYZ Phone",
        "deviceModel": "XYZ M2 Pro Max",
        "deviceYear": "2018",
        "appVersion": "1.1.0",
    },
    "destinationDeviceData": {
        "batteryLevel": 95,
        "deviceLatitude": 13.0033,
        "deviceLongitude": 76.1004,
        "ipAddress": "10.23.100.1",
        "deviceIdentifier": "xxx9f915d04xxxx",
        "vpnUsed": False,
        "operatingSystem": "Android 11.2",
        "deviceMaker": "XYZ Phone",
        "deviceModel": "XYZ M2 Pro Max",
        "deviceYear": "2018",
        "appVersion": "1.1.0",
    },
    "tags": [{"key": "Source", "value": "API Docs Tester"}],
}

# Seed 004 "Create a Transaction Event", as sent.
SEED_EVENT = {
    "timestamp": 1733649554849,
    "transactionId": "23c94c9e7b5f1107db15a530ea2f54c0",
    "eventId": "c08b6ccdee2be0e16ab0a3218b821bf7",
    "eventDescription": "Transaction Successful",
    "reason": "Transaction Successful",
    "updatedTransactionAttributes": {"transactionState": "SUCCESSFUL"},
}

# Test rates: 1 EUR = 1.1 USD, 1 PHP = 0.017 USD (base USD).
RATES = {"EUR": "1.1", "PHP": "0.017", "GBP": "1.25"}


@pytest.fixture(autouse=True)
def exchange_rates(db):
    from transactions.models import ExchangeRate

    for currency, rate in RATES.items():
        ExchangeRate.objects.update_or_create(currency=currency, defaults={"rate_to_base": rate})
    money.forget_rates()
    yield
    money.forget_rates()


@pytest.fixture
def seed_users(db):
    """The two users of the seed sample (persons, MEDIUM ongoing risk by default)."""
    return (
        create_customer(ref=ORIGIN_ID, first_name="Danny", last_name="Anderson"),
        create_customer(ref=DESTINATION_ID, first_name="Alexandra", last_name="Trujillo"),
    )


_ids = itertools.count(1)


def body(**overrides) -> dict:
    """The seed transaction with a fresh transactionId (and the overrides; None removes a key)."""
    data = copy.deepcopy(SEED_TRANSACTION)
    data["transactionId"] = f"tx-{next(_ids)}"
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def make_instance(rule_id: str, **document):
    """A rule instance through the real service (what the API and the admin call)."""
    return rule_services.rule_instance_create(
        actor=Actor.system_actor("tests"), document={"ruleId": rule_id, **document}
    )


@pytest.fixture
def instance():
    return make_instance


def properties(response) -> set[str]:
    """The properties a 400/409 names (the error body is a list of {property, issue})."""
    return {error["property"] for error in response.json()["errors"]}
