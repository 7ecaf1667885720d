"""The rule library R-1..R-15 through the real API: a hit and a no-hit at each boundary, plus
what the engine does around a template (per-level parameters, filters, shadow mode,
triggers, errors). Earlier transactions carry earlier `timestamp`s so windows hold them."""

import dataclasses
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator

from compliance.errors import ApplicationError
from compliance.reference.models import Country
from rules.blocked import normalise
from rules.engine.context import EvaluationContext
from rules.iplookup import address_key
from rules.library import REGISTRY
from rules.models import BlockedValue, IpCountryRange
from tests.transactions.conftest import (
    DESTINATION_ID,
    ORIGIN_ID,
    RATES,
    SEED_TRANSACTION,
    body,
    make_instance,
)
from tests.users.conftest import create_customer
from transactions import money as rates
from transactions.models import ExchangeRate, Transaction, TransactionRuleHit
from users.models import Customer, UserEvent

pytestmark = pytest.mark.django_db

T0 = SEED_TRANSACTION["timestamp"]
SECOND, HOUR, DAY = 1000, 3600 * 1000, 86400 * 1000


# The fixtures of tests/transactions/conftest.py, through its helpers (fixtures are not
# shared across test packages without a common conftest).
@pytest.fixture(autouse=True)
def exchange_rates(db):
    for currency, rate in RATES.items():
        ExchangeRate.objects.update_or_create(currency=currency, defaults={"rate_to_base": rate})
    rates.forget_rates()
    yield
    rates.forget_rates()


@pytest.fixture
def seed_users(db):
    return (
        create_customer(ref=ORIGIN_ID, first_name="Danny", last_name="Anderson"),
        create_customer(ref=DESTINATION_ID, first_name="Alexandra", last_name="Trujillo"),
    )


@pytest.fixture
def instance():
    return make_instance


def money(amount, currency="EUR", country=None) -> dict:
    details = {"transactionAmount": amount, "transactionCurrency": currency}
    if country:
        details["country"] = country
    return details


def post(client, **overrides) -> dict:
    response = client.post("/api/transactions", body(**overrides), format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def executed(answer: dict, rule) -> dict | None:
    """The executed-rule item of an instance in an answer (None: the instance did not run)."""
    return next((item for item in answer["executedRules"] if item["ruleInstanceId"] == str(rule.pk)), None)


def hit(answer: dict, rule) -> bool:
    item = executed(answer, rule)
    assert item is not None, f"instance {rule.pk} ({rule.rule_id}) did not run"
    return item["ruleHit"]


def data(answer: dict, rule) -> dict:
    return executed(answer, rule)["executedRules"][0]["detail"]["data"]


def set_user(ref: str, **fields) -> None:
    assert Customer.objects.filter(external_ref=ref).update(**fields) == 1


def at(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def ip_range(first: str, last: str, country: str) -> None:
    IpCountryRange.objects.create(start=address_key(first), end=address_key(last), country=country)


# --- the library itself ----------------------------------------------------------------------


def test_library_has_r1_to_r15_with_strict_schemas_and_valid_defaults():
    assert {f"R-{n}" for n in range(1, 16)} <= set(REGISTRY)
    for template in REGISTRY.values():
        schema = template.parameters_schema
        Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False
        assert template.nature in {"AML", "FRAUD", "CTF", "SCREENING"}
        assert template.labels
        assert template.description
        assert template.name
        assert not list(Draft202012Validator(schema).iter_errors(template.default_parameters)), template.id
        assert list(Draft202012Validator(schema).iter_errors({**template.default_parameters, "x": 1}))


@pytest.mark.parametrize(
    ("rule_id", "parameters", "bad"),
    [
        ("R-4", {"transactionAmountThreshold": {"currency": "EUR", "amount": 0}, "newUserDays": 3}, "amount"),
        ("R-5", {**REGISTRY["R-5"].default_parameters, "marginPercent": 100}, "marginPercent"),
        (
            "R-6",
            {
                "roundingUnit": 1000,
                "minimumAmount": {"currency": "EUR", "amount": 1},
                "roundTransactionsCount": 2,
            },
            "",
        ),
        ("R-7", {"checks": ["IP_COUNTRY"], "countries": ["IR"], "minimumCountryRiskScore": 60}, ""),
        ("R-7", {"checks": ["IP_COUNTRY"]}, ""),
        ("R-8", {**REGISTRY["R-8"].default_parameters, "checkFor": "destinationUser"}, "checkFor"),
        (
            "R-12",
            {"minimumRiskLevel": "SEVERE", "transactionAmountThreshold": {"currency": "EUR", "amount": 1}},
            "",
        ),
        ("R-13", {"lists": ["PASSPORT"]}, "lists"),
        ("R-14", {"checks": []}, "checks"),
        ("R-11", {**REGISTRY["R-11"].default_parameters, "colour": "red"}, ""),
    ],
)
def test_invalid_parameters_are_refused(instance, rule_id, parameters, bad):
    with pytest.raises(ApplicationError) as error:
        instance(rule_id, parameters=parameters)
    assert any(key.startswith("parameters") and bad in key for key in error.value.errors), error.value.errors


# --- R-1 amount ------------------------------------------------------------------------------


def test_r1_amount_at_threshold_hits_and_just_above_does_not(integrator_client, seed_users, instance):
    at_threshold = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 35000}})
    above = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 35000.01}})
    answer = post(integrator_client)
    assert hit(answer, at_threshold)
    assert not hit(answer, above)
    assert data(answer, at_threshold)["comparedAmount"] == {"currency": "PHP", "amount": 35000}


