"""The case page, its actions and file downloads: views of `CaseAdmin` (cases.admin); the dashboard is
in `cases.dashboard`.

The case page shows the case, its customer (summary and risk breakdown, as on the customer's
file), its alerts with the rule that raised each and the evidence the engine recorded for it on
every transaction (`executed_rules[].executedRules[].detail.data`, the `ruleHitMeta`, the
`TransactionRuleHit` row), the transactions involved, a timeline (status changes, assignments,
comments and files of the case and its alerts, newest first) and the files.

Each action posts to its own URL and calls one service of `cases.services` (the code the API
runs). A refusal redisplays the page with the analyst's input, the refusal beside the field it
names, and the service's status (400, 403, 409); a success redirects back to the page.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.forms import HiddenInput
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from cases import services
from cases.admin import (
    priority_badge,
    status_badge,
)
from cases.forms import AlertStatusForm, AssignForm, AttachForm, CommentForm, StatusForm
from cases.models import Alert, Assignment, Case, Comment, File, StatusChange
from compliance.audit import Actor
from compliance.errors import ApplicationError, ConflictError
from transactions.admin import decision_badge, evidence_row
from transactions.models import Transaction, TransactionRuleHit
from users.admin.shared import level_badge, refusal_lines
from users.models import Customer

# An id as posted (ASCII digits only: `str.isdigit` also takes "¹").
ID = re.compile(r"[0-9]{1,18}")
# A rule that keeps hitting adds transactions to its open alert: the page shows the latest ones.
EVIDENCE_PER_ALERT = 20
TRANSACTIONS_SHOWN = 100
TIMELINE_KINDS = {"status": 0, "assignment": 1, "comment": 2, "file": 3}


def _case_url(case_pk: int, anchor: str = "") -> str:
    return reverse("admin:cases_case_change", args=[case_pk]) + (f"#{anchor}" if anchor else "")


def _load_case(case_pk) -> Case:
    queryset = Case.objects.select_related(
        "assignee",
        "customer",
        "customer__customer_type",
        "customer__status",
        "customer__country_residence",
        "customer__country_incorporation",
    )
    try:
        return queryset.get(pk=int(case_pk))
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404("No case with this id.") from None


def _staff_label(user, fallback: str = "") -> str:
    if user is None:
        return fallback or "system"
    name = user.get_full_name()
    return f"{name} ({user.username})" if name else user.username


def _amount(amount, currency) -> str:
    if amount is None:
        return "-"
    return f"{amount.normalize():,f} {currency}".strip()


def _party(customer, ref: str):
    if customer is None:
        return ref or "-"
    url = reverse("admin:users_customer_change", args=[customer.pk])
    name = customer.display_name
    if name and name != ref:
        return format_html('<a href="{}">{}</a> <span class="cbo-muted">{}</span>', url, ref, name)
    return format_html('<a href="{}">{}</a>', url, ref)


def _pretty(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


# --- the case page ------------------------------------------------------------------------------


def case_files_q(case: Case) -> Q:
    """Files of the case, its alerts, its comments and its status changes."""
    return (
        Q(case=case)
        | Q(alert__case=case)
        | Q(comment__case=case)
        | Q(status_change__case=case)
        | Q(status_change__alert__case=case)
    )


def customer_summary(model_admin, customer: Customer | None) -> dict | None:
    if customer is None:
        return None
    country = customer.country_incorporation if customer.is_organisation else customer.country_residence
    customer_admin = model_admin.admin_site._registry.get(Customer)
    return {
        "customer": customer,
        "name": customer.display_name,
        "type": customer.customer_type,
        "country": country,
        "level": level_badge(customer.risk_level),
        "score": customer.risk_effective_score,
        "deleted": customer.deleted_at is not None,
        # The customer file's own rendering of the score and its factor-by-factor breakdown.
        "risk": customer_admin.risk_summary(customer) if customer_admin is not None else "",
    }


def _evidence(alert: Alert, transactions: list[Transaction], hits: dict) -> list[dict]:
    """Per transaction of the alert, what its rule instance recorded when it ran on it."""
    rows = []
    for tx in transactions[:EVIDENCE_PER_ALERT]:
        items = [
            item
            for item in tx.executed_rules or []
            if str(item.get("ruleInstanceId", "")) == alert.rule_instance_ref
        ]
        meta = {}
        for item in items:
            meta = {k: v for k, v in (item.get("ruleHitMeta") or {}).items() if k != "hitDirections"}
        rows.append(
            {
                "tx": tx,
                "hit": hits.get((tx.pk, alert.rule_instance_ref)),
                "rules": [evidence_row(item) for item in items],
                "meta": _pretty(meta) if meta else "",
            }
        )
    return rows


def alerts_with_evidence(case: Case) -> tuple[list[dict], list[dict]]:
    """The case's alerts (with evidence) and the transactions involved, in five queries."""
    alerts = list(
        case.alerts.select_related("assignee", "rule_instance").order_by("priority", "created_at", "id")
    )
    links = list(
        Alert.transactions.through.objects.filter(alert__case_id=case.pk).values_list(
            "alert_id", "transaction_id"
        )
    )
    ids = {tx_id for _, tx_id in links}
    transactions = list(
        Transaction.objects.filter(pk__in=ids)
        .select_related("origin_user", "destination_user")
        .order_by("-timestamp", "-id")[:TRANSACTIONS_SHOWN]
    )
    by_id = {tx.pk: tx for tx in transactions}
    refs = {alert.rule_instance_ref for alert in alerts if alert.rule_instance_ref}
    hits = {}
    if refs and by_id:
        for hit in TransactionRuleHit.objects.filter(transaction_id__in=by_id, rule_instance_id__in=refs):
            hits[(hit.transaction_id, hit.rule_instance_id)] = hit
    per_alert: dict[int, list[Transaction]] = {}
    alerts_of_tx: dict[int, list[Alert]] = {}
    by_pk = {alert.pk: alert for alert in alerts}
    for alert_id, tx_id in links:
        if tx_id in by_id:
            per_alert.setdefault(alert_id, []).append(by_id[tx_id])
            alerts_of_tx.setdefault(tx_id, []).append(by_pk[alert_id])
    total_per_alert: dict[int, int] = {}
    for alert_id, _ in links:
        total_per_alert[alert_id] = total_per_alert.get(alert_id, 0) + 1
    alert_rows = []
    for alert in alerts:
        txs = sorted(per_alert.get(alert.pk, []), key=lambda tx: (tx.timestamp, tx.pk), reverse=True)
        alert_rows.append(
            {
                "alert": alert,
                "rule_url": reverse("admin:rules_ruleinstance_change", args=[alert.rule_instance_id])
                if alert.rule_instance_id
                else "",
                "evidence": _evidence(alert, txs, hits) if alert.rule_instance_ref else [],
                "transactions_total": total_per_alert.get(alert.pk, 0),
                "screening": _pretty(alert.screening_details) if alert.screening_details else "",
            }
        )
    tx_rows = [
        {
            "tx": tx,
            "url": reverse("admin:transactions_transaction_change", args=[tx.pk]),
            "amount": _amount(tx.origin_amount, tx.origin_currency),
            "origin": _party(tx.origin_user, tx.origin_user_ref),
            "destination": _party(tx.destination_user, tx.destination_user_ref),
            "decision": decision_badge(tx.status),
            "alerts": sorted({a.alert_id for a in alerts_of_tx.get(tx.pk, [])}),
        }
        for tx in transactions
    ]
    return alert_rows, tx_rows


