"""The engine's verify path (issue 4 benchmark): a transaction is judged before it is stored, with
the history aggregates its instances ask for read together in one statement (rules.engine.plan,
`EvaluationContext.prefetch`). It must judge exactly as the same transaction judged once stored,
each aggregate read on its own (the path of transaction events and backtests)."""

import pytest

from rules.engine import plan, runner
from rules.engine.context import EvaluationContext
from rules.iplookup import address_key
from rules.models import IpCountryRange
from tests.rules.test_library import DAY, HOUR, T0, exchange_rates, post, seed_users  # noqa: F401
from tests.transactions.conftest import body, make_instance
from transactions import money, services
from transactions.api.serializers import TransactionSerializer, transaction_fields, validated
from transactions.models import Transaction

pytestmark = pytest.mark.django_db

WALLET = {"method": "WALLET", "walletId": "w-1"}


@pytest.fixture
def instances(seed_users):  # noqa: F811
    IpCountryRange.objects.create(
        start=address_key("10.0.0.0"), end=address_key("10.255.255.255"), country="IR"
    )
    window = {"units": 1, "granularity": "day"}
    return [
        make_instance(
            "R-2", parameters={"transactionsLimit": 2, "timeWindow": window, "checkFor": "originUser"}
        ),
        make_instance(
            "R-2",
            parameters={
                "transactionsLimit": 1,
                "timeWindow": {"units": 1, "granularity": "hour"},
                "checkFor": "originPayment",
                "transactionTypes": ["TRANSFER"],
            },
        ),
        make_instance(
            "R-3",
            parameters={
                "transactionsAmountThreshold": {"currency": "EUR", "amount": 500},
                "timeWindow": window,
                "checkFor": "destinationUser",
            },
        ),
        make_instance(
            "R-8", parameters={"counterpartiesLimit": 1, "timeWindow": window, "checkFor": "originUser"}
        ),
        make_instance(
            "R-9",
            parameters={"counterpartiesLimit": 1, "timeWindow": window, "checkFor": "destinationPayment"},
        ),
        make_instance(
            "R-4",
            parameters={"transactionAmountThreshold": {"currency": "EUR", "amount": 1}, "newUserDays": 1},
        ),
        make_instance("R-7", parameters={"checks": ["IP_COUNTRY", "ORIGIN_COUNTRY"], "countries": ["IR"]}),
        make_instance(
            "R-14", parameters={"checks": ["IP_COUNTRY_NOT_RESIDENCE", "IP_COUNTRY_NOT_ORIGIN_COUNTRY"]}
        ),
        make_instance(
            "R-5",
            parameters={
                "transactionAmountThreshold": {"currency": "PHP", "amount": 40000},
                "marginPercent": 20,
                "transactionsCount": 2,
                "timeWindow": window,
            },
        ),
    ]


def unsaved(**overrides) -> Transaction:
    """A transaction as the verify service builds it before storing it."""
    fields = transaction_fields(validated(TransactionSerializer, body(**overrides)))
    fields.update(services._users(fields))
    tx = Transaction(**fields, payload_digest="-")
    tx.origin_amount_base = money.to_base(tx.origin_amount, tx.origin_currency)
    tx.destination_amount_base = money.to_base(tx.destination_amount, tx.destination_currency)
    return tx


def judged_alone(tx: Transaction) -> dict:
    """Each instance's result on the stored transaction, each aggregate read on its own."""
    results = {}
    for instance in runner.active_instances():
        execution = runner.execute(instance, EvaluationContext(tx))
        if execution is not None:
            results[instance.instance_id] = (
                execution.hit,
                execution.item["executedRules"][0]["detail"]["data"],
            )
    return results


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"destinationUserId": None, "destinationPaymentDetails": WALLET},
        {"originPaymentDetails": WALLET, "type": "DEPOSIT"},
        {"originUserId": None},
    ],
)
def test_judged_before_storing_as_after(integrator_client, instances, overrides):
    device = {"ipAddress": "10.1.2.3", "vpnUsed": False}
    for n, at in enumerate((T0 - DAY - HOUR, T0 - 5 * HOUR, T0 - HOUR, T0 - 1000, T0)):
        post(integrator_client, timestamp=at, originPaymentDetails={**WALLET, "walletId": f"w-{n % 2}"})
    tx = unsaved(timestamp=T0, originDeviceData=device, **overrides)
    verdict = runner.evaluate_transaction(tx)
    planned = {
        item["ruleInstanceId"]: (item["ruleHit"], item["executedRules"][0]["detail"]["data"])
        for item in verdict.executed_rules
    }
    assert verdict.rule_errors == []
    tx.save()
    stored = Transaction.objects.select_related("origin_user", "destination_user").get(pk=tx.pk)
    assert planned == judged_alone(stored)
    assert any(hit for hit, _ in planned.values())  # the comparison compares hits too
    assert not all(hit for hit, _ in planned.values())


def test_the_aggregates_are_read_in_one_statement(integrator_client, instances, django_assert_num_queries):
    post(integrator_client, timestamp=T0 - HOUR)
    tx = unsaved(timestamp=T0, originDeviceData={"ipAddress": "10.1.2.3"})
    ctx = EvaluationContext(tx)
    wanted = [key for instance in runner.active_instances() for key in plan.aggregates(instance, ctx)]
    assert {key[0] for key in wanted} == {"window", "distinct", "sent_before", "ip_country"}
    with django_assert_num_queries(1):
        ctx.prefetch(wanted)
    with django_assert_num_queries(0):
        for instance in runner.active_instances():
            if instance.template.id != "R-5":  # structuring reads the band's amounts when in band
                runner.execute(instance, ctx)


def test_a_key_without_a_value_reads_nothing(integrator_client, instances, django_assert_num_queries):
    tx = unsaved(originUserId=None, destinationUserId=None, originDeviceData=None)
    ctx = EvaluationContext(tx)
    with django_assert_num_queries(0):
        ctx.prefetch(
            [
                ("window", "originUser", 3600, ()),
                ("distinct", "destinationUser", 60),
                ("ip_country", "ORIGIN"),
            ]
        )
    assert ctx.window("originUser", 3600) is None
    assert ctx.distinct_counterparties("destinationUser", 60) is None
    assert ctx.ip_country("ORIGIN") is None
