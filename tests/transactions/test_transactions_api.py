"""POST/GET /api/transactions: the seed 004 sample, validation, idempotency, users (issue 4)."""

import pytest

from tests.transactions.conftest import DESTINATION_ID, ORIGIN_ID, SEED_TRANSACTION, body, properties
from transactions.models import Transaction, TransactionRuleHit

pytestmark = pytest.mark.django_db


def test_seed_sample_is_verified_and_suspended(integrator_client, seed_users, instance):
    rule = instance(
        "R-1",
        ruleNameAlias="Suspend PHP 30k",
        parameters={"transactionAmountThreshold": {"PHP": 30000}},
        action="SUSPEND",
        casePriority="P4",
    )
    response = integrator_client.post("/api/transactions", SEED_TRANSACTION, format="json")
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["status"] == "SUSPEND"
    assert answer["transactionId"] == SEED_TRANSACTION["transactionId"]
    assert answer["originAmountDetails"] == SEED_TRANSACTION["originAmountDetails"]
    assert answer["isFirstTransaction"] is True
    assert answer["ruleErrors"] == []
    [hit] = answer["hitRules"]
    assert hit["ruleInstanceId"] == str(rule.pk)
    assert hit["ruleNameAlias"] == "Suspend PHP 30k"
    assert hit["action"] == "SUSPEND"
    assert hit["casePriority"] == "P4"
    assert hit["versionId"] == f"{rule.pk}.1"
    assert hit["ruleHitMeta"]["hitDirections"] == ["ORIGIN"]
    detail = hit["executedRules"][0]["detail"]
    origin, destination = seed_users
    assert detail["riskLevel"] == {"originUser": origin.risk_level, "destinationUser": destination.risk_level}
    assert detail["data"]["transaction"]["origin"] == {"currency": "PHP", "amount": 35000}
    assert detail["data"]["rule"]["listAmount"] == {"currency": "PHP", "amount": 30000}
    assert answer["executedRules"] == answer["hitRules"]
    assert answer["originUserDetail"]["userId"] == ORIGIN_ID
    assert answer["destinationUserDetail"]["userId"] == DESTINATION_ID
    assert answer["riskScoreDetails"]["trsScore"] == "70"  # SUSPEND; PH is not a listed country
    assert answer["riskScoreDetails"]["trsRiskLevel"] == "HIGH"
    assert answer["riskScoreDetails"]["originUserOrsRiskLevel"] == origin.risk_level
    assert answer["riskScoreDetails"]["originUserOrsRiskScore"] == str(origin.risk_effective_score)

    stored = Transaction.objects.get(transaction_id=SEED_TRANSACTION["transactionId"])
    assert stored.status == "SUSPEND"
    assert TransactionRuleHit.objects.filter(transaction=stored, rule_instance_id=str(rule.pk)).exists()
    again = integrator_client.get(f"/api/transactions/{SEED_TRANSACTION['transactionId']}")
    assert again.status_code == 200
    assert again.json() == answer


def test_below_threshold_is_allowed(integrator_client, seed_users, instance):
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 35000.01}}, action="BLOCK")
    answer = integrator_client.post("/api/transactions", body(), format="json").json()
    assert answer["status"] == "ALLOW"
    assert answer["hitRules"] == []
    assert answer["executedRules"][0]["ruleHit"] is False


def test_replay_answers_the_stored_result_and_conflict_is_409(integrator_client, seed_users, instance):
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 100}}, action="FLAG")
    data = body()
    first = integrator_client.post("/api/transactions", data, format="json")
    second = integrator_client.post("/api/transactions", data, format="json")
    assert second.status_code == 200
    assert second.json() == first.json()
    assert Transaction.objects.filter(transaction_id=data["transactionId"]).count() == 1
    assert TransactionRuleHit.objects.count() == 1
    changed = {**data, "reference": "another"}
    conflict = integrator_client.post("/api/transactions", changed, format="json")
    assert conflict.status_code == 409
    assert properties(conflict) == {"transactionId"}