# --- velocity ----------------------------------------------------------------------


def test_r2_count_exceeding_the_limit_hits_and_window_start_is_excluded(
    integrator_client, seed_users, instance
):
    limit_2 = instance(
        "R-2",
        parameters={
            "transactionsLimit": 2,
            "timeWindow": {"units": 1, "granularity": "hour"},
            "checkFor": "originUser",
        },
    )
    limit_3 = instance(
        "R-2",
        parameters={
            "transactionsLimit": 3,
            "timeWindow": {"units": 1, "granularity": "hour"},
            "checkFor": "originUser",
        },
    )
    post(integrator_client, timestamp=T0 - HOUR)  # exactly one hour before: outside (now - 1h, now]
    post(integrator_client, timestamp=T0 - HOUR + 1)
    post(integrator_client, timestamp=T0 - SECOND)
    answer = post(integrator_client, timestamp=T0)
    assert data(answer, limit_2)["aggregates"]["transactionsCount"] == 3
    assert hit(answer, limit_2)
    assert not hit(answer, limit_3)
    assert executed(answer, limit_2)["vars"] == [{"value": {"transactionsCount": 3}, "direction": "ORIGIN"}]


def test_r3_sum_exceeding_the_threshold_hits(integrator_client, seed_users, instance):
    window = {"units": 1, "granularity": "day"}
    below = instance(
        "R-3",
        parameters={
            "transactionsAmountThreshold": {"currency": "EUR", "amount": 199.99},
            "timeWindow": window,
            "checkFor": "originUser",
        },
    )
    equal = instance(
        "R-3",
        parameters={
            "transactionsAmountThreshold": {"currency": "EUR", "amount": 200},
            "timeWindow": window,
            "checkFor": "originUser",
        },
    )
    post(integrator_client, timestamp=T0 - HOUR, originAmountDetails=money(100))
    answer = post(integrator_client, timestamp=T0, originAmountDetails=money(100))
    assert data(answer, equal)["aggregates"]["transactionsAmount"] == {"currency": "EUR", "amount": 200}
    assert hit(answer, below)
    assert not hit(answer, equal)


# --- R-4 new user ------------------------------------------------------------------------------


def _r4(instance, amount=5000, days=30):
    return instance(
        "R-4",
        parameters={"transactionAmountThreshold": {"currency": "EUR", "amount": amount}, "newUserDays": days},
    )


def test_r4_new_user_amount_at_threshold_hits(integrator_client, seed_users, instance):
    at_threshold, above = _r4(instance, 5000), _r4(instance, 5000.01)
    answer = post(integrator_client, originAmountDetails=money(5000))
    assert hit(answer, at_threshold)
    assert not hit(answer, above)
    aggregates = data(answer, at_threshold)["aggregates"]
    assert aggregates["comparedAmount"] == {"currency": "EUR", "amount": 5000}
    assert aggregates["firstTransactionAsOrigin"] is True


