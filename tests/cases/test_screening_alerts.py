"""Screening hits open SANCTIONS alerts and cases; reviews close, comment or reopen them (issue 6,
points 6-7, cases side).

Real watchlist entries (built through the real importer, `tests.users.screening.lists`), real
`ScreeningRisk` rows, the events published inside `transaction.atomic()` and dispatched here with
the real handlers (`cases.handlers`)."""

from __future__ import annotations

import pytest
from django.db import transaction

from cases.models import Alert, Case, CaseStatus, Comment, StatusChange
from cases.services import alert_status_change, priority_for_source_kind
from compliance import events
from compliance.audit import Actor
from compliance.models import OutboxEvent
from compliance.reference import models as ref
from tests.cases import screens_fixtures
from tests.cases.conftest import SYSTEM, make_alert, make_case, make_customer, published
from tests.cases.screens_fixtures import case_url
from tests.users.screening.lists import entity, load
from users.models import ScreeningRisk, WatchlistEntry

pytestmark = pytest.mark.django_db

login = screens_fixtures.login


@pytest.fixture
def entries():
    """Two sanctioned people and a company on one list, a politician on a PEP list."""
    run = load(
        [
            entity("p-1", "Ivan PETROV", birth_date="1970-01-01", programme="RUSSIA-EO14024"),
            entity("p-2", "John DOE", programme="SDGT"),
            entity("o-1", "Acme Trading LLC", schema="Company"),
        ]
    )
    pep_run = load([entity("pep-1", "John DOE", schema="Person")], code="pep-test", kind="PEP")
    by_id = {e.external_id: e for e in WatchlistEntry.objects.all()}
    return {"run": run, "pep_run": pep_run, **by_id}


def risk(customer, entry, *, score=93, ongoing=False) -> ScreeningRisk:
    return ScreeningRisk.objects.create(
        customer=customer,
        screening_risk_type=ref.ScreeningRiskType.objects.get(pk=2 if entry.source.kind == "PEP" else 1),
        identifier=entry.external_id,
        score=score,
        type=entry.source.name,
        full_name=entry.name,
        watchlist_entry=entry,
        md5=entry.md5,
        ongoing=ongoing,
    )


def found_payload(row: ScreeningRisk, *, import_run=None, searched="John Doe") -> dict:
    entry = row.watchlist_entry
    return {
        "userId": row.customer.external_ref,
        "customerId": row.customer.pk,
        "screeningRiskId": row.pk,
        "entryId": entry.pk,
        "externalId": entry.external_id,
        "sourceCode": entry.source.code,
        "sourceKind": entry.source.kind,
        "entitySchema": entry.schema,
        "searchedName": searched,
        "matchedName": entry.name,
        "score": row.score,
        "explanation": f"'{searched}' ~ '{entry.name}' (tokens john, doe)",
        "isOngoingScreeningHit": row.ongoing,
        "importRunId": import_run,
    }


def deliver(name: str, payload: dict) -> OutboxEvent:
    """Publish as the users app does (inside the write's transaction) and dispatch that event
    here with the real handlers."""
    with transaction.atomic():
        event = events.publish(name, payload, aggregate_type="users.screeningrisk", aggregate_id="1")
    assert events.dispatch(event.pk) == {}
    return event


def found(row, **kw) -> OutboxEvent:
    return deliver("screening.hit_found", found_payload(row, **kw))


def reviewed(row, status: str, **extra) -> OutboxEvent:
    payload = {
        "userId": row.customer.external_ref,
        "customerId": row.customer.pk,
        "screeningRiskId": row.pk,
        "entryId": row.watchlist_entry_id,
        "status": status,
        "isOngoingScreeningHit": row.ongoing,
        **extra,
    }
    return deliver("screening.hit_reviewed", payload)


def test_priority_by_source_kind():
    assert priority_for_source_kind("SANCTIONS") == "P1"
    assert priority_for_source_kind("PEP") == "P2"
    for kind in ("WATCHLIST", "ADVERSE_MEDIA", "INTERNAL", ""):
        assert priority_for_source_kind(kind) == "P3"