def timeline(case: Case) -> tuple[list[dict], list[File]]:
    """Status changes, assignments, comments and files of the case and its alerts, newest first."""
    files = list(
        File.objects.filter(case_files_q(case))
        .select_related("uploaded_by")
        .distinct()
        .order_by("uploaded_at", "id")
    )
    files_of: dict[tuple[str, int], list[File]] = {}
    entries = []
    for f in files:
        if f.status_change_id:
            files_of.setdefault(("status", f.status_change_id), []).append(f)
        elif f.comment_id:
            files_of.setdefault(("comment", f.comment_id), []).append(f)
        else:
            entries.append(
                {
                    "kind": "file",
                    "when": f.uploaded_at,
                    "pk": f.pk,
                    "actor": _staff_label(f.uploaded_by),
                    "subject": "",
                    "files": [f],
                }
            )
    changes = StatusChange.objects.filter(Q(case=case) | Q(alert__case=case)).select_related("actor", "alert")
    for change in changes:
        entries.append(
            {
                "kind": "status",
                "when": change.created_at,
                "pk": change.pk,
                "actor": _staff_label(change.actor, change.actor_label),
                "subject": change.alert.alert_id if change.alert_id else "",
                "change": change,
                "files": files_of.get(("status", change.pk), []),
            }
        )
    assignments = Assignment.objects.filter(Q(case=case) | Q(alert__case=case)).select_related(
        "assignee", "assigned_by", "alert"
    )
    for assignment in assignments:
        entries.append(
            {
                "kind": "assignment",
                "when": assignment.created_at,
                "pk": assignment.pk,
                "actor": _staff_label(assignment.assigned_by),
                "subject": assignment.alert.alert_id if assignment.alert_id else "",
                "assignee": _staff_label(assignment.assignee),
                "files": [],
            }
        )
    for comment in Comment.objects.filter(case=case).select_related("author", "alert"):
        entries.append(
            {
                "kind": "comment",
                "when": comment.created_at,
                "pk": comment.pk,
                "actor": _staff_label(comment.author, comment.author_label),
                "subject": comment.alert.alert_id if comment.alert_id else "",
                "body": comment.body,
                "files": files_of.get(("comment", comment.pk), []),
            }
        )
    entries.sort(key=lambda e: (e["when"], TIMELINE_KINDS[e["kind"]], e["pk"]), reverse=True)
    return entries, files