def test_r4_registration_boundary_in_days(integrator_client, seed_users, instance):
    set_user(ORIGIN_ID, registered_at=at(T0 - 30 * DAY))
    post(integrator_client, timestamp=T0 - HOUR, originAmountDetails=money(1))  # not the first any more
    within, outside = _r4(instance, 1, days=30), _r4(instance, 1, days=29)
    answer = post(integrator_client, timestamp=T0, originAmountDetails=money(10))
    assert hit(answer, within)
    assert not hit(answer, outside)
    assert data(answer, outside)["aggregates"]["firstTransactionAsOrigin"] is False
    assert data(answer, outside)["aggregates"]["daysSinceRegistration"] == 30


def test_r4_first_transaction_as_origin_of_an_old_user(integrator_client, seed_users, instance):
    set_user(ORIGIN_ID, registered_at=at(T0 - 400 * DAY))
    rule = _r4(instance, 1)
    # Received before, never sent: still the first transaction as origin.
    post(integrator_client, timestamp=T0 - DAY, originUserId=DESTINATION_ID, destinationUserId=ORIGIN_ID)
    first = post(integrator_client, timestamp=T0, originAmountDetails=money(10))
    second = post(integrator_client, timestamp=T0 + SECOND, originAmountDetails=money(10))
    assert hit(first, rule)
    assert not hit(second, rule)


# --- R-5 structuring ---------------------------------------------------------------------------


def _r5(instance, count):
    return instance(
        "R-5",
        parameters={
            "transactionAmountThreshold": {"currency": "EUR", "amount": 10000},
            "marginPercent": 10,
            "transactionsCount": count,
            "timeWindow": {"units": 1, "granularity": "day"},
            "checkFor": "originUser",
        },
    )


def test_r5_enough_amounts_in_the_band_hit(integrator_client, seed_users, instance):
    three, four = _r5(instance, 3), _r5(instance, 4)
    for offset, amount in ((5, 9000), (4, 9999.99), (3, 10000), (2, 8999.99)):  # in, in, out, out
        post(integrator_client, timestamp=T0 - offset * HOUR, originAmountDetails=money(amount))
    post(integrator_client, timestamp=T0 - DAY, originAmountDetails=money(9500))  # outside the window
    answer = post(integrator_client, timestamp=T0, originAmountDetails=money(9500))
    assert data(answer, three)["aggregates"]["transactionsInBand"] == 3
    assert data(answer, three)["rule"]["band"] == {"currency": "EUR", "from": 9000, "below": 10000}
    assert hit(answer, three)
    assert not hit(answer, four)


def test_r5_the_threshold_itself_is_out_of_the_band(integrator_client, seed_users, instance):
    one = _r5(instance, 1)
    at_threshold = post(integrator_client, originAmountDetails=money(10000))
    assert not hit(at_threshold, one)
    assert data(at_threshold, one)["aggregates"]["inBand"] is False
    assert hit(post(integrator_client, originAmountDetails=money(9000)), one)
    assert not hit(post(integrator_client, originAmountDetails=money(8999.99)), one)


# --- R-6 round amounts -----------------------------------------------------------------------


def test_r6_round_amount_at_the_minimum_hits(integrator_client, seed_users, instance):
    at_minimum = instance(
        "R-6", parameters={"roundingUnit": 1000, "minimumAmount": {"currency": "EUR", "amount": 5000}}
    )
    above = instance(
        "R-6", parameters={"roundingUnit": 1000, "minimumAmount": {"currency": "EUR", "amount": 5000.01}}
    )
    answer = post(integrator_client, originAmountDetails=money(5000))
    assert hit(answer, at_minimum)
    assert not hit(answer, above)
    not_round = post(integrator_client, originAmountDetails=money(5500))
    assert not hit(not_round, at_minimum)
    assert data(not_round, at_minimum)["aggregates"]["isRound"] is False
    # Round in its own currency, large once converted: PHP 1,000,000 = USD 17,000 = EUR 15,454.55.
    assert hit(post(integrator_client, originAmountDetails=money(1000000, "PHP")), at_minimum)