def test_a_hit_opens_a_screening_case_and_a_sanctions_alert(entries, integrator_client):
    customer = make_customer("scr-1", date_birth="1980-05-04")
    row = risk(customer, entries["p-2"])
    found(row)

    case = Case.objects.get(customer=customer)
    assert (case.source, case.status, case.priority) == ("SCREENING", "OPEN", "P1")
    assert case.creation_reason["reasons"] == ["Screening hit"]
    alert = Alert.objects.get(case=case)
    assert (alert.entity_type, alert.priority, alert.status) == ("SANCTIONS", "P1", "OPEN")
    assert alert.rule_nature == "SCREENING"
    assert alert.rule_instance_ref == "screening:sdn-test"
    details = alert.screening_details
    assert details["isOngoingScreeningHit"] is False
    assert details["source"] == {"code": "sdn-test", "name": "SDN-TEST", "kind": "SANCTIONS"}
    assert details["sanctionsDetails"] == [
        {
            "name": "John Doe",
            "searchId": str(row.pk),
            "entityType": "CONSUMER_NAME",
            "sanctionHitIds": ["p-2"],
            "hitContext": {
                "entity": "USER",
                "entityType": "CONSUMER_NAME",
                "userId": "scr-1",
                "yearOfBirth": 1980,
                "searchTerm": "John Doe",
            },
            "isRuleHit": False,
        }
    ]
    [hit] = details["hits"]
    assert hit["matchedName"] == "John DOE"
    assert hit["list"] == "SDN-TEST"
    assert (hit["score"], hit["status"], hit["raisedBy"]) == (93, "PENDING", [None])
    assert published("case.opened")[-1]["source"] == "SCREENING"
    assert published("alert.opened")[-1]["alertId"] == alert.alert_id

    # The alert API answers the details under entityDetails.
    answer = integrator_client.get(f"/api/management/alerts/{alert.alert_id}").json()
    assert answer["entityDetails"]["type"] == "SANCTIONS"
    assert answer["entityDetails"]["screeningDetails"]["sanctionsDetails"][0]["sanctionHitIds"] == ["p-2"]
    assert answer["entityDetails"]["screeningDetails"]["isOngoingScreeningHit"] is False
    assert answer["ruleDetails"]["nature"] == "SCREENING"


def test_an_organisation_hit_says_business_name(entries):
    company = make_customer("scr-org", person=False)
    found(risk(company, entries["o-1"]), searched="ACME Trading")
    details = Alert.objects.get(case__customer=company).screening_details
    assert details["sanctionsDetails"][0]["entityType"] == "BUSINESS_NAME"
    assert details["sanctionsDetails"][0]["hitContext"]["yearOfBirth"] is None


def test_redelivered_events_add_nothing(entries):
    customer = make_customer("scr-2")
    row = risk(customer, entries["p-2"])
    found(row)
    alert = Alert.objects.get()
    version, alerts_opened = alert.version, len(published("alert.opened"))
    found(row)  # the same hit again (a redelivery: a new outbox row with the same payload)
    found(row)
    alert.refresh_from_db()
    assert alert.version == version
    assert len(alert.screening_details["hits"]) == 1
    assert Alert.objects.count() == 1
    assert Case.objects.count() == 1
    assert len(published("alert.opened")) == alerts_opened


def test_hits_group_by_source_in_the_customers_open_case(entries):
    customer = make_customer("scr-3")
    rule_case = make_case(customer=customer, priority="P4", source="RULE")
    first, second = risk(customer, entries["p-2"]), risk(customer, entries["p-1"], score=71)
    pep = risk(customer, entries["pep-1"])
    found(first)
    found(second, searched="John Doe")
    found(pep)

    assert Case.objects.count() == 1  # the customer's open case, whatever opened it
    rule_case.refresh_from_db()
    assert rule_case.source == "RULE"
    assert rule_case.priority == "P1"  # the highest of its alerts
    sanctions, politicians = Alert.objects.filter(case=rule_case).order_by("id")
    assert [h["screeningRiskId"] for h in sanctions.screening_details["hits"]] == [
        str(first.pk),
        str(second.pk),
    ]
    assert len(sanctions.screening_details["sanctionsDetails"]) == 2
    assert sanctions.priority == "P1"
    assert politicians.priority == "P2"
    assert politicians.screening_details["source"]["kind"] == "PEP"
    assert politicians.screening_details["hits"][0]["list"] == "PEP-TEST"


def test_dismissing_every_hit_closes_the_alert_as_false_positive(entries):
    customer = make_customer("scr-4")
    first, second = risk(customer, entries["p-2"]), risk(customer, entries["p-1"])
    found(first)
    found(second)
    alert = Alert.objects.get()

    reviewed(first, "DISMISSED", reviewedBy="ana@example.test")
    alert.refresh_from_db()
    assert alert.status == "OPEN"  # one hit still pending
    assert [h["status"] for h in alert.screening_details["hits"]] == ["DISMISSED", "PENDING"]

    reviewed(second, "DISMISSED")
    alert.refresh_from_db()
    assert alert.status == "CLOSED"
    change = StatusChange.objects.filter(alert=alert).last()
    assert (change.to_status, change.reason) == ("CLOSED", "False positive")
    assert published("alert.closed")[-1]["reasons"] == ["False positive"]
    assert alert.case.status == "OPEN"  # closing the case stays the analyst's decision

    version = alert.version
    reviewed(second, "DISMISSED")  # redelivered
    alert.refresh_from_db()
    assert alert.version == version


def test_a_confirmation_comments_the_alert_naming_who_confirmed(entries):
    customer = make_customer("scr-5")
    row = risk(customer, entries["p-2"])
    found(row)
    reviewed(row, "CONFIRMED", reviewedBy="ana@example.test")
    alert = Alert.objects.get()
    comment = Comment.objects.get(alert=alert)
    assert "confirmed by ana@example.test" in comment.body
    assert "John DOE" in comment.body
    assert alert.status == "OPEN"
    assert alert.screening_details["hits"][0]["status"] == "CONFIRMED"
    assert alert.screening_details["hits"][0]["reviewedBy"] == "ana@example.test"


