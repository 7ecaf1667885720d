"""Writes of the cases app: the case and alert workflow, shared by the API, the admin screens
and the event handlers.

Every function owns its `transaction.atomic()`, locks the rows it changes
(`select_for_update`: the case first, then its alerts, always in that order), checks
`expected_version` against the locked row (a screen or client submitting stale data gets a
409 instead of overwriting another analyst's work), bumps `version`, records the history
rows (`StatusChange`, `Assignment`, `Comment`), writes the audit trail and publishes the
domain events (`case.opened`, `case.closed`, `alert.opened`, `alert.closed`) in the same
transaction; webhooks and other consequences run from the outbox after commit.

The workflow (one table for cases and alerts, `ALLOWED_TRANSITIONS`):

    OPEN        -> IN_PROGRESS ON_HOLD CLOSED
    IN_PROGRESS -> ON_HOLD CLOSED
    ON_HOLD     -> IN_PROGRESS CLOSED
    CLOSED      -> REOPENED
    REOPENED    -> IN_PROGRESS ON_HOLD CLOSED

Anything else (staying in the same status included) is a 409 naming `status`. Nothing goes
back to OPEN: OPEN means "never worked on", REOPENED says it was closed once.

- Closing needs a `reason` from `StatusReason` (400 naming `reason`), and `otherReason`
  when the reason is Other (400 naming `otherReason`). A reason given with any other status
  must be one of the list too.
- Closing a *case* with "Suspicious activity reported (SAR)" needs the permission
  `cases.close_sar` (the approver role): a 403 otherwise, for API keys too (a key acts with
  its service account's permissions). System actors (handlers) are not asked.
- Closing a case closes its open alerts with the same reason, other reason and comment
  (each gets its own status change and `alert.closed` event): a closed case holds no open
  work. Reopening a case does not reopen its alerts: the analyst reopens what still needs
  work (an alert of a closed case cannot be reopened; reopen the case first).
- Closing the last open alert of a case does NOT close the case: the case is the analyst's
  unit of work, closed with its own reason (and, for SAR, by an approver).
- A case's priority is the highest (P1 highest) of its open alerts, recomputed whenever an
  alert is added, closed, reopened or changes priority. A case without open alerts keeps
  the priority it has (a manual case keeps the priority it was created with).
- `file_keys` name files uploaded with `file_upload` and not attached yet (400 naming
  `files` otherwise); they are attached to the status change or comment, and to the case
  (and alert) so the case page lists every file.
- One open case per customer and per payment instrument, one open alert per rule instance
  in a case: the database constraints hold them; a concurrent duplicate is retried
  (handlers) or answered 409 (API), never a 500.
- Comments lock the case (one after the other) but do not bump its `version`: a colleague's
  comment does not make another analyst's status form stale.

Opening from elsewhere: `alert_open_from_rule_hit` (called by `cases.handlers` for
`transaction.monitored`) puts a rule hit into the open case of the user (or payment
instrument) it is aimed at, extending the open alert of the same rule instance there.
Screening hits (issue 6) get the same treatment in `screening_hits`:
`alert_open_from_screening_hit(*, actor, customer, screening_details, priority=None)` (called
by `cases.handlers` for `screening.hit_found`) puts a hit into the customer's open case
(opening one, source SCREENING) with `rule_hits._case_for_entity`, in the one open SANCTIONS
alert of the hit's watchlist source there (created with `alerts._alert_insert`; priority
sanctions P1, PEP P2, other lists P3), deduplicated on the screening risk id and the import
run that raised it. The alert's `screening_details` carry the seed 002 `sanctionsDetails`,
`isOngoingScreeningHit` and one `hits` item per screening risk with its review status.
`screening_hit_reviewed` (for `screening.hit_reviewed`) closes an alert whose hits are all
dismissed as "False positive" (its case stays open), comments a confirmation naming who
confirmed, and reopens an alert its dismissal closed when a review is undone (PENDING).

The package: `workflow` (transitions, versions, history, priority, events), `cases`,
`alerts`, `files`, `rule_hits`, `screening_hits`; everything public is re-exported here, so callers import
`from cases.services import case_status_change`.
"""

from cases.services.alerts import ALERT_FIELDS, alert_assign, alert_create, alert_status_change, alert_update
from cases.services.cases import (
    case_assign,
    case_comment,
    case_create,
    case_status_change,
    cases_assign_bulk,
    cases_close_bulk,
)
from cases.services.files import FileTooLargeError, file_max_bytes, file_upload
from cases.services.rule_hits import RACE_ATTEMPTS, RULE_HIT_REASON, alert_open_from_rule_hit
from cases.services.screening_hits import (
    SCREENING_HIT_REASON,
    alert_open_from_screening_hit,
    priority_for_source_kind,
    screening_hit_reviewed,
)
from cases.services.workflow import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    SAR_PERMISSION,
    allowed_targets,
    can_close_sar,
    new_alert_id,
    new_case_id,
    transition_allowed,
    triggered_by,
)

__all__ = [
    "ALERT_FIELDS",
    "ALLOWED_TRANSITIONS",
    "OPEN_STATUSES",
    "RACE_ATTEMPTS",
    "RULE_HIT_REASON",
    "SAR_PERMISSION",
    "SCREENING_HIT_REASON",
    "FileTooLargeError",
    "alert_assign",
    "alert_create",
    "alert_open_from_rule_hit",
    "alert_open_from_screening_hit",
    "alert_status_change",
    "alert_update",
    "allowed_targets",
    "can_close_sar",
    "case_assign",
    "case_comment",
    "case_create",
    "case_status_change",
    "cases_assign_bulk",
    "cases_close_bulk",
    "file_max_bytes",
    "file_upload",
    "new_alert_id",
    "new_case_id",
    "priority_for_source_kind",
    "screening_hit_reviewed",
    "transition_allowed",
    "triggered_by",
]