def test_r6_count_of_round_amounts_in_a_window(integrator_client, seed_users, instance):
    def windowed(count):
        return instance(
            "R-6",
            parameters={
                "roundingUnit": 1000,
                "minimumAmount": {"currency": "EUR", "amount": 5000},
                "roundTransactionsCount": count,
                "timeWindow": {"units": 1, "granularity": "day"},
                "checkFor": "originUser",
            },
        )

    two, three = windowed(2), windowed(3)
    post(integrator_client, timestamp=T0 - HOUR, originAmountDetails=money(6000))  # round, counted
    post(integrator_client, timestamp=T0 - 2 * HOUR, originAmountDetails=money(4000))  # below the minimum
    post(integrator_client, timestamp=T0 - 3 * HOUR, originAmountDetails=money(6500))  # not round
    answer = post(integrator_client, timestamp=T0, originAmountDetails=money(5000))
    assert data(answer, two)["aggregates"]["roundTransactionsCount"] == 2
    assert hit(answer, two)
    assert not hit(answer, three)


# --- R-7 high-risk countries -----------------------------------------------------------------


def test_r7_reference_score_at_the_minimum_hits(integrator_client, seed_users, instance):
    # Kenya is on the FATF grey list: reference score 60.
    at_score = instance("R-7", parameters={"checks": ["DESTINATION_COUNTRY"], "minimumCountryRiskScore": 60})
    above = instance("R-7", parameters={"checks": ["DESTINATION_COUNTRY"], "minimumCountryRiskScore": 61})
    origin_only = instance("R-7", parameters={"checks": ["ORIGIN_COUNTRY"], "minimumCountryRiskScore": 60})
    answer = post(integrator_client, destinationAmountDetails=money(100, country="KE"))
    assert hit(answer, at_score)
    assert not hit(answer, above)
    assert not hit(answer, origin_only)
    assert executed(answer, at_score)["ruleHitMeta"]["hitDirections"] == ["DESTINATION"]
    assert data(answer, at_score)["aggregates"]["countries"]["DESTINATION_COUNTRY"] == {
        "country": "KE",
        "riskScore": 60,
        "highRisk": True,
    }


def test_r7_listed_ip_and_card_issuer_countries(integrator_client, seed_users, instance):
    ip_range("81.2.69.0", "81.2.69.255", "IR")
    by_ip = instance("R-7", parameters={"checks": ["IP_COUNTRY"], "countries": ["IR"]})
    by_card = instance("R-7", parameters={"checks": ["CARD_ISSUER_COUNTRY"], "countries": ["KP"]})
    device = {**SEED_TRANSACTION["originDeviceData"], "ipAddress": "81.2.69.142"}
    card = {"method": "CARD", "cardFingerprint": "fp-1", "cardIssuedCountry": "KP"}
    answer = post(integrator_client, originDeviceData=device, originPaymentDetails=card)
    assert hit(answer, by_ip)
    assert hit(answer, by_card)
    assert data(answer, by_ip)["aggregates"]["countries"]["IP_COUNTRY"]["country"] == "IR"
    outside = {**device, "ipAddress": "81.2.70.0"}
    other_card = {**card, "cardIssuedCountry": "DE"}
    answer = post(integrator_client, originDeviceData=outside, originPaymentDetails=other_card)
    assert not hit(answer, by_ip)
    assert not hit(answer, by_card)
    assert data(answer, by_ip)["aggregates"]["countries"]["IP_COUNTRY"]["country"] is None


# --- fan-out and fan-in --------------------------------------------------------------


def _wallet(n):
    return {"method": "WALLET", "walletId": f"w-{n}"}


def _fan(instance, rule_id, limit, check):
    return instance(
        rule_id,
        parameters={
            "counterpartiesLimit": limit,
            "timeWindow": {"units": 1, "granularity": "day"},
            "checkFor": check,
        },
    )


def test_r8_fan_out_to_more_distinct_recipients_than_the_limit(integrator_client, seed_users, instance):
    two, three = _fan(instance, "R-8", 2, "originUser"), _fan(instance, "R-8", 3, "originUser")
    for offset, wallet in ((3, 1), (2, 1), (1, 2)):  # w-1 twice: one counterparty
        post(
            integrator_client,
            timestamp=T0 - offset * HOUR,
            destinationUserId=None,
            destinationPaymentDetails=_wallet(wallet),
        )
    answer = post(
        integrator_client, timestamp=T0, destinationUserId=None, destinationPaymentDetails=_wallet(3)
    )
    assert data(answer, two)["aggregates"]["distinctRecipients"] == 3
    assert hit(answer, two)
    assert not hit(answer, three)
    assert executed(answer, two)["ruleHitMeta"]["hitDirections"] == ["ORIGIN"]


