"""The analysts' transaction screens and the compliance admin's exchange rates, through the real
admin URLs, as each persona (issue 4)."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compliance.models import AuditTrail
from tests.transactions.conftest import SEED_EVENT, SEED_TRANSACTION, body
from transactions import money
from transactions.models import ExchangeRate, Transaction, TransactionEvent

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/transactions/transaction/"
EVENTS = "/admin/transactions/transactionevent/"
RATES = "/admin/transactions/exchangerate/"


@pytest.fixture
def login(client):
    """Log a persona in to the admin; personas are staff members as the admin requires."""

    def _login(user):
        user.is_staff = True
        user.save()
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def monitored(integrator_client, seed_users, instance):
    """The seed transaction suspended by an R-1 instance, seen by a shadow one, then made SUCCESSFUL."""
    rule = instance(
        "R-1",
        ruleNameAlias="Suspend PHP 30k",
        parameters={"transactionAmountThreshold": {"PHP": 30000}},
        action="SUSPEND",
    )
    shadow = instance(
        "R-1",
        ruleNameAlias="Trial: PHP 10k",
        parameters={"transactionAmountThreshold": {"PHP": 10000}},
        isShadow=True,
    )
    assert integrator_client.post("/api/transactions", SEED_TRANSACTION, format="json").status_code == 200
    assert integrator_client.post("/api/events/transaction", SEED_EVENT, format="json").status_code == 200
    tx = Transaction.objects.get(transaction_id=SEED_TRANSACTION["transactionId"])
    return {"tx": tx, "rule": rule, "shadow": shadow}


def change_url(tx):
    return reverse("admin:transactions_transaction_change", args=[tx.pk])


# --- the list ---------------------------------------------------------------------------------


def test_changelist_shows_the_decision_and_every_filter_renders(login, analyst, monitored):
    client = login(analyst)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert SEED_TRANSACTION["transactionId"] in html
    assert "cbo-decision-SUSPEND" in html
    assert SEED_TRANSACTION["originUserId"] in html
    assert "Danny Anderson" in html  # the origin user's name beside the reference
    assert "35,000 PHP" in html
    assert page.context["cl"].result_list[0].acting_hits == 1  # the shadow hit decided nothing
    assert "Add transaction" not in html
    filters = [{"decision": value} for value in ("ALLOW", "FLAG", "SUSPEND", "BLOCK")]
    filters += [{"type": "TRANSFER"}, {"type": "REFUND"}, {"state": "SUCCESSFUL"}, {"state": "CREATED"}]
    filters += [{"method": "WALLET"}, {"method": "CARD"}, {"timestamp__year": "2024"}]
    filters += [{"q": SEED_TRANSACTION["transactionId"]}, {"q": SEED_TRANSACTION["destinationUserId"]}]
    for params in filters:
        assert client.get(CHANGELIST, params).status_code == 200, params
    assert (
        SEED_TRANSACTION["transactionId"] in client.get(CHANGELIST, {"decision": "SUSPEND"}).content.decode()
    )
    for params in ({"decision": "ALLOW"}, {"state": "CREATED"}, {"method": "CARD"}, {"q": "nope"}):
        assert client.get(CHANGELIST, params).context["cl"].result_count == 0, params


def test_changelist_takes_the_same_queries_for_more_rows(
    login, analyst, integrator_client, seed_users, instance
):
    instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 1}})
    client = login(analyst)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGELIST).status_code == 200
        return len(captured)

    integrator_client.post("/api/transactions", body(), format="json")
    one = queries()
    for _ in range(4):
        integrator_client.post("/api/transactions", body(), format="json")
    assert queries() == one


# --- the transaction page ------------------------------------------------------------------


def test_change_page_shows_the_evidence_the_history_and_the_hits(login, analyst, monitored):
    page = login(analyst).get(change_url(monitored["tx"]))
    assert page.status_code == 200
    html = page.content.decode()
    rule, shadow = monitored["rule"], monitored["shadow"]
    # Per executed rule: alias, template, action, hit, shadow, version, risk level, detail.data.
    assert "Suspend PHP 30k" in html
    assert "Trial: PHP 10k" in html
    assert "R-1 — Transaction amount too high" in html
    assert f"{rule.pk}, version {rule.pk}.1" in html
    assert f"{shadow.pk}, version {shadow.pk}.1" in html
    assert "cbo-decision-SUSPEND" in html
    assert "(shadow: recorded, never acting)" in html
    assert '<pre class="cbo-json"' in html
    assert "&quot;listAmount&quot;: {" in html  # detail.data, pretty-printed and escaped
    assert "&quot;amount&quot;: 30000" in html
    level = monitored["tx"].executed_rules[0]["executedRules"][0]["riskLevel"]
    assert f"<tr><th>Risk level</th><td>{level}" in html
    # The nested documents, the amounts with their base value, the users.
    assert "35,000 PHP" in html
    assert "595 USD" in html  # 35000 PHP at 0.017
    assert "xxx9f915d04xxxx" in html
    # The state history (events inline) and the hit rows.
    events = page.context["inline_admin_formsets"][0]
    assert [form.instance.event_id for form in events.formset.forms] == [SEED_EVENT["eventId"]]
    assert "Successful" in html  # the state, as a label
    hits = page.context["inline_admin_formsets"][1]
    assert {form.instance.rule_instance_id for form in hits.formset.forms} == {str(rule.pk), str(shadow.pk)}
    # Read-only: no save buttons, no inline add rows.
    assert 'name="_save"' not in html
    for inline in (events, hits):
        assert not inline.has_add_permission
        assert not inline.has_delete_permission


def test_events_are_listed_oldest_first(login, analyst, integrator_client, seed_users):
    data = body()
    integrator_client.post("/api/transactions", data, format="json")
    # "late" arrives first, "early" second (same state: an attributes-only event).
    for event_id, offset in (("late", 3000), ("early", 2000)):
        event = {
            **SEED_EVENT,
            "eventId": event_id,
            "transactionId": data["transactionId"],
            "timestamp": SEED_TRANSACTION["timestamp"] + offset,
        }
        assert integrator_client.post("/api/events/transaction", event, format="json").status_code == 200
    tx = Transaction.objects.get(transaction_id=data["transactionId"])
    page = login(analyst).get(change_url(tx))
    events = page.context["inline_admin_formsets"][0]
    assert [form.instance.event_id for form in events.formset.forms] == ["early", "late"]


def test_transactions_cannot_be_added_changed_or_deleted(login, compliance_admin, monitored, admin_user):
    tx = monitored["tx"]
    for user in (compliance_admin, admin_user):
        client = login(user)
        assert client.get(f"{CHANGELIST}add/").status_code == 403
        assert client.post(change_url(tx), {"reference": "changed"}).status_code == 403
        delete = reverse("admin:transactions_transaction_delete", args=[tx.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.post(f"{EVENTS}add/", {}).status_code == 403
    tx.refresh_from_db()
    assert tx.reference == SEED_TRANSACTION["reference"]
    assert Transaction.objects.count() == 1


def test_event_screens_are_read_only_and_show_the_verdict_after(login, analyst, monitored):
    client = login(analyst)
    page = client.get(EVENTS)
    assert page.status_code == 200
    assert SEED_EVENT["eventId"] in page.content.decode()
    for params in ({"state": "SUCCESSFUL"}, {"decision": "SUSPEND"}, {"q": SEED_EVENT["eventId"]}):
        assert client.get(EVENTS, params).status_code == 200
    event = TransactionEvent.objects.get()
    detail = client.get(reverse("admin:transactions_transactionevent_change", args=[event.pk]))
    html = detail.content.decode()
    assert "Suspend PHP 30k" in html
    assert "&quot;transactionState&quot;: &quot;SUCCESSFUL&quot;" in html
    assert 'name="_save"' not in html


def test_outsiders_see_nothing(login, outsider, monitored):
    client = login(outsider)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(monitored["tx"])).status_code == 403
    assert client.get(EVENTS).status_code == 403
    assert client.get(RATES).status_code == 403


# --- exchange rates -------------------------------------------------------------------------


def test_compliance_admin_edits_a_rate_and_conversions_use_it_at_once(login, compliance_admin):
    rate = ExchangeRate.objects.get(currency="EUR")
    assert money.to_base(100, "EUR") == 110  # the conftest's rate, loaded in this process
    client = login(compliance_admin)
    assert client.get(RATES).status_code == 200
    url = reverse("admin:transactions_exchangerate_change", args=[rate.pk])
    response = client.post(url, {"currency": "EUR", "rate_to_base": "1.2"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    rate.refresh_from_db()
    assert str(rate.rate_to_base) == "1.2000000000"
    assert money.to_base(100, "EUR") == 120
    audit = AuditTrail.objects.filter(object_type="transactions.exchangerate").latest("id")
    assert (audit.action, Decimal(str(audit.after["rate_to_base"]))) == ("update", Decimal("1.2"))

    added = client.post(f"{RATES}add/", {"currency": "isk", "rate_to_base": "0.0073"})
    assert added.status_code == 302
    assert money.to_base(1000, "ISK") == Decimal("7.3")  # added lower-case, stored as ISK


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"currency": "XXX", "rate_to_base": "1"}, "currency"),
        ({"currency": "USD", "rate_to_base": "1"}, "currency"),  # the base currency
        ({"currency": "EUR", "rate_to_base": "1"}, "currency"),  # exists already
        ({"currency": "JPY", "rate_to_base": "0"}, "__all__"),  # the positive-rate constraint
    ],
)
def test_bad_rates_are_refused(login, compliance_admin, data, field):
    response = login(compliance_admin).post(f"{RATES}add/", data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors, response.context["adminform"].form.errors


def test_analysts_read_rates_but_do_not_change_them(login, analyst):
    rate = ExchangeRate.objects.get(currency="EUR")
    client = login(analyst)
    assert client.get(RATES).status_code == 200
    url = reverse("admin:transactions_exchangerate_change", args=[rate.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"currency": "EUR", "rate_to_base": "9"}).status_code == 403
    assert client.post(f"{RATES}add/", {"currency": "CHF", "rate_to_base": "1"}).status_code == 403
    rate.refresh_from_db()
    assert str(rate.rate_to_base) == "1.1000000000"


def test_default_rates_are_installed_and_kept_apart_from_the_institutions(login, analyst):
    """Migration 0002: approximate rates for the major currencies; an institution's own rows stay."""
    defaults = importlib.import_module("transactions.migrations.0002_default_exchange_rates")
    assert {"EUR", "GBP", "CHF", "JPY", "CNY", "INR", "PHP", "KRW"} <= set(defaults.USD_PER_UNIT)
    installed = dict(ExchangeRate.objects.values_list("currency", "rate_to_base"))
    assert installed["JPY"] == Decimal("0.0067")
    assert installed["EUR"] == Decimal("1.1")  # the test rate, written over the default
    assert "USD" not in installed  # the base currency is always 1
    assert "JPY" in login(analyst).get(RATES).content.decode()
    # Another base currency: the same values converted through USD, USD included.
    in_eur = defaults.default_rates("EUR")
    assert in_eur["USD"] == (Decimal(1) / Decimal("1.08")).quantize(defaults.QUANTUM)
    assert "EUR" not in in_eur
    assert defaults.default_rates("XAU") == {}
    # Reversing removes the defaults still in place, not a rate someone changed.
    defaults.remove_rates(django_apps, None)
    left = set(ExchangeRate.objects.values_list("currency", flat=True))
    assert "JPY" not in left
    assert {"EUR", "PHP", "GBP"} <= left


def test_demo_book_loads_once_and_renders(login, analyst):
    """setup_demo's transactions: decisions and hits to look at, and a second run adds nothing."""
    from io import StringIO

    from transactions import demo
    from users import demo as users_demo

    out = StringIO()
    users_demo.load(out)
    demo.load(out)
    book = Transaction.objects.filter(transaction_id__startswith=demo.PREFIX)
    assert book.count() >= 45
    assert {"ALLOW", "FLAG", "SUSPEND", "BLOCK"} <= set(book.values_list("status", flat=True))
    assert TransactionEvent.objects.exists()
    counts = (book.count(), TransactionEvent.objects.count())
    demo.load(out)
    assert (book.count(), TransactionEvent.objects.count()) == counts
    assert "Demo transactions exist already." in out.getvalue()
    client = login(analyst)
    assert client.get(CHANGELIST).status_code == 200
    for tx in book.exclude(status="ALLOW"):
        assert client.get(change_url(tx)).status_code == 200