def test_unknown_users_are_400_naming_each(integrator_client, db):
    response = integrator_client.post("/api/transactions", body(), format="json")
    assert response.status_code == 400
    assert properties(response) == {"originUserId", "destinationUserId"}
    assert not Transaction.objects.exists()


def test_transaction_without_users_is_still_monitored(integrator_client, instance, db):
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}}, action="FLAG")
    answer = integrator_client.post(
        "/api/transactions", body(originUserId=None, destinationUserId=None), format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "FLAG"
    assert answer.json()["isFirstTransaction"] is False
    assert answer.json()["hitRules"][0]["executedRules"][0]["riskLevel"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "LOAN"}, "type"),
        ({"timestamp": "yesterday"}, "timestamp"),
        (
            {"originAmountDetails": {"transactionAmount": -1, "transactionCurrency": "PHP"}},
            "originAmountDetails",
        ),
        (
            {"originAmountDetails": {"transactionAmount": 1, "transactionCurrency": "XXX"}},
            "originAmountDetails",
        ),
        (
            {"originAmountDetails": {"transactionAmount": "1", "transactionCurrency": "EUR"}},
            "originAmountDetails",
        ),
        ({"originPaymentDetails": {"method": "BARTER"}}, "originPaymentDetails"),
        ({"originPaymentDetails": {"method": "IBAN", "IBAN": "not an iban"}}, "originPaymentDetails"),
        ({"originPaymentDetails": {"method": "CARD", "walletId": "x"}}, "originPaymentDetails"),
        ({"originDeviceData": {"ipAddress": "999.1.1.1"}}, "originDeviceData"),
        ({"transactionState": "DONE"}, "transactionState"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_400_naming_them(integrator_client, seed_users, change, field):
    response = integrator_client.post("/api/transactions", body(**change), format="json")
    assert response.status_code == 400
    assert any(name == field or name.startswith(f"{field}.") for name in properties(response)), (
        response.json()
    )


def test_every_payment_method_is_stored_with_its_identifier(integrator_client, seed_users):
    samples = {
        "CARD": {
            "cardFingerprint": "fp-1",
            "cardIssuedCountry": "DE",
            "3dsDone": True,
            "cardLast4Digits": "4242",
        },
        "GENERIC_BANK_ACCOUNT": {"accountNumber": "123", "bankCode": "BC1", "accountType": "SAVINGS"},
        "IBAN": {"IBAN": "DE89370400440532013000", "BIC": "COBADEFFXXX"},
        "ACH": {"routingNumber": "011000015", "accountNumber": "99"},
        "SWIFT": {"swiftCode": "DEUTDEFF", "accountNumber": "77"},
        "MPESA": {"businessShortCode": "174379", "phoneNumber": "+254700000000"},
        "UPI": {"upiID": "someone@bank"},
        "WALLET": {"walletId": "w-1", "walletType": "internal"},
        "CHECK": {"checkNumber": "1001", "checkIdentifier": "chk-1", "deliveryStatus": "PENDING"},
        "CASH": {"identifier": "till-7"},
    }
    for method, details in samples.items():
        data = body(originPaymentDetails={"method": method, **details})
        response = integrator_client.post("/api/transactions", data, format="json")
        assert response.status_code == 200, (method, response.json())
        assert response.json()["originPaymentDetails"] == {"method": method, **details}
        stored = Transaction.objects.get(transaction_id=data["transactionId"])
        assert stored.origin_payment_identifier.startswith(f"{method}:")


def test_permissions(api_client, analyst_client, outsider_client, seed_users):
    assert api_client.post("/api/transactions", body(), format="json").status_code == 401
    assert outsider_client.post("/api/transactions", body(), format="json").status_code == 403
    assert analyst_client.post("/api/transactions", body(), format="json").status_code == 403
    assert analyst_client.get("/api/transactions").status_code == 200
    assert outsider_client.get("/api/transactions").status_code == 403