def test_r9_fan_in_from_more_distinct_senders_than_the_limit(integrator_client, seed_users, instance):
    two, three = _fan(instance, "R-9", 2, "destinationUser"), _fan(instance, "R-9", 3, "destinationUser")
    post(integrator_client, timestamp=T0 - 2 * HOUR)  # from the seed origin user
    post(integrator_client, timestamp=T0 - HOUR, originUserId=None, originPaymentDetails=_wallet(1))
    post(integrator_client, timestamp=T0 - DAY, originUserId=None, originPaymentDetails=_wallet(9))  # outside
    answer = post(integrator_client, timestamp=T0, originUserId=None, originPaymentDetails=_wallet(2))
    assert data(answer, two)["aggregates"]["distinctSenders"] == 3
    assert hit(answer, two)
    assert not hit(answer, three)
    assert executed(answer, two)["ruleHitMeta"]["hitDirections"] == ["DESTINATION"]


# --- R-10 dormant account ------------------------------------------------------------------------


def _r10(instance, days, amount=1):
    return instance(
        "R-10",
        parameters={"dormantDays": days, "transactionAmountThreshold": {"currency": "EUR", "amount": amount}},
    )


def test_r10_quiet_for_exactly_the_dormant_days_hits(integrator_client, seed_users, instance):
    post(integrator_client, timestamp=T0 - 180 * DAY)
    at_days, more_days, larger = _r10(instance, 180), _r10(instance, 181), _r10(instance, 180, 100.01)
    answer = post(integrator_client, timestamp=T0, originAmountDetails=money(100))
    assert hit(answer, at_days)
    assert not hit(answer, more_days)
    assert not hit(answer, larger)
    assert data(answer, at_days)["aggregates"]["daysInactive"] == 180
    assert data(answer, at_days)["aggregates"]["lastActivityAt"] == T0 - 180 * DAY


def test_r10_receiving_counts_as_activity_and_registration_starts_the_quiet(
    integrator_client, seed_users, instance
):
    set_user(ORIGIN_ID, registered_at=at(T0 - 200 * DAY))
    rule = _r10(instance, 180)
    assert hit(post(integrator_client, timestamp=T0 - 10 * DAY, originAmountDetails=money(5)), rule)
    # The origin user received 5 days later: active again.
    post(
        integrator_client,
        timestamp=T0 - 5 * DAY,
        originUserId=DESTINATION_ID,
        destinationUserId=ORIGIN_ID,
    )
    assert not hit(post(integrator_client, timestamp=T0, originAmountDetails=money(5)), rule)


# --- R-11 pass-through ----------------------------------------------------------------------------


def _r11(instance, percentage):
    return instance(
        "R-11",
        parameters={"receivedPercentage": percentage, "timeWindow": {"units": 1, "granularity": "day"}},
    )


def _receive(client, amount, timestamp):
    post(
        client,
        timestamp=timestamp,
        originUserId=DESTINATION_ID,
        destinationUserId=ORIGIN_ID,
        originAmountDetails=money(amount),
        destinationAmountDetails=money(amount),
    )


def test_r11_received_at_least_the_percentage_hits(integrator_client, seed_users, instance):
    at_percentage, above = _r11(instance, 90), _r11(instance, 90.01)
    _receive(integrator_client, 900, T0 - HOUR)
    _receive(integrator_client, 5000, T0 - DAY)  # exactly one day before: outside (now - 1d, now]
    answer = post(integrator_client, timestamp=T0, originAmountDetails=money(1000))
    aggregates = data(answer, at_percentage)["aggregates"]
    # EUR 900 = USD 990 received, EUR 1000 = USD 1100 sent: 90 %.
    assert aggregates["receivedAmount"] == {"currency": "USD", "amount": 990}
    assert aggregates["receivedPercentage"] == 90
    assert hit(answer, at_percentage)
    assert not hit(answer, above)


def test_r11_nothing_received_is_no_hit(integrator_client, seed_users, instance):
    rule = _r11(instance, 1)
    answer = post(integrator_client, originAmountDetails=money(1000))
    assert not hit(answer, rule)
    assert data(answer, rule)["aggregates"]["receivedAmount"] == {"currency": "USD", "amount": 0}


# --- R-12 risky user -------------------------------------------------------------------------