def test_without_a_reviewer_the_comment_names_who_the_row_says_reviewed_it(entries):
    customer = make_customer("scr-6")
    row = risk(customer, entries["p-2"])
    found(row)
    row.match = {"review": {"status": "CONFIRMED", "comment": "", "by": "carol"}}
    row.save()
    reviewed(row, "CONFIRMED")
    assert "confirmed by carol:" in Comment.objects.get().body


def test_else_the_comment_names_the_audited_author_of_the_customers_last_change(entries, analyst):
    from compliance.audit import audit_log
    from compliance.models import AuditTrail

    customer = make_customer("scr-6b")
    row = risk(customer, entries["p-2"])
    found(row)
    with transaction.atomic():
        audit_log(
            actor=Actor(user=analyst),
            action=AuditTrail.Action.UPDATE,
            instance=customer,
            after={"screeningRisks": [{"confirmed": True}]},
        )
    reviewed(row, "CONFIRMED")
    assert f"confirmed by {analyst.username}:" in Comment.objects.get().body


def test_a_review_undone_reopens_the_alert_its_dismissal_closed(entries):
    customer = make_customer("scr-7")
    row = risk(customer, entries["p-2"])
    found(row)
    reviewed(row, "DISMISSED")
    alert = Alert.objects.get()
    assert alert.status == "CLOSED"
    reviewed(row, "PENDING")
    alert.refresh_from_db()
    assert alert.status == "REOPENED"
    assert alert.screening_details["hits"][0]["status"] == "PENDING"


def test_pending_does_not_reopen_an_alert_an_analyst_closed(entries):
    customer = make_customer("scr-8")
    row = risk(customer, entries["p-2"])
    found(row)
    alert = Alert.objects.get()
    alert_status_change(actor=SYSTEM, alert=alert, status="CLOSED", reason="Investigation completed")
    reviewed(row, "PENDING")
    alert.refresh_from_db()
    assert alert.status == "CLOSED"


def test_ongoing_hits_are_flagged_and_a_re_raise_after_closing_opens_a_new_alert(entries):
    customer = make_customer("scr-9")
    row = risk(customer, entries["p-2"], ongoing=True)
    found(row, import_run=entries["run"].pk)
    alert = Alert.objects.get()
    assert alert.screening_details["isOngoingScreeningHit"] is True
    assert alert.screening_details["hits"][0]["isOngoingScreeningHit"] is True

    reviewed(row, "DISMISSED")
    found(row, import_run=entries["run"].pk)  # redelivered: nothing
    assert Alert.objects.count() == 1
    found(row)  # customer re-screening, same entry content: nothing
    assert Alert.objects.count() == 1
    later = load([entity("p-2", "John DOE", programme="SDGT", birth_date="1971")])
    row.md5 = WatchlistEntry.objects.get(external_id="p-2").md5
    assert row.md5 != entries["p-2"].md5
    row.save()
    found(row, import_run=later.pk)  # the entry changed in a later import: a new alert
    assert Alert.objects.count() == 2
    newest = Alert.objects.order_by("-id").first()
    assert newest.status == "OPEN"
    assert newest.screening_details["hits"][0]["raisedBy"] == [later.pk]


def test_a_re_raise_while_open_refreshes_the_hit(entries):
    customer = make_customer("scr-10")
    row = risk(customer, entries["p-2"])
    found(row)
    row.score = 99
    row.md5 = "0" * 32  # the entry changed
    row.save()
    found(row, import_run=entries["run"].pk)
    [hit] = Alert.objects.get().screening_details["hits"]
    assert hit["score"] == 99
    assert hit["raisedBy"] == [None, entries["run"].pk]


def test_a_customer_that_is_gone_is_skipped(entries):
    customer = make_customer("scr-11")
    payload = found_payload(risk(customer, entries["p-2"]))
    payload["customerId"] = 999999
    deliver("screening.hit_found", payload)
    assert not Alert.objects.exists()


def test_a_closed_case_gets_a_new_one(entries):
    customer = make_customer("scr-12")
    old = make_case(customer=customer)
    make_alert(old)
    from cases.services import case_status_change

    case_status_change(actor=SYSTEM, case=old, status="CLOSED", reason="Investigation completed")
    found(risk(customer, entries["p-2"]))
    assert (
        Case.objects.filter(customer=customer).exclude(status=CaseStatus.CLOSED).get().source == "SCREENING"
    )


def test_the_case_page_lists_the_hits(entries, login, analyst):
    customer = make_customer("scr-13")
    found(risk(customer, entries["p-2"]))
    case = Case.objects.get(customer=customer)
    html = login(analyst).get(case_url(case)).content.decode()
    assert "cbo-screening-hits" in html
    assert "John DOE" in html
    assert "SDN-TEST" in html
    assert "tokens john, doe" in html
