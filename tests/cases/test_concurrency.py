"""Two analysts (or two workers) on the same case at the same moment: neither change is lost,
or the later one is told (409). Real row locks, so PostgreSQL only (issue 5)."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from cases import services
from cases.models import Alert, Case, StatusChange
from compliance.errors import ConflictError
from tests.cases.conftest import SYSTEM, make_case, make_transaction

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="needs PostgreSQL row locks",
    ),
]


def run_together(*calls):
    """Run the calls in threads (each its own connection) released at the same moment; answers
    what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_changes_from_the_same_version_one_wins_one_is_told():
    case = make_case()

    def change(status):
        return lambda: services.case_status_change(actor=SYSTEM, case=case, status=status, expected_version=1)

    results = run_together(change("IN_PROGRESS"), change("ON_HOLD"))
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    wins = [r for r in results if isinstance(r, Case)]
    assert len(conflicts) == 1, results
    assert len(wins) == 1, results
    case.refresh_from_db()
    assert case.version == 2
    assert case.status == wins[0].status


def test_two_changes_without_versions_are_both_kept():
    case = make_case()
    results = run_together(
        lambda: services.case_status_change(actor=SYSTEM, case=case, status="IN_PROGRESS"),
        lambda: services.case_assign(actor=SYSTEM, case=case, assignee=None),
        lambda: services.case_comment(actor=SYSTEM, case=case, body="Concurrent note"),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    case.refresh_from_db()
    assert case.status == "IN_PROGRESS"
    assert StatusChange.objects.filter(case=case, to_status="IN_PROGRESS").count() == 1
    assert case.comments.count() == 1


def test_two_workers_on_the_same_users_first_hits_make_one_case(seed_users, instance):
    rule = instance("R-1", parameters={"transactionAmountThreshold": {"PHP": 30000}}, isShadow=True)
    first, second = make_transaction(), make_transaction()
    hit = {"ruleInstanceId": str(rule.pk), "ruleId": "R-1", "versionId": rule.version_id, "action": "FLAG"}

    def open_alert(tx):
        return lambda: services.alert_open_from_rule_hit(actor=SYSTEM, tx=tx, hit=hit, direction="ORIGIN")

    results = run_together(open_alert(first), open_alert(second))
    assert not [r for r in results if isinstance(r, Exception)], results
    case = Case.objects.get()
    alert = Alert.objects.get()
    assert alert.case == case
    assert sorted(alert.transaction_ids) == sorted([first.transaction_id, second.transaction_id])


def test_two_requests_opening_a_case_for_the_same_user_one_is_a_409():
    from tests.cases.conftest import make_customer

    customer = make_customer()

    def create(case_id):
        fields = {"case_id": case_id, "entity_type": "USER", "customer": customer, "priority": "P3"}
        return lambda: services.case_create(actor=SYSTEM, fields=fields)

    results = run_together(create("C-RACE-1"), create("C-RACE-2"))
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    assert len(conflicts) == 1, results
    assert len([r for r in results if isinstance(r, Case)]) == 1, results
    assert "entityDetails.userId" in conflicts[0].errors
    assert Case.objects.filter(customer=customer).count() == 1