def test_r12_level_and_amount_at_their_minimums_hit(integrator_client, seed_users, instance):
    set_user(ORIGIN_ID, risk_level="HIGH")

    def r12(level, amount):
        return instance(
            "R-12",
            parameters={
                "minimumRiskLevel": level,
                "transactionAmountThreshold": {"currency": "EUR", "amount": amount},
            },
        )

    hits, higher_level, higher_amount = r12("HIGH", 1000), r12("VERY_HIGH", 1000), r12("HIGH", 1000.01)
    answer = post(integrator_client, originAmountDetails=money(1000))
    assert hit(answer, hits)
    assert not hit(answer, higher_level)
    assert not hit(answer, higher_amount)
    assert data(answer, hits)["aggregates"]["riskLevel"] == "HIGH"


# --- R-13 blocked lists ---------------------------------------------------------------------------


def _block(kind, value, reason="test"):
    BlockedValue.objects.create(kind=kind, value=normalise(kind, value), reason=reason)


def test_r13_blocked_iban_is_found_whatever_its_spelling(integrator_client, seed_users, instance):
    _block("IBAN", "DE89 3704 0044 0532 0130 00", reason="court order")
    everything = instance("R-13", parameters={"lists": list(BlockedValue.Kind.values)})
    emails_only = instance("R-13", parameters={"lists": ["EMAIL"]})
    answer = post(
        integrator_client, destinationPaymentDetails={"method": "IBAN", "IBAN": "de89 3704 0044 0532 0130 00"}
    )
    assert hit(answer, everything)
    assert not hit(answer, emails_only)
    assert executed(answer, everything)["ruleHitMeta"]["hitDirections"] == ["DESTINATION"]
    assert data(answer, everything)["aggregates"]["matches"] == [
        {
            "kind": "IBAN",
            "value": "DE89370400440532013000",
            "direction": "DESTINATION",
            "reason": "court order",
        }
    ]
    assert not hit(
        post(
            integrator_client, destinationPaymentDetails={"method": "IBAN", "IBAN": "DE89370400440532013001"}
        ),
        everything,
    )


def test_r13_email_device_ip_and_payment_identifier(integrator_client, seed_users, instance):
    _block("EMAIL", "Mule@Example.com")
    _block("DEVICE", "dev-42")
    _block("PAYMENT_IDENTIFIER", "CARD:fp-bad")
    emails = instance("R-13", parameters={"lists": ["EMAIL"]})
    devices = instance("R-13", parameters={"lists": ["DEVICE", "IP"]})
    instruments = instance("R-13", parameters={"lists": ["PAYMENT_IDENTIFIER", "CARD_FINGERPRINT"]})
    answer = post(
        integrator_client,
        originPaymentDetails={"method": "WALLET", "walletId": "w-1", "emailId": "mule@EXAMPLE.com"},
        destinationDeviceData={"deviceIdentifier": "dev-42"},
        destinationPaymentDetails={"method": "CARD", "cardFingerprint": "fp-bad"},
    )
    assert hit(answer, emails)
    assert hit(answer, devices)
    assert hit(answer, instruments)
    kinds = {match["kind"] for match in data(answer, instruments)["aggregates"]["matches"]}
    assert kinds == {"PAYMENT_IDENTIFIER"}  # CARD:FP-BAD is; the fingerprint fp-bad is not listed
    _block("IP", "10.23.100.1")
    answer = post(integrator_client)
    assert hit(answer, devices)
    assert not hit(answer, emails)
    assert not hit(answer, instruments)
    assert executed(answer, devices)["ruleHitMeta"]["hitDirections"] == ["ORIGIN", "DESTINATION"]


def test_r13_looks_up_every_list_in_one_query(seed_users, integrator_client, django_assert_num_queries):
    post(
        integrator_client,
        originPaymentDetails={"method": "IBAN", "IBAN": "DE89370400440532013000", "emailId": "a@b.c"},
    )
    tx = Transaction.objects.select_related("origin_user", "destination_user").latest("id")
    ctx = EvaluationContext(tx)
    with django_assert_num_queries(1):
        outcome = REGISTRY["R-13"].evaluate(ctx, REGISTRY["R-13"].default_parameters)
    assert outcome.hit is False
    # IBAN, e-mail, origin payment identifier; device and IP, the same on both sides.
    assert outcome.data["aggregates"]["valuesChecked"] == 5


# --- R-14 VPN / IP country --------------------------------------------------------------------------


