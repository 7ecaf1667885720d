"""Demo cases for `make run` (setup_demo): a live queue for the demo analyst and approver.

The demo transactions' rule hits open a case per demo customer (JD001, AC001) through the real
handler (`cases.handlers`); their events are dispatched here first, in this process, so the cases
exist whether or not a worker runs. Then, through `cases.services` as the demo staff: JD001's case
is taken by the analyst, worked (in progress, a comment with a file, an alert closed as a false
positive); AC001's waits unassigned in the queue; and cases on the demo payment instruments show
the other statuses and sources: one on hold with the approver (a SAR candidate), one closed as a
false positive, one reopened.

Idempotent: run again, it adds nothing once its own cases (`C-DEMO-...`) exist.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases import services
from cases.models import AlertEntityType, Case, CaseEntityType, CaseSource, CaseStatus, StatusReason
from compliance import events
from compliance.audit import Actor
from compliance.errors import ApplicationError
from compliance.models import OutboxEvent, StaffUser
from transactions.models import Transaction
from users.models import Customer

PREFIX = "C-DEMO-"
PERSON, ORGANISATION = "JD001", "AC001"


def _actor(username: str) -> Actor:
    user = StaffUser.objects.filter(username=username).first()
    return Actor(user=user) if user else Actor.system_actor("setup_demo")


def _dispatch_rule_hits() -> None:
    """Run the pending `transaction.monitored` events' handlers here (what a worker does)."""
    pending = OutboxEvent.objects.filter(
        name="transaction.monitored", dispatched_at__isnull=True, failed_at__isnull=True
    )
    for event_id in pending.order_by("created_at").values_list("pk", flat=True):
        events.dispatch(event_id)


def _payment_case(actor: Actor, number: int, identifier: str, **fields) -> Case:
    method, _, value = identifier.partition(":")
    return services.case_create(
        actor=actor,
        fields={
            "case_id": f"{PREFIX}{number}",
            "entity_type": CaseEntityType.PAYMENT,
            "payment_method": method,
            "payment_identifier": identifier,
            "payment_details": {"method": method, "identifier": value},
            **fields,
        },
    )


def _screening_alert(actor: Actor, case: Case, name: str, priority: str, days_ago: int) -> None:
    services.alert_create(
        actor=actor,
        fields={
            "case": case,
            "priority": priority,
            "entity_type": AlertEntityType.SANCTIONS,
            "screening_details": {"matchedName": name, "list": "Demo sanctions list", "score": 0.87},
            "rule_name": "Sanctions screening",
            "rule_description": "A counterparty's name matched a sanctions list entry.",
            "creation_reason": {"reasons": ["Screening hit"], "comment": f"Possible match: {name}"},
            "created_at": timezone.now() - timedelta(days=days_ago),
        },
    )


def _work_person_case(analyst: Actor, case: Case) -> None:
    services.case_assign(actor=analyst, case=case, assignee=analyst.user)
    case = services.case_status_change(
        actor=analyst, case=case, status=CaseStatus.IN_PROGRESS, comment="Taking this one."
    )
    note = services.file_upload(
        actor=analyst,
        uploaded=SimpleUploadedFile(
            "call-notes.txt",
            b"Called John Doe: the large transfers pay for a flat purchase; contract requested.\n",
            content_type="text/plain",
        ),
    )
    services.case_comment(
        actor=analyst,
        case=case,
        body="Customer says the large transfers pay for a flat; sales contract requested.",
        file_keys=[note.key],
    )
    burst = case.alerts.filter(rule_id="R-2").first() or case.alerts.order_by("-priority").first()
    if burst is not None and len(case.alerts.all()) > 1:
        services.alert_status_change(
            actor=analyst,
            alert=burst,
            status=CaseStatus.CLOSED,
            reason=StatusReason.FALSE_POSITIVE,
            comment="Card top-ups for a trip, usual for this customer.",
        )


