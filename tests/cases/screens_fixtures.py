"""Fixtures of the analysts' screen tests (queue, case page, dashboard), on top of tests/cases/conftest:
a staff login per persona, and a case opened the way production opens one (a rule instance hits a
verified transaction; the outbox dispatch runs the real handler)."""

from __future__ import annotations

import pytest

from cases.models import Case
from tests.cases.conftest import dispatch_pending, make_transaction
from tests.transactions.conftest import ORIGIN_ID, make_instance

QUEUE = "/admin/cases/case/"
DASHBOARD = "/admin/cases/case/dashboard/"


def case_url(case, action: str = "") -> str:
    return f"/admin/cases/case/{case.pk}/" + (f"{action}/" if action else "change/")


@pytest.fixture
def login(client):
    """Log a persona in to the admin (personas are staff members, as the admin requires)."""

    def _login(user):
        user.is_staff = True
        user.save()
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def monitored_case(seed_users):
    """The seed transaction (PHP 35,000) suspended by an R-1 instance: the handler opens a case for
    the origin user with one alert holding the transaction and the rule's evidence."""
    rule = make_instance(
        "R-1",
        ruleNameAlias="Suspend PHP 30k",
        parameters={"transactionAmountThreshold": {"PHP": 30000}},
        action="SUSPEND",
        casePriority="P2",
    )
    tx = make_transaction()
    dispatch_pending()
    case = Case.objects.get(customer__external_ref=ORIGIN_ID)
    return {"case": case, "alert": case.alerts.get(), "tx": tx, "rule": rule}