def test_r14_vpn_used(integrator_client, seed_users, instance):
    rule = instance("R-14", parameters={"checks": ["VPN_USED"]})
    vpn = {**SEED_TRANSACTION["originDeviceData"], "vpnUsed": True}
    assert hit(post(integrator_client, originDeviceData=vpn), rule)
    assert not hit(post(integrator_client), rule)  # the seed says vpnUsed: false


def test_r14_ip_country_against_residence_and_origin_country(integrator_client, seed_users, instance):
    ip_range("81.2.69.0", "81.2.69.255", "GB")
    set_user(ORIGIN_ID, country_residence=Country.objects.get(alpha2="DE"))
    residence = instance("R-14", parameters={"checks": ["IP_COUNTRY_NOT_RESIDENCE"]})
    origin_country = instance("R-14", parameters={"checks": ["IP_COUNTRY_NOT_ORIGIN_COUNTRY"]})
    device = {**SEED_TRANSACTION["originDeviceData"], "ipAddress": "81.2.69.1"}
    answer = post(integrator_client, originDeviceData=device, originAmountDetails=money(10, country="GB"))
    assert hit(answer, residence)
    assert not hit(answer, origin_country)
    assert data(answer, residence)["aggregates"] == {
        "ipAddress": "81.2.69.1",
        "ipCountry": "GB",
        "residenceCountry": "DE",
        "matched": ["IP_COUNTRY_NOT_RESIDENCE"],
    }
    set_user(ORIGIN_ID, country_residence=Country.objects.get(alpha2="GB"))
    answer = post(integrator_client, originDeviceData=device, originAmountDetails=money(10, country="PH"))
    assert not hit(answer, residence)
    assert hit(answer, origin_country)
    # An address in no loaded range never mismatches.
    answer = post(integrator_client, originAmountDetails=money(10, country="PH"))
    assert not hit(answer, residence)
    assert not hit(answer, origin_country)


# --- R-15 custom condition ---------------------------------------------------------------------------


def test_r15_custom_condition_boundary(integrator_client, seed_users, instance):
    def condition(operator):
        return {
            "condition": {
                "attribute": "originAmountDetails.transactionAmount",
                "operator": operator,
                "value": 35000,
            }
        }

    gte = instance("R-15", parameters=condition("$gte"))
    gt = instance("R-15", parameters=condition("$gt"))
    answer = post(integrator_client)
    assert hit(answer, gte)
    assert not hit(answer, gt)
    assert data(answer, gt)["result"]["status"] == "not-valid"


# --- what the engine does around a template ------------------------------------------------------


def test_risk_level_parameters_and_actions_follow_the_origin_users_level(
    integrator_client, seed_users, instance
):
    thresholds = {"VERY_LOW": 1000000, "LOW": 1000000, "MEDIUM": 1000000, "HIGH": 35000, "VERY_HIGH": 10}
    rule = instance(
        "R-1",
        riskLevelParameters={
            level: {"transactionAmountThreshold": {"PHP": amount}} for level, amount in thresholds.items()
        },
        riskLevelActions={
            "VERY_LOW": "FLAG",
            "LOW": "FLAG",
            "MEDIUM": "FLAG",
            "HIGH": "BLOCK",
            "VERY_HIGH": "SUSPEND",
        },
    )
    set_user(ORIGIN_ID, risk_level="MEDIUM")
    answer = post(integrator_client)
    assert not hit(answer, rule)
    assert answer["status"] == "ALLOW"
    assert executed(answer, rule)["executedRules"][0]["riskLevel"] == "MEDIUM"
    set_user(ORIGIN_ID, risk_level="HIGH")
    answer = post(integrator_client)
    item = executed(answer, rule)
    assert item["ruleHit"]
    assert item["ruleAction"] == "BLOCK"
    assert answer["status"] == "BLOCK"
    assert item["executedRules"][0]["riskLevel"] == "HIGH"
    assert item["executedRules"][0]["detail"]["data"]["rule"]["listAmount"] == {
        "currency": "PHP",
        "amount": 35000,
    }


def test_filters_leave_other_transactions_out(integrator_client, seed_users, instance):
    rule = instance(
        "R-1",
        parameters={"transactionAmountThreshold": {"PHP": 1}},
        filters={"transactionTypes": ["DEPOSIT"]},
    )
    transfer = post(integrator_client, type="TRANSFER")
    assert executed(transfer, rule) is None
    assert transfer["status"] == "ALLOW"
    deposit = post(integrator_client, type="DEPOSIT")
    assert hit(deposit, rule)
    assert deposit["status"] == "FLAG"