def load(stdout) -> None:
    if Case.objects.filter(case_id__startswith=PREFIX).exists():
        stdout.write("Demo cases exist already.")
        return
    customers = {c.external_ref: c for c in Customer.objects.filter(external_ref__in=[PERSON, ORGANISATION])}
    if len(customers) < 2:
        stdout.write("Demo cases skipped: the demo customers JD001 and AC001 are missing.")
        return
    analyst, approver = _actor("analyst"), _actor("approver")
    system = Actor.system_actor("setup_demo")
    _dispatch_rule_hits()
    now = timezone.now()
    try:
        # The rule hits' cases, or manual ones when no rule hit (a library without the templates).
        person_case = (
            Case.objects.filter(customer=customers[PERSON]).exclude(status=CaseStatus.CLOSED).first()
        )
        if person_case is None:
            person_case = services.case_create(
                actor=analyst,
                fields={
                    "case_id": f"{PREFIX}1",
                    "entity_type": CaseEntityType.USER,
                    "customer": customers[PERSON],
                },
            )
            _screening_alert(system, person_case, "John DOE", "P2", 2)
        if person_case.status == CaseStatus.OPEN and analyst.user is not None:
            _work_person_case(analyst, person_case)
        if not Case.objects.filter(customer=customers[ORGANISATION]).exists():
            organisation_case = services.case_create(
                actor=system,
                fields={
                    "case_id": f"{PREFIX}2",
                    "entity_type": CaseEntityType.USER,
                    "customer": customers[ORGANISATION],
                    "source": CaseSource.REVIEW,
                    "priority": "P3",
                    "created_at": now - timedelta(days=4),
                    "creation_reason": {"reasons": ["Periodic review"], "comment": "Yearly review due."},
                },
            )
            _screening_alert(system, organisation_case, "ACME Corp Ltd", "P3", 4)

        identifiers = sorted(
            set(
                Transaction.objects.filter(transaction_id__startswith="demo-")
                .exclude(origin_payment_identifier="")
                .values_list("origin_payment_identifier", flat=True)
            )
        ) or ["IBAN:CY00DEMO0000000000000000001", "WALLET:DEMO-2", "CARD:DEMO-3"]
        # On hold with the approver: a screening match on a wallet, escalated (a SAR candidate).
        held = _payment_case(
            system,
            3,
            identifiers[0],
            source=CaseSource.SCREENING,
            priority="P1",
            created_at=now - timedelta(days=12),
            creation_reason={"reasons": ["Screening hit"], "comment": "Counterparty name matched a list."},
        )
        for name, days_ago in (
            ("Ivan PETROV", 12),
            ("I. PETROV", 9),
            ("Ivan PETROFF", 6),
            ("PETROV Ivan", 3),
        ):
            _screening_alert(system, held, name, "P1", days_ago)
        if approver.user is not None:
            services.case_assign(actor=approver, case=held, assignee=approver.user)
        services.case_status_change(
            actor=approver,
            case=held,
            status=CaseStatus.ON_HOLD,
            reason=StatusReason.ESCALATED,
            comment="Escalated to the MLRO; a SAR is being prepared.",
        )
        # Closed as a false positive by the analyst, weeks ago.
        closed = _payment_case(
            system,
            4,
            identifiers[1 % len(identifiers)],
            source=CaseSource.MANUAL,
            priority="P3",
            created_at=now - timedelta(days=40),
        )
        for days_ago in (40, 28, 26):
            _screening_alert(system, closed, "Maria GARCIA LOPEZ", "P3", days_ago)
        services.case_status_change(
            actor=analyst,
            case=closed,
            status=CaseStatus.CLOSED,
            reason=StatusReason.FALSE_POSITIVE,
            comment="Different person: date of birth and nationality differ.",
        )
        # Closed, then reopened when the same counterparty came back.
        reopened = _payment_case(
            system,
            5,
            identifiers[2 % len(identifiers)],
            source=CaseSource.MANUAL,
            priority="P4",
            created_at=now - timedelta(days=20),
        )
        for days_ago in (20, 17, 15):
            _screening_alert(system, reopened, "Wallet owner match", "P4", days_ago)
        services.case_status_change(
            actor=analyst,
            case=reopened,
            status=CaseStatus.CLOSED,
            reason=StatusReason.DOCUMENTS_COLLECTED,
            comment="Source of funds documented.",
        )
        services.case_status_change(
            actor=analyst,
            case=reopened,
            status=CaseStatus.REOPENED,
            comment="New payments to the same wallet; looking again.",
        )
    except ApplicationError as exc:  # the demo never stops `make run`
        stdout.write(f"  demo cases incomplete: {exc.message} {exc.errors}")
    counts = {}
    for status in Case.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    stdout.write(f"  demo cases: {sum(counts.values())} ({summary}) — see /admin/cases/case/")