def page_forms(request, case: Case, alerts: list[Alert], bound: dict | None = None) -> dict:
    """The page's forms: unbound ones carrying the current versions, and the one that failed."""
    bound = bound or {}
    forms = {
        "assign": AssignForm(initial={"version": case.version, "assignee": case.assignee_id}),
        "status": StatusForm(current=case.status, initial={"version": case.version}),
        "comment": CommentForm(alerts=alerts),
        "attach": AttachForm(),
    }
    forms.update({name: form for name, form in bound.items() if not name.startswith("alert:")})
    alert_forms = {
        alert.pk: bound.get(f"alert:{alert.pk}")
        or AlertStatusForm(current=alert.status, initial={"version": alert.version, "alert": alert.pk})
        for alert in alerts
    }
    return {**forms, "alert_forms": alert_forms}


def case_page(model_admin, request, object_id, *, bound: dict | None = None, status: int = 200):
    case = _load_case(object_id)
    if not model_admin.has_view_permission(request, case):
        raise PermissionDenied
    alert_rows, tx_rows = alerts_with_evidence(case)
    entries, files = timeline(case)
    alerts = [row["alert"] for row in alert_rows]
    forms = page_forms(request, case, alerts, bound)
    for row in alert_rows:
        row["status_form"] = forms["alert_forms"][row["alert"].pk]
    can_change = model_admin.has_change_permission(request, case)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Case {case.case_id}",
        "subtitle": case.case_id,
        "opts": model_admin.opts,
        "app_label": model_admin.opts.app_label,
        "original": case,
        "case": case,
        "priority": priority_badge(case.priority),
        "status": status_badge(case.status),
        "customer": customer_summary(model_admin, case.customer),
        "payment_details": _pretty(case.payment_details) if case.payment_details else "",
        "alerts": alert_rows,
        "open_alerts": sum(1 for a in alerts if a.status != "CLOSED"),
        "transactions": tx_rows,
        "timeline": entries,
        "files": files,
        "forms": forms,
        "can_change": can_change,
        "can_change_alerts": can_change and request.user.has_perm("cases.change_alert"),
        "has_permission": True,
        "queue_url": reverse("admin:cases_case_changelist"),
        "media": model_admin.media,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/cases/case/case_page.html", context, status=status)