def test_shadow_instance_runs_and_hits_without_acting(integrator_client, seed_users, instance):
    rule = instance(
        "R-1",
        parameters={"transactionAmountThreshold": {"PHP": 1}},
        action="BLOCK",
        isShadow=True,
        triggersOnHit={"usersToCheck": "ORIGIN", "userStateDetails": {"state": "BLOCKED", "reason": "x"}},
    )
    answer = post(integrator_client)
    item = executed(answer, rule)
    assert item["ruleHit"] is True
    assert item["isShadow"] is True
    assert answer["hitRules"] == []
    assert answer["status"] == "ALLOW"
    assert TransactionRuleHit.objects.get(rule_instance_id=str(rule.pk)).is_shadow is True
    assert Customer.objects.get(external_ref=ORIGIN_ID).user_state != "BLOCKED"


def test_trigger_on_hit_sets_the_user_state_and_records_a_user_event(integrator_client, seed_users, instance):
    instance(
        "R-1",
        parameters={"transactionAmountThreshold": {"PHP": 1}},
        triggersOnHit={"usersToCheck": "ORIGIN", "userStateDetails": {"state": "BLOCKED", "reason": "x"}},
    )
    origin, destination = seed_users
    post(integrator_client)
    assert Customer.objects.get(pk=origin.pk).user_state == "BLOCKED"
    assert Customer.objects.get(pk=destination.pk).user_state != "BLOCKED"
    event = UserEvent.objects.get(customer=origin)
    assert event.updated_attributes["userStateDetails"] == {"state": "BLOCKED", "reason": "x"}
    assert not UserEvent.objects.filter(customer=destination).exists()


def test_a_template_that_raises_is_a_rule_error_not_a_500(
    integrator_client, seed_users, instance, monkeypatch
):
    def boom(ctx, params):
        raise RuntimeError("boom")

    monkeypatch.setitem(REGISTRY, "R-12", dataclasses.replace(REGISTRY["R-12"], evaluate=boom))
    failing = instance("R-12")
    working = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 1}})
    response = integrator_client.post("/api/transactions", body(), format="json")
    assert response.status_code == 200
    answer = response.json()
    assert answer["ruleErrors"] == [
        {"ruleInstanceId": str(failing.pk), "ruleId": "R-12", "error": "RuntimeError: boom"}
    ]
    assert executed(answer, failing) is None
    assert hit(answer, working)
    assert answer["status"] == "FLAG"


# --- rules.blocked.normalise -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("IBAN", " de89 3704\t0044 0532 0130 00 ", "DE89370400440532013000"),
        ("EMAIL", " Someone@Example.COM ", "someone@example.com"),
        ("IP", "2001:0DB8:0000::0001", "2001:db8::1"),
        ("IP", "::ffff:81.2.69.1", "81.2.69.1"),
        ("IP", " 10.0.0.1 ", "10.0.0.1"),
        ("CARD_FINGERPRINT", " AbC123 ", "AbC123"),
        ("DEVICE", "dev-1", "dev-1"),
        ("PAYMENT_IDENTIFIER", "iban:de89 3704", "IBAN:DE893704"),
        ("EMAIL", None, ""),
    ],
)
def test_normalise(kind, value, expected):
    assert normalise(kind, value) == expected


def test_normalise_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="PASSPORT"):
        normalise("PASSPORT", "x")


def test_sent_before_counts_earlier_sends_only(seed_users, integrator_client):
    """R-4's "no previous transaction as origin": earlier timestamps, or the same one stored earlier."""
    origin, _ = seed_users
    later = post(integrator_client, timestamp=T0 + HOUR)
    same_first = post(integrator_client, timestamp=T0)
    same_second = post(integrator_client, timestamp=T0)
    contexts = {
        answer["transactionId"]: EvaluationContext(
            Transaction.objects.get(transaction_id=answer["transactionId"])
        )
        for answer in (later, same_first, same_second)
    }
    assert contexts[same_first["transactionId"]].sent_before(origin.pk) is False
    assert contexts[same_second["transactionId"]].sent_before(origin.pk) is True
    assert contexts[later["transactionId"]].sent_before(origin.pk) is True
