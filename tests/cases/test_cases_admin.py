"""Issue 5, point 7: the analysts' case screens through the real admin URLs, as each persona: the
queue (tabs, filters, order, a fixed number of queries, bulk actions), the case page (customer and
risk, alerts with the rule's evidence, transactions, timeline, files) and its actions, which go
through cases.services (refusals shown with the service's status)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Alert, Case, CaseEntityType, CaseStatus, Comment, File, StatusChange
from compliance.audit import Actor
from compliance.models import AuditTrail
from tests.cases import screens_fixtures
from tests.cases.conftest import make_alert, make_case, make_customer
from tests.cases.screens_fixtures import QUEUE, case_url

pytestmark = pytest.mark.django_db

login = screens_fixtures.login
monitored_case = screens_fixtures.monitored_case


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def listed(response) -> list[str]:
    assert response.status_code == 200, response.content[:2000]
    return [case.case_id for case in response.context["cl"].result_list]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def payment_case(n: int, **fields):
    return make_case(
        entity_type=CaseEntityType.PAYMENT,
        payment_method="IBAN",
        payment_identifier=f"IBAN:CY{n:020d}",
        **fields,
    )


# --- the queue ------------------------------------------------------------------------------------


def test_queue_tabs_mine_unassigned_all(login, analyst, approver):
    mine = make_case(case_id="C-MINE")
    theirs = make_case(case_id="C-THEIRS")
    nobody = make_case(case_id="C-NOBODY")
    actor = Actor.system_actor("tests")
    from cases import services

    services.case_assign(actor=actor, case=mine, assignee=analyst)
    services.case_assign(actor=actor, case=theirs, assignee=approver)
    client = login(analyst)

    assert set(listed(client.get(QUEUE, {"tab": "mine"}))) == {"C-MINE"}
    assert set(listed(client.get(QUEUE, {"tab": "unassigned"}))) == {"C-NOBODY"}
    page = client.get(QUEUE)
    assert set(listed(page)) == {"C-MINE", "C-THEIRS", "C-NOBODY"}
    html = page.content.decode()
    assert 'class="cbo-tabs"' in html
    assert "?tab=mine" in html
    assert "?tab=unassigned" in html
    assert "Dashboard" in html
    assert nobody.pk


def test_queue_filters_status_priority_source_and_age(login, analyst):
    now = timezone.now()
    make_case(case_id="C-NEW", priority="P1", source="RULE", created_at=now - timedelta(hours=2))
    make_case(case_id="C-WEEK", priority="P2", source="SCREENING", created_at=now - timedelta(days=3))
    make_case(case_id="C-MONTH", priority="P3", source="MANUAL", created_at=now - timedelta(days=10))
    old = make_case(case_id="C-OLD", priority="P4", source="REVIEW", created_at=now - timedelta(days=40))
    closed = make_case(case_id="C-CLOSED", priority="P1", created_at=now - timedelta(days=2))
    from cases import services

    services.case_status_change(
        actor=Actor.system_actor("tests"), case=closed, status="CLOSED", reason="False positive"
    )
    client = login(analyst)

    assert set(listed(client.get(QUEUE))) == {"C-NEW", "C-WEEK", "C-MONTH", "C-OLD"}  # open work
    assert listed(client.get(QUEUE, {"status": "CLOSED"})) == ["C-CLOSED"]
    assert len(listed(client.get(QUEUE, {"status": "any"}))) == 5
    assert listed(client.get(QUEUE, {"priority": "P1"})) == ["C-NEW"]
    assert listed(client.get(QUEUE, {"priority": "P1", "status": "any"})) == ["C-CLOSED", "C-NEW"]
    assert listed(client.get(QUEUE, {"source": "SCREENING"})) == ["C-WEEK"]
    assert listed(client.get(QUEUE, {"age": "lt1d"})) == ["C-NEW"]
    assert listed(client.get(QUEUE, {"age": "1-7d"})) == ["C-WEEK"]
    assert listed(client.get(QUEUE, {"age": "7-30d"})) == ["C-MONTH"]
    assert listed(client.get(QUEUE, {"age": "gt30d"})) == ["C-OLD"]
    assert listed(client.get(QUEUE, {"q": "C-OLD"})) == ["C-OLD"]
    assert listed(client.get(QUEUE, {"q": old.customer.external_ref})) == ["C-OLD"]
    # Unknown values filter nothing out rather than failing.
    assert client.get(QUEUE, {"priority": "P9"}).status_code == 200
    assert client.get(QUEUE, {"status": "NOPE"}).status_code == 200


def test_queue_is_sorted_by_priority_then_oldest_first(login, analyst):
    now = timezone.now()
    make_case(case_id="C-P3-NEW", priority="P3", created_at=now - timedelta(days=1))
    make_case(case_id="C-P1-NEW", priority="P1", created_at=now - timedelta(hours=1))
    make_case(case_id="C-P3-OLD", priority="P3", created_at=now - timedelta(days=9))
    make_case(case_id="C-P1-OLD", priority="P1", created_at=now - timedelta(days=5))
    make_case(case_id="C-P2", priority="P2", created_at=now - timedelta(days=2))

    assert listed(login(analyst).get(QUEUE)) == ["C-P1-OLD", "C-P1-NEW", "C-P2", "C-P3-OLD", "C-P3-NEW"]


def test_queue_columns_customer_alert_counts_age_and_assignee(login, analyst):
    customer = make_customer("JD-77", first_name="Jane", last_name="Roe")
    case = make_case(case_id="C-COLS", customer=customer, priority="P2")
    make_alert(case, priority="P2")
    closing = make_alert(case, priority="P2")
    from cases import services

    services.alert_status_change(
        actor=Actor.system_actor("tests"), alert=closing, status="CLOSED", reason="False positive"
    )
    services.case_assign(actor=Actor.system_actor("tests"), case=case, assignee=analyst)
    page = login(analyst).get(QUEUE)
    html = page.content.decode()
    row = page.context["cl"].result_list[0]
    assert (row.alerts_open, row.alerts_total) == (1, 2)
    assert "1 / 2" in html
    assert "Jane Roe" in html
    assert "JD-77" in html
    assert f"/admin/users/customer/{customer.pk}/change/" in html
    assert "cbo-priority-P2" in html
    assert "0 min" in html
    assert ">analyst<" in html


def _queue_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE, params)
    assert response.status_code == 200
    return len(queries)


def test_queue_costs_the_same_queries_for_5_and_50_rows(login, analyst, django_assert_max_num_queries):
    client = login(analyst)
    for n in range(5):
        case = payment_case(n, priority="P2")
        make_alert(case)
    with django_assert_max_num_queries(8):
        assert len(listed(client.get(QUEUE))) == 5
    five = _queue_queries(client)
    for n in range(5, 50):
        case = payment_case(n, priority="P3")
        make_alert(case)
        make_alert(case)
    with django_assert_max_num_queries(8):
        assert len(listed(client.get(QUEUE))) == 50
    assert _queue_queries(client) == five
    assert _queue_queries(client, tab="mine", priority="P3", age="lt1d") <= five


def test_bulk_assign_to_me_and_to_someone(login, analyst, approver):
    cases = [make_case(case_id=f"C-B{n}") for n in range(3)]
    client = login(analyst)
    ids = [str(case.pk) for case in cases]

    done = client.post(QUEUE, {"action": "assign_to_me", "_selected_action": ids[:2]}, follow=True)
    assert "2 case(s) assigned to you." in messages_of(done)
    assert set(Case.objects.filter(assignee=analyst).values_list("case_id", flat=True)) == {"C-B0", "C-B1"}

    form = client.post(QUEUE, {"action": "assign_to_someone", "_selected_action": ids})
    assert form.status_code == 200
    assert "Assign cases" in form.content.decode()
    assert "C-B2" in form.content.decode()
    refused = client.post(QUEUE, {"action": "assign_to_someone", "_selected_action": ids, "apply": "1"})
    assert refused.status_code == 400  # no assignee chosen
    done = client.post(
        QUEUE,
        {"action": "assign_to_someone", "_selected_action": ids, "apply": "1", "assignee": approver.pk},
        follow=True,
    )
    assert "3 case(s) assigned to approver." in messages_of(done)
    assert Case.objects.filter(assignee=approver).count() == 3
    assert AuditTrail.objects.filter(object_type="cases.case", actor_label="analyst").count() == 5


def test_bulk_close_with_a_reason_closes_the_cases_and_their_alerts(login, analyst):
    cases = [make_case(case_id=f"C-F{n}") for n in range(2)]
    alert = make_alert(cases[0])
    keep = make_case(case_id="C-KEEP")
    client = login(analyst)
    ids = [str(case.pk) for case in cases]

    form = client.post(QUEUE, {"action": "close_cases", "_selected_action": ids})
    assert form.status_code == 200
    assert 'value="False positive" selected' in form.content.decode()
    refused = client.post(
        QUEUE, {"action": "close_cases", "_selected_action": ids, "apply": "1", "reason": "Other"}
    )
    assert refused.status_code == 400  # shown again, the service's refusal beside the field
    assert refused.context["form"].errors["other_reason"] == ["Required when the reason is Other."]
    assert any("otherReason" in m for m in messages_of(refused))
    assert not Case.objects.filter(status=CaseStatus.CLOSED).exists()

    done = client.post(
        QUEUE,
        {
            "action": "close_cases",
            "_selected_action": ids,
            "apply": "1",
            "reason": "False positive",
            "comment": "Known counterparty",
        },
        follow=True,
    )
    assert "2 case(s) closed." in messages_of(done)
    assert set(Case.objects.filter(status=CaseStatus.CLOSED).values_list("case_id", flat=True)) == {
        "C-F0",
        "C-F1",
    }
    alert.refresh_from_db()
    assert alert.status == CaseStatus.CLOSED
    change = StatusChange.objects.get(case=cases[0], to_status="CLOSED")
    assert (change.reason, change.comment, change.actor) == ("False positive", "Known counterparty", analyst)
    keep.refresh_from_db()
    assert keep.status == CaseStatus.OPEN


def test_bulk_close_as_sar_needs_an_approver(login, analyst):
    case = make_case(case_id="C-SAR-BULK")
    done = login(analyst).post(
        QUEUE,
        {
            "action": "close_cases",
            "_selected_action": [case.pk],
            "apply": "1",
            "reason": "Suspicious activity reported (SAR)",
        },
    )
    assert done.status_code == 403
    assert any("approver" in m for m in messages_of(done))
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


# --- the case page ---------------------------------------------------------------------------------


def test_case_page_shows_customer_risk_alerts_evidence_transactions_and_timeline(
    login, analyst, monitored_case
):
    case, alert, tx = monitored_case["case"], monitored_case["alert"], monitored_case["tx"]
    page = login(analyst).get(case_url(case))
    assert page.status_code == 200
    html = page.content.decode()
    # Header and customer summary with the customer file's own risk breakdown.
    assert case.case_id in html
    assert 'data-status="OPEN"' in html
    assert "cbo-priority-P2" in html
    assert "Danny Anderson" in html
    assert case.customer.external_ref in html
    assert "cbo-breakdown" in html
    assert "KYC Risks" in html
    # The alert, its rule and what the rule compared on the transaction.
    assert alert.alert_id in html
    assert "Suspend PHP 30k" in html
    assert f"/admin/rules/ruleinstance/{monitored_case['rule'].pk}/change/" in html
    assert "hit recorded: SUSPEND" in html
    assert "Compared (detail.data)" in html
    assert "30000" in html
    # The transaction involved, with its counterparties and decision, linked to its page.
    assert f"/admin/transactions/transaction/{tx.pk}/change/" in html
    assert "35,000 PHP" in html
    assert "Alexandra Trujillo" in html
    assert "cbo-decision-SUSPEND" in html
    # The timeline: the case and the alert opened by the rule hit.
    assert html.count("opened (OPEN)") == 2
    assert "system:rule hits" in html


def test_case_page_query_count_does_not_grow_with_the_timeline(login, analyst, monitored_case):
    from cases import services

    case, client = monitored_case["case"], login(analyst)
    with CaptureQueriesContext(connection) as before:
        assert client.get(case_url(case)).status_code == 200
    for n in range(5):
        services.case_comment(actor=Actor(user=analyst), case=case, body=f"note {n}")
        services.case_assign(actor=Actor(user=analyst), case=case, assignee=analyst if n % 2 else None)
    with CaptureQueriesContext(connection) as after:
        assert client.get(case_url(case)).status_code == 200
    assert len(after) == len(before)


def test_assign_to_me_and_to_someone_from_the_case_page(login, analyst, approver, monitored_case):
    case, client = monitored_case["case"], login(analyst)

    done = client.post(case_url(case, "assign"), {"version": case.version, "me": "1"}, follow=True)
    assert "Case assigned to you." in messages_of(done)
    case.refresh_from_db()
    assert case.assignee == analyst
    assert case.version == 2

    done = client.post(
        case_url(case, "assign"), {"version": case.version, "assignee": approver.pk}, follow=True
    )
    assert "Case assigned to approver." in messages_of(done)
    case.refresh_from_db()
    assert case.assignee == approver
    html = done.content.decode()
    assert "assigned to April" in html or "assigned to approver" in html


def test_change_status_with_a_reason_and_a_file(login, analyst, monitored_case):
    case, client = monitored_case["case"], login(analyst)
    client.post(case_url(case, "status"), {"version": case.version, "status": "IN_PROGRESS"})
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS

    upload = SimpleUploadedFile("findings.txt", b"all clear", content_type="text/plain")
    done = client.post(
        case_url(case, "status"),
        {
            "version": case.version,
            "status": "CLOSED",
            "reason": "Other",
            "other_reason": "Customer explained",
            "comment": "Salary payment",
            "file": upload,
        },
        follow=True,
    )
    assert done.status_code == 200
    assert f"Case {case.case_id} is now CLOSED." in messages_of(done)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    change = StatusChange.objects.get(case=case, to_status="CLOSED")
    assert (change.reason, change.other_reason, change.comment) == (
        "Other",
        "Customer explained",
        "Salary payment",
    )
    stored = File.objects.get(status_change=change)
    assert stored.filename == "findings.txt"
    assert stored.case == case
    html = done.content.decode()
    assert "reason: Other (Customer explained)" in html
    assert f"/admin/cases/case/{case.pk}/files/{stored.pk}/" in html
    assert monitored_case["alert"].__class__.objects.get(pk=monitored_case["alert"].pk).status == "CLOSED"
    download = client.get(f"/admin/cases/case/{case.pk}/files/{stored.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"all clear"
    assert 'filename="findings.txt"' in download["Content-Disposition"]


def test_closing_without_a_reason_is_refused_beside_the_field(login, analyst, monitored_case):
    case, client = monitored_case["case"], login(analyst)
    refused = client.post(case_url(case, "status"), {"version": case.version, "status": "CLOSED"})
    assert refused.status_code == 400
    form = refused.context["forms"]["status"]
    assert form.errors["reason"] == ["A reason is required to close."]
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN

    illegal = client.post(case_url(case, "status"), {"version": case.version, "status": "REOPENED"})
    assert illegal.status_code == 409
    assert "OPEN cannot become REOPENED" in illegal.content.decode()


def test_a_refused_change_keeps_no_uploaded_file(login, analyst, monitored_case, settings):
    case, client = monitored_case["case"], login(analyst)
    refused = client.post(
        case_url(case, "status"),
        {"version": case.version, "status": "CLOSED", "file": SimpleUploadedFile("proof.txt", b"proof")},
    )
    assert refused.status_code == 400  # no reason: refused after the upload
    assert not File.objects.exists()
    stored = (
        [p for p in (settings.MEDIA_ROOT).rglob("*") if p.is_file()] if settings.MEDIA_ROOT.exists() else []
    )
    assert stored == []
    assert refused.context["forms"]["status"].data["status"] == "CLOSED"  # the analyst's input is kept


def test_an_unknown_alert_is_a_404_not_an_error(login, analyst, monitored_case):
    case, client = monitored_case["case"], login(analyst)
    for raw in ("", "abc", "\u00b9", "99999999999"):
        assert client.post(case_url(case, "alert-status"), {"alert": raw, "version": 1}).status_code == 404
    assert client.get(case_url(case, "status")).status_code == 302  # a GET goes back to the page
    assert client.get("/admin/cases/case/999999/change/").status_code == 404


def test_a_stale_version_is_refused_with_a_conflict_message(login, analyst, approver, monitored_case):
    from cases import services

    case, client = monitored_case["case"], login(analyst)
    seen = case.version
    services.case_assign(actor=Actor(user=approver), case=case, assignee=approver)  # someone else, meanwhile

    refused = client.post(
        case_url(case, "status"), {"version": seen, "status": "CLOSED", "reason": "False positive"}
    )
    assert refused.status_code == 409
    text = " ".join(messages_of(refused))
    assert "Someone else changed this case since you opened it" in text
    assert f"version {seen}, now {seen + 1}" in text
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    # The redisplayed form carries what the analyst chose and the current version.
    form = refused.context["forms"]["status"]
    assert form.data["version"] == str(case.version)
    assert form.data["reason"] == "False positive"
    assert client.post(case_url(case, "assign"), {"version": seen, "me": "1"}).status_code == 409
    case.refresh_from_db()
    assert case.assignee == approver


def test_comment_with_a_file_and_attach_a_file(login, analyst, monitored_case):
    case, alert, client = monitored_case["case"], monitored_case["alert"], login(analyst)
    version = case.version
    done = client.post(
        case_url(case, "comment"),
        {"body": "Called the customer", "alert": alert.pk, "file": SimpleUploadedFile("call.txt", b"notes")},
        follow=True,
    )
    assert "Comment added." in messages_of(done)
    comment = Comment.objects.get(case=case)
    assert (comment.body, comment.alert, comment.author) == ("Called the customer", alert, analyst)
    assert File.objects.get(comment=comment).filename == "call.txt"

    done = client.post(
        case_url(case, "attach"),
        {"file": SimpleUploadedFile("statement.pdf", b"%PDF-1.4", content_type="application/pdf")},
        follow=True,
    )
    assert "File statement.pdf attached." in messages_of(done)
    html = done.content.decode()
    assert "Called the customer" in html
    assert "Attached statement.pdf" in html
    assert "statement.pdf" in html
    assert "call.txt" in html
    case.refresh_from_db()
    assert case.version == version  # comments do not make a colleague's form stale

    empty = client.post(case_url(case, "comment"), {"body": "  "})
    assert empty.status_code == 400
    assert "Write a comment or choose a file." in empty.content.decode()
    assert client.post(case_url(case, "attach"), {}).status_code == 400


def test_alert_status_change_from_the_case_page(login, analyst, monitored_case):
    case, alert, client = monitored_case["case"], monitored_case["alert"], login(analyst)
    refused = client.post(
        case_url(case, "alert-status"), {"alert": alert.pk, "version": alert.version, "status": "CLOSED"}
    )
    assert refused.status_code == 400
    assert refused.context["forms"]["alert_forms"][alert.pk].errors["reason"]
    done = client.post(
        case_url(case, "alert-status"),
        {"alert": alert.pk, "version": alert.version, "status": "CLOSED", "reason": "False positive"},
        follow=True,
    )
    assert f"Alert {alert.alert_id} is now CLOSED." in messages_of(done)
    alert.refresh_from_db()
    case.refresh_from_db()
    assert alert.status == CaseStatus.CLOSED
    assert case.status == CaseStatus.OPEN
    other = make_case(case_id="C-OTHER")
    foreign = make_alert(other)
    assert client.post(case_url(case, "alert-status"), {"alert": foreign.pk, "version": 1}).status_code == 404


def test_sar_close_is_refused_to_an_analyst_and_done_by_an_approver(
    client, login, analyst, approver, monitored_case
):
    case = monitored_case["case"]
    sar = {"version": case.version, "status": "CLOSED", "reason": "Suspicious activity reported (SAR)"}
    refused = login(analyst).post(case_url(case, "status"), sar)
    assert refused.status_code == 403
    assert "needs the approver role" in " ".join(messages_of(refused))
    assert refused.context["forms"]["status"].errors["reason"] == [
        "Only an approver may close a case as SAR."
    ]
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN

    done = login(approver).post(case_url(case, "status"), sar, follow=True)
    assert done.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert StatusChange.objects.get(case=case, to_status="CLOSED").actor == approver


# --- who may -------------------------------------------------------------------------------------


def test_outsiders_get_403_everywhere(login, outsider, monitored_case):
    case, client = monitored_case["case"], login(outsider)
    assert client.get(QUEUE).status_code == 403
    assert client.get(case_url(case)).status_code == 403
    assert client.get("/admin/cases/case/dashboard/").status_code == 403
    assert client.post(case_url(case, "assign"), {"version": case.version, "me": "1"}).status_code == 403
    assert client.post(case_url(case, "comment"), {"body": "x"}).status_code == 403
    assert client.post(QUEUE, {"action": "assign_to_me", "_selected_action": [case.pk]}).status_code == 403
    case.refresh_from_db()
    assert case.assignee is None
    assert not Comment.objects.exists()


def test_a_compliance_admin_reads_the_work_but_does_not_do_it(login, compliance_admin, monitored_case):
    case, client = monitored_case["case"], login(compliance_admin)
    assert client.get(QUEUE).status_code == 200
    page = client.get(case_url(case))
    assert page.status_code == 200
    assert 'id="status-form"' not in page.content.decode()
    assert client.post(case_url(case, "assign"), {"version": case.version, "me": "1"}).status_code == 403
    files = File.objects.count()
    assert (
        client.post(case_url(case, "attach"), {"file": SimpleUploadedFile("x.txt", b"x")}).status_code == 403
    )
    assert File.objects.count() == files


def test_the_alert_list_links_to_the_case_page(login, analyst, monitored_case):
    alert = monitored_case["alert"]
    client = login(analyst)
    page = client.get("/admin/cases/alert/")
    assert page.status_code == 200
    assert alert.alert_id in page.content.decode()
    jump = client.get(f"/admin/cases/alert/{alert.pk}/change/")
    assert jump.status_code == 302
    assert jump["Location"].endswith(f"/admin/cases/case/{alert.case_id}/change/#alert-{alert.pk}")
    assert Alert.objects.count() == 1


def test_demo_cases_load_once_and_every_page_renders(login, analyst, approver):
    """setup_demo's cases: a live queue in several statuses with a timeline; a second run adds nothing."""
    from io import StringIO

    from cases import demo
    from transactions import demo as transactions_demo
    from users import demo as users_demo

    out = StringIO()
    users_demo.load(out)
    transactions_demo.load(out)
    demo.load(out)
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"OPEN", "IN_PROGRESS", "ON_HOLD", "CLOSED", "REOPENED"} <= statuses
    rule_cases = Case.objects.filter(source="RULE")
    assert rule_cases.count() == 2  # one per demo customer, opened by the rule hits' handler
    assert Case.objects.get(customer__external_ref="JD001").assignee == analyst
    assert Comment.objects.filter(author=analyst).exists()
    assert File.objects.exists()
    counts = (Case.objects.count(), Alert.objects.count(), StatusChange.objects.count())
    demo.load(out)
    assert (Case.objects.count(), Alert.objects.count(), StatusChange.objects.count()) == counts
    assert "Demo cases exist already." in out.getvalue()
    client = login(analyst)
    assert len(listed(client.get(QUEUE))) == 4  # open work: all but the closed one
    for case in Case.objects.all():
        page = client.get(case_url(case))
        assert page.status_code == 200
    assert client.get("/admin/cases/case/dashboard/").status_code == 200