# --- the actions ----------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Service error keys whose field on the page has another name.
FIELD_ALIASES = {"case_status": "status", "alert_status": "status", "files": "file", "file_keys": "file"}


def add_refusal(form, exc: ApplicationError) -> None:
    """A service refusal on the form: each problem beside the field it names, the rest above."""
    for key, problems in exc.errors.items():
        name = _snake(key.rsplit(".", 1)[-1].split("[", 1)[0]) if key else ""
        name = FIELD_ALIASES.get(name, name)
        for problem in problems if isinstance(problems, list) else [problems]:
            field = form.fields.get(name)
            if field is not None and not isinstance(field.widget, HiddenInput):
                form.add_error(name, str(problem))
            else:
                form.add_error(None, f"{key}: {problem}" if key and key != "__all__" else str(problem))
    if not exc.errors:
        form.add_error(None, exc.message)


class Refused(Exception):
    """An action's form is invalid or its service refused: redisplay the page with it."""

    def __init__(self, name: str, form, status: int):
        self.name, self.form, self.status = name, form, status


@contextmanager
def _uploaded(actor, uploaded):
    """The key of the uploaded file (none without one) for a service call in the same transaction;
    when that call is refused, the stored file goes too (its row is rolled back with the call)."""
    stored = services.file_upload(actor=actor, uploaded=uploaded) if uploaded else None
    try:
        yield [stored.key] if stored else []
    except BaseException:
        if stored is not None:
            stored.file.storage.delete(stored.file.name)
        raise


def _assign(request, case, actor):
    form = AssignForm(request.POST)
    if "me" in request.POST:
        form.fields["assignee"].required = False
    if not form.is_valid():
        raise Refused("assign", form, 400)
    assignee = request.user if "me" in request.POST else form.cleaned_data["assignee"]
    try:
        services.case_assign(
            actor=actor, case=case, assignee=assignee, expected_version=form.cleaned_data["version"]
        )
    except ApplicationError as exc:
        _refuse(request, case, "assign", form, exc, form.cleaned_data["version"])
    if assignee is None:
        return "Case unassigned."
    return "Case assigned to you." if assignee == request.user else f"Case assigned to {assignee.username}."


def _status(request, case, actor):
    form = StatusForm(request.POST, request.FILES, current=case.status)
    if not form.is_valid():
        raise Refused("status", form, 400)
    data = form.cleaned_data
    try:
        with transaction.atomic(), _uploaded(actor, data.get("file")) as file_keys:
            services.case_status_change(
                actor=actor,
                case=case,
                status=data["status"],
                reason=data["reason"],
                other_reason=data["other_reason"],
                comment=data["comment"],
                file_keys=file_keys,
                expected_version=data["version"],
            )
    except ApplicationError as exc:
        _refuse(request, case, "status", form, exc, data["version"])
    return f"Case {case.case_id} is now {data['status'].replace('_', ' ')}."


def _comment(request, case, actor):
    alerts = list(case.alerts.only("id", "alert_id"))
    form = CommentForm(request.POST, request.FILES, alerts=alerts)
    if not form.is_valid():
        raise Refused("comment", form, 400)
    data = form.cleaned_data
    alert = next((a for a in alerts if a.pk == data["alert"]), None)
    body = data["body"].strip() or f"Attached {data['file'].name}"
    try:
        with transaction.atomic(), _uploaded(actor, data.get("file")) as file_keys:
            services.case_comment(actor=actor, case=case, body=body, alert=alert, file_keys=file_keys)
    except ApplicationError as exc:
        _refuse(request, case, "comment", form, exc, None)
    return "Comment added."


def _attach(request, case, actor):
    form = AttachForm(request.POST, request.FILES)
    if not form.is_valid():
        raise Refused("attach", form, 400)
    data = form.cleaned_data
    try:
        with transaction.atomic(), _uploaded(actor, data["file"]) as file_keys:
            services.case_comment(
                actor=actor,
                case=case,
                body=data["description"].strip() or f"Attached {data['file'].name}",
                file_keys=file_keys,
            )
    except ApplicationError as exc:
        _refuse(request, case, "attach", form, exc, None)
    return f"File {data['file'].name} attached."


def _alert_status(request, case, actor):
    if not request.user.has_perm("cases.change_alert"):
        raise PermissionDenied
    raw = request.POST.get("alert", "")
    alert = case.alerts.filter(pk=int(raw)).first() if ID.fullmatch(raw) else None
    if alert is None:
        raise Http404("No such alert on this case.")
    form = AlertStatusForm(request.POST, request.FILES, current=alert.status)
    name = f"alert:{alert.pk}"
    if not form.is_valid():
        raise Refused(name, form, 400)
    data = form.cleaned_data
    try:
        with transaction.atomic(), _uploaded(actor, data.get("file")) as file_keys:
            services.alert_status_change(
                actor=actor,
                alert=alert,
                status=data["status"],
                reason=data["reason"],
                other_reason=data["other_reason"],
                comment=data["comment"],
                file_keys=file_keys,
                expected_version=data["version"],
            )
    except ApplicationError as exc:
        _refuse(request, case, name, form, exc, data["version"], current_version=alert.version)
    return f"Alert {alert.alert_id} is now {data['status'].replace('_', ' ')}."


ACTIONS = {
    "assign": _assign,
    "status": _status,
    "comment": _comment,
    "attach": _attach,
    "alert_status": _alert_status,
}


def _refuse(request, case, name, form, exc, submitted_version, *, current_version=None):
    current = case.version if current_version is None else current_version
    stale = isinstance(exc, ConflictError) and submitted_version is not None and submitted_version != current
    add_refusal(form, exc)
    text = " ".join(refusal_lines(exc))
    if stale:
        # The page is shown again with what changed; the form takes the current version, so a
        # second submission is a deliberate one, made with the other analyst's change in view.
        data = form.data.copy()
        data["version"] = str(current)
        form.data = data
        text = (
            f"Someone else changed this {'alert' if name.startswith('alert:') else 'case'} since you "
            f"opened it (version {submitted_version}, now {current}); your change was not saved. "
            "Check the page below and submit again if it still applies."
        )
    messages.error(request, text)
    raise Refused(name, form, exc.status_code)


def case_action(model_admin, request, case_pk, name: str):
    case = _load_case(case_pk)
    if not model_admin.has_view_permission(request, case):
        raise PermissionDenied
    if request.method != "POST":
        return redirect(_case_url(case.pk))
    if not model_admin.has_change_permission(request, case):
        raise PermissionDenied
    try:
        done = ACTIONS[name](request, case, Actor.from_request(request))
    except Refused as refused:
        return case_page(
            model_admin, request, case.pk, bound={refused.name: refused.form}, status=refused.status
        )
    messages.success(request, done)
    return redirect(_case_url(case.pk))


def file_download(model_admin, request, case_pk, file_pk):
    case = _load_case(case_pk)
    if not model_admin.has_view_permission(request, case):
        raise PermissionDenied
    stored = File.objects.filter(case_files_q(case), pk=file_pk).distinct().first()
    if stored is None:
        raise Http404("No such file on this case.")
    try:
        handle = stored.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing from the storage.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=stored.filename,
        content_type=stored.content_type or "application/octet-stream",
    )
