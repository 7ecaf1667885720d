"""Issue 5, point 6: outgoing webhooks — signed, retried with backoff, logged, redeliverable.

Deliveries go to a real HTTP receiver on 127.0.0.1 (a thread of this process). Celery tasks run
eagerly in this process here, whatever broker the suite runs with; the broker-down case with a
real worker is in test_webhooks_integration.py.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import time_machine
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from compliance import events
from compliance.audit import Actor
from compliance.models import (
    AuditTrail,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from compliance.tasks import deliver_webhook, webhooks_redeliver
from compliance.webhooks import (
    webhook_subscription_create,
    webhook_subscription_rotate_secret,
    webhook_subscription_update,
)
from compliance.webhooks.signing import decrypt

REPO = Path(__file__).resolve().parents[2]
SYSTEM = Actor.system_actor("tests")
ALL_TYPES = [
    "USER_STATE_UPDATED",
    "IRS_STATUS_UPDATED",
    "TRANSACTION_STATUS_UPDATED",
    "CASE_OPENED",
    "CASE_CLOSED",
    "ALERT_OPEN",
    "ALERT_CLOSED",
]


# --- a real receiver ---------------------------------------------------------------------------


class Receiver:
    """An HTTP server on a free local port that records every request and answers from a
    script: an int is a status code, ("sleep", s) waits s seconds before answering 200."""

    def __init__(self, script=()):
        self.script = list(script)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body})
                    step = receiver.script.pop(0) if receiver.script else 200
                if isinstance(step, tuple):
                    time.sleep(step[1])
                    step = 200
                self.send_response(step)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {step}".encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def count(self):
        with self.lock:
            return len(self.requests)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def _tasks_in_this_process(monkeypatch):
    """The sends run here (as on the embedded default), so the test sees each attempt happen."""
    from compliance.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(app.conf, "task_eager_propagates", True)


pytestmark = pytest.mark.django_db


def subscribe(url, types=None, *, active=True, name="core banking"):
    return webhook_subscription_create(
        actor=SYSTEM, name=name, url=url, event_types=types or ALL_TYPES, active=active
    )


def publish_and_dispatch(capture, name, payload):
    """Publish a domain event in a transaction and dispatch it with the real outbox dispatch;
    what the handlers enqueue after commit runs too (the sends, in this process)."""
    with transaction.atomic():
        event = events.publish(name, payload, aggregate_type="tests", aggregate_id=1)
    with capture(execute=True):
        failures = events.dispatch(event.pk)
    assert failures == {}
    return event


def sweep():
    return webhooks_redeliver.apply().get()


# --- signatures ----------------------------------------------------------------------------------


def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's recipe, copied from the README / compliance.webhooks docstring."""
    timestamp = headers["X-Webhook-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False  # too old (or from the future): a replayed request
    signed = timestamp.encode() + b"." + body  # the raw body, as received
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(
        hmac.compare_digest(expected, candidate.removeprefix("v1="))
        for candidate in headers["X-Webhook-Signature"].split()
        if candidate.startswith("v1=")
    )


TX_PAYLOAD = {
    "transactionId": "T-1",
    "status": "BLOCK",
    "previousStatus": "FLAG",
    "reasons": ["False positive"],
    "comment": "checked",
    "triggeredBy": "MANUAL",
}


def test_a_delivery_is_signed_so_the_documented_recipe_verifies_it(
    receiver, django_capture_on_commit_callbacks
):
    _, secret = subscribe(receiver.url)
    event = publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)

    assert receiver.count == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    assert headers["Content-Type"] == "application/json"
    assert verify(secret, headers, body)
    assert not verify("whsec_another", headers, body)
    assert not verify(secret, headers, body + b" ")  # a changed body fails
    stale = {**headers, "X-Webhook-Timestamp": str(int(headers["X-Webhook-Timestamp"]) - 301)}
    assert not verify(secret, stale, body)  # the timestamp is signed: it cannot be refreshed

    envelope = json.loads(body)
    assert list(envelope) == ["type", "data", "id", "triggeredBy", "createdTimestamp"]
    assert envelope == {
        "type": "TRANSACTION_STATUS_UPDATED",
        "data": {
            "transactionId": "T-1",
            "reasons": ["False positive"],
            "status": "BLOCK",
            "comment": "checked",
        },
        "id": headers["X-Webhook-Id"],
        "triggeredBy": "MANUAL",
        "createdTimestamp": int(event.created_at.timestamp() * 1000),
    }
    assert headers["X-Webhook-Type"] == "TRANSACTION_STATUS_UPDATED"
    delivery = WebhookDelivery.objects.get()
    assert str(delivery.pk) == envelope["id"]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_after_a_rotation_both_secrets_sign_until_the_grace_ends(
    receiver, django_capture_on_commit_callbacks
):
    subscription, old = subscribe(receiver.url)
    new = webhook_subscription_rotate_secret(actor=SYSTEM, subscription=subscription)
    assert new != old
    publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
    request = receiver.requests[-1]
    assert len(request["headers"]["X-Webhook-Signature"].split()) == 2
    assert verify(new, request["headers"], request["body"])
    assert verify(old, request["headers"], request["body"])

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
        request = receiver.requests[-1]
        assert len(request["headers"]["X-Webhook-Signature"].split()) == 1
        assert verify(new, request["headers"], request["body"])
        assert not verify(old, request["headers"], request["body"])


# --- retries -------------------------------------------------------------------------------------


def test_a_receiver_failing_twice_then_answering_gets_three_attempts_of_one_delivery(
    django_capture_on_commit_callbacks,
):
    with Receiver([500, 500, 200]) as receiver:
        subscribe(receiver.url)
        start = timezone.now()
        publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        assert delivery.last_error.startswith("HTTP 500")

        assert sweep() == 0  # the backoff (30 s) has not passed: nothing is due
        with time_machine.travel(start + timedelta(seconds=31)):
            assert sweep() == 1  # second attempt, 500 again: next in 60 s
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 2)
        with time_machine.travel(start + timedelta(seconds=31 + 40)):
            assert sweep() == 0
        with time_machine.travel(start + timedelta(seconds=31 + 61)):
            assert sweep() == 1  # third attempt answered 200
            assert sweep() == 0  # and nothing is left to send

        assert receiver.count == 3
        ids = {r["headers"]["X-Webhook-Id"] for r in receiver.requests}
        assert ids == {str(delivery.pk)}  # the same id each time: receivers de-duplicate on it
        assert len({r["body"] for r in receiver.requests}) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert WebhookDelivery.objects.count() == 1
    attempts = list(delivery.attempt_log.order_by("number"))
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 500), (3, 200)]
    assert all(a.latency_ms >= 0 and a.url == receiver.url for a in attempts)
    assert attempts[0].response_excerpt == "answer 500"


def test_a_timeout_is_a_failed_attempt(settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    with Receiver([("sleep", 1.0)]) as receiver:
        subscribe(receiver.url)
        publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
    delivery = WebhookDelivery.objects.get()
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    assert attempt.error == "Timed out after 0.3 s"
    assert 250 <= attempt.latency_ms < 1000
    assert (delivery.status, delivery.last_error) == ("pending", "Timed out after 0.3 s")
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)


def test_an_unreachable_receiver_is_retried(django_capture_on_commit_callbacks):
    with Receiver() as closed:
        url = closed.url
    subscribe(url)  # nothing listens there any more
    publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.last_error.startswith("Connection failed")


@pytest.mark.parametrize("status", [302, 404, 503])
def test_non_2xx_answers_are_retried_then_the_delivery_fails(
    settings, status, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver([status] * 5) as receiver:
        subscribe(receiver.url)
        start = timezone.now()
        publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
        for minutes in (1, 3, 10, 60):  # past each backoff (30 s, 60 s), then well after
            with time_machine.travel(start + timedelta(minutes=minutes)):
                sweep()
        assert receiver.count == 3  # a 302 is not followed: it is one failed attempt
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, status)


def test_the_backoff_doubles_and_is_capped(settings):
    from compliance.webhooks.delivery import backoff

    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30
    settings.WEBHOOK_BACKOFF_MAX_SECONDS = 300
    assert [backoff(n).total_seconds() for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]


def test_an_attempt_is_claimed_once(receiver, django_capture_on_commit_callbacks):
    """Two copies of the same task (a redelivered message, the sweep's copy): one sends."""
    subscribe(receiver.url)
    with transaction.atomic():
        event = events.publish("transaction.status_changed", TX_PAYLOAD)
    with django_capture_on_commit_callbacks(execute=False):  # the first send is not run...
        events.dispatch(event.pk)
    delivery = WebhookDelivery.objects.get()
    results = [deliver_webhook.apply(args=[str(delivery.pk), 0]) for _ in range(2)]  # ...but twice here
    assert all(r.successful() for r in results)
    assert receiver.count == 1
    assert WebhookAttempt.objects.count() == 1


def test_a_broker_outage_leaves_the_delivery_to_the_sweep(
    receiver, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to broker. Connection refused.")

    subscribe(receiver.url)
    with monkeypatch.context() as patch:
        patch.setattr(deliver_webhook, "delay", broker_down)
        publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
    assert receiver.count == 0
    assert WebhookDelivery.objects.get().status == "pending"
    assert sweep() == 0  # the grace for the after-commit task has not passed
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert sweep() == 1
    assert receiver.count == 1
    assert WebhookDelivery.objects.get().status == "delivered"


# --- which events go where -------------------------------------------------------------------------

CASE_OPENED = {
    "caseId": "C-1",
    "status": "OPEN",
    "priority": "P1",
    "source": "RULE",
    "userId": "U-1",
    "transactionIds": ["T-1", "T-2"],
    "reasons": ["Rule hit"],
    "comment": "opened by rule R-1",
}
CASE_CLOSED = {
    "caseId": "C-1",
    "status": "CLOSED",
    "reasons": ["Other"],
    "reasonDescriptionForOther": "duplicate",
    "comment": "closing",
    "userId": "U-1",
    "transactionIds": ["T-1"],
}
ALERT_OPEN = {
    "alertId": "A-1",
    "status": "OPEN",
    "transactionIds": ["T-1"],
    "ruleName": "Large amount",
    "ruleDescription": "Amount over threshold",
    "ruleId": "R-1",
    "ruleInstanceId": "7",
    "caseId": "C-1",
    "userId": "U-1",
}
ALERT_CLOSED = {
    "alertId": "A-1",
    "status": "CLOSED",
    "reasons": ["False positive"],
    "reasonDescriptionForOther": "",
    "comment": "fine",
    "userId": "U-1",
    "transactionIds": ["T-1"],
    "ruleName": "Large amount",
    "ruleDescription": "Amount over threshold",
    "ruleId": "R-1",
    "ruleInstanceId": "7",
}
TX_DATA = {k: TX_PAYLOAD[k] for k in ("transactionId", "reasons", "status", "comment")}
STATE = {"state": "BLOCKED", "reason": "rule hit"}
KYC = {"status": "FAILED", "reason": "documents expired"}


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("transaction.status_changed", TX_PAYLOAD, [("TRANSACTION_STATUS_UPDATED", TX_DATA)]),
        ("case.opened", {**CASE_OPENED, "triggeredBy": "SYSTEM"}, [("CASE_OPENED", CASE_OPENED)]),
        ("case.closed", {**CASE_CLOSED, "triggeredBy": "MANUAL"}, [("CASE_CLOSED", CASE_CLOSED)]),
        ("alert.opened", {**ALERT_OPEN, "triggeredBy": "SYSTEM"}, [("ALERT_OPEN", ALERT_OPEN)]),
        ("alert.closed", {**ALERT_CLOSED, "triggeredBy": "MANUAL"}, [("ALERT_CLOSED", ALERT_CLOSED)]),
        (
            "user.status_changed",
            {"userId": "U-1", "cause": "c", "userStateDetails": STATE, "triggeredBy": "SYSTEM"},
            [("USER_STATE_UPDATED", {"userId": "U-1", **STATE})],
        ),
        (
            "user.status_changed",
            {"userId": "U-1", "cause": "c", "kycStatusDetails": KYC, "triggeredBy": "API"},
            [("IRS_STATUS_UPDATED", {"userId": "U-1", **KYC})],
        ),
        (
            "user.status_changed",
            {"userId": "U-1", "userStateDetails": STATE, "kycStatusDetails": KYC, "triggeredBy": "API"},
            [
                ("USER_STATE_UPDATED", {"userId": "U-1", **STATE}),
                ("IRS_STATUS_UPDATED", {"userId": "U-1", **KYC}),
            ],
        ),
    ],
)
def test_each_domain_event_becomes_its_webhook_type_and_data(
    receiver, name, payload, expected, django_capture_on_commit_callbacks
):
    subscribe(receiver.url)
    publish_and_dispatch(django_capture_on_commit_callbacks, name, payload)
    sent = sorted(
        (json.loads(r["body"]) for r in receiver.requests), key=lambda e: ALL_TYPES.index(e["type"])
    )
    assert [(e["type"], e["data"]) for e in sent] == expected
    assert {e["triggeredBy"] for e in sent} == {payload["triggeredBy"]}
    assert len({e["id"] for e in sent}) == len(expected)


def test_an_unknown_trigger_is_sent_as_system(receiver, django_capture_on_commit_callbacks):
    subscribe(receiver.url)
    publish_and_dispatch(
        django_capture_on_commit_callbacks, "transaction.status_changed", {**TX_PAYLOAD, "triggeredBy": "?"}
    )
    assert json.loads(receiver.requests[0]["body"])["triggeredBy"] == "SYSTEM"


def test_only_active_subscriptions_of_the_type_receive_it(django_capture_on_commit_callbacks):
    with Receiver() as wanted, Receiver() as other_type, Receiver() as inactive:
        subscribe(wanted.url, ["TRANSACTION_STATUS_UPDATED", "CASE_OPENED"], name="wanted")
        subscribe(other_type.url, ["CASE_CLOSED"], name="other type")
        subscribe(inactive.url, ["TRANSACTION_STATUS_UPDATED"], active=False, name="inactive")
        publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
        publish_and_dispatch(django_capture_on_commit_callbacks, "customer.created", {"customerId": 1})
        assert (wanted.count, other_type.count, inactive.count) == (1, 0, 0)
    assert WebhookDelivery.objects.get().subscription.name == "wanted"


def test_a_second_dispatch_of_the_event_creates_no_second_delivery(
    receiver, django_capture_on_commit_callbacks
):
    from compliance.webhooks.envelopes import deliveries_create

    subscribe(receiver.url)
    event = publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_create(OutboxEvent.objects.get(pk=event.pk)) == []
    assert WebhookDelivery.objects.count() == 1
    assert receiver.count == 1


def test_a_subscription_deactivated_before_the_send_fails_the_delivery_without_sending(
    receiver, django_capture_on_commit_callbacks
):
    subscription, _ = subscribe(receiver.url)
    with transaction.atomic():
        event = events.publish("transaction.status_changed", TX_PAYLOAD)
    with django_capture_on_commit_callbacks(execute=False) as sends:
        events.dispatch(event.pk)
    webhook_subscription_update(actor=SYSTEM, subscription=subscription, active=False)
    for send in sends:
        send()
    delivery = WebhookDelivery.objects.get()
    assert receiver.count == 0
    assert delivery.status == "failed"
    assert "inactive" in delivery.last_error


# --- users: state and KYC status changes through the API publish the event ------------------------


def test_a_user_event_changing_state_and_kyc_status_is_sent_as_two_webhooks(
    receiver, integrator_client, django_capture_on_commit_callbacks
):
    from tests.users.test_user_api import INDIVIDUAL_EVENT_REQUEST, INDIVIDUAL_ID, post, post_individual

    subscribe(receiver.url)
    post_individual(integrator_client)
    with django_capture_on_commit_callbacks(execute=False):
        response = post(
            integrator_client, "individual-user-event-list", copy.deepcopy(INDIVIDUAL_EVENT_REQUEST)
        )
    assert response.status_code == 200, response.json()
    event = OutboxEvent.objects.get(name="user.status_changed")
    assert event.payload["triggeredBy"] == "API"
    with django_capture_on_commit_callbacks(execute=True):
        events.dispatch(event.pk)

    sent = {e["type"]: e for e in (json.loads(r["body"]) for r in receiver.requests)}
    assert sent["USER_STATE_UPDATED"]["data"] == {
        "userId": INDIVIDUAL_ID,
        "reason": "KYC Successful",
        "state": "ACTIVE",
    }
    assert sent["IRS_STATUS_UPDATED"]["data"] == {
        "userId": INDIVIDUAL_ID,
        "reason": "KYC Successful",
        "status": "SUCCESSFUL",
    }
    assert {e["triggeredBy"] for e in sent.values()} == {"API"}


def test_a_state_changed_in_the_admin_is_manual(analyst):
    from tests.users.conftest import create_customer
    from users.services.customers import customer_update

    customer = create_customer(ref="U-ADMIN")
    with transaction.atomic():
        customer_update(actor=Actor(user=analyst), customer=customer, fields={"user_state": "BLOCKED"})
        customer_update(actor=Actor(user=analyst), customer=customer, fields={"first_name": "Other"})
    event = OutboxEvent.objects.get(name="user.status_changed")  # only the state change publishes
    assert event.payload["triggeredBy"] == "MANUAL"
    assert event.payload["userStateDetails"]["state"] == "BLOCKED"


# --- secrets and subscriptions ------------------------------------------------------------------------


def test_secrets_are_encrypted_at_rest():
    subscription, secret = subscribe("https://hooks.example.com/in")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {WebhookSubscription._meta.db_table} WHERE id = %s",  # noqa: S608
            [subscription.pk],
        )
        row = cursor.fetchone()
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    assert not any(secret in str(value) for value in row)
    assert decrypt(WebhookSubscription.objects.get().secret_encrypted) == secret
    # ...and never in the audit trail
    assert not any(secret in json.dumps(row.after, default=str) for row in AuditTrail.objects.all())
    assert not any("secret_encrypted" in (row.after or {}) for row in AuditTrail.objects.all())


def test_urls_are_validated(settings):
    from compliance.errors import ApplicationError

    with pytest.raises(ApplicationError) as error:
        subscribe("ftp://hooks.example.com/in")
    assert "url" in error.value.errors
    with pytest.raises(ApplicationError) as error:
        subscribe("https://hooks.example.com/in", ["USER_STATE_UPDATED", "NOPE"])
    assert "event_types" in error.value.errors
    settings.WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ApplicationError) as error:
        subscribe("http://hooks.example.com/in")
    assert "https" in str(error.value.errors["url"])
    assert subscribe("https://hooks.example.com/in")[0].pk


def test_production_refuses_to_start_without_a_secrets_key():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "WEBHOOK_SECRETS_KEY"}}
    env.update(SECRET_KEY="x" * 50)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "WEBHOOK_SECRETS_KEY must be set" in result.stderr


def test_the_sweep_is_scheduled_by_beat():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="compliance.webhooks_redeliver")
    assert (task.enabled, task.interval.every, task.expire_seconds) == (True, 30, 25)


# --- the admin --------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, compliance_admin):
    compliance_admin.is_staff = True
    compliance_admin.save()
    client.force_login(compliance_admin)
    return client


def test_the_admin_creates_a_subscription_and_shows_its_secret_once(admin_client, compliance_admin):
    response = admin_client.post(
        reverse("admin:compliance_webhooksubscription_add"),
        {
            "name": "core",
            "url": "https://hooks.example.com/in",
            "event_types": ["CASE_OPENED", "ALERT_OPEN"],
            "active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    secret = decrypt(subscription.secret_encrypted)
    assert secret in response.content.decode()  # shown this once...
    assert subscription.event_types == ["ALERT_OPEN", "CASE_OPENED"]
    page = admin_client.get(reverse("admin:compliance_webhooksubscription_change", args=[subscription.pk]))
    assert secret not in page.content.decode()  # ...and never again
    audit = AuditTrail.objects.get(object_type="compliance.webhooksubscription", action="create")
    assert audit.actor_user == compliance_admin

    response = admin_client.post(
        reverse("admin:compliance_webhooksubscription_changelist"),
        {"action": "rotate_secret", "_selected_action": [subscription.pk]},
        follow=True,
    )
    subscription.refresh_from_db()
    new = decrypt(subscription.secret_encrypted)
    assert new != secret
    assert new in response.content.decode()
    assert (
        AuditTrail.objects.filter(object_type="compliance.webhooksubscription", action="update").count() == 1
    )


def test_the_admin_refuses_a_bad_url_with_a_message(admin_client):
    response = admin_client.post(
        reverse("admin:compliance_webhooksubscription_add"),
        {"name": "core", "url": "ftp://hooks.example.com", "event_types": ["CASE_OPENED"]},
    )
    assert response.status_code == 200
    assert "Enter a valid URL" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_the_admin_redelivers_a_failed_delivery(
    settings, admin_client, compliance_admin, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    with Receiver([500, 200]) as receiver:
        subscribe(receiver.url)
        publish_and_dispatch(django_capture_on_commit_callbacks, "transaction.status_changed", TX_PAYLOAD)
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "failed"

        changelist = reverse("admin:compliance_webhookdelivery_changelist")
        for query in ("", "?status__exact=failed", "?attempts=1", "?latency=fast", "?q=core"):
            assert admin_client.get(changelist + query).status_code == 200
        page = admin_client.get(reverse("admin:compliance_webhookdelivery_change", args=[delivery.pk]))
        assert "answer 500" in page.content.decode()  # the attempts are listed with the answer

        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                changelist, {"action": "redeliver", "_selected_action": [delivery.pk]}, follow=True
            )
        assert response.status_code == 200
        assert receiver.count == 2
        assert (
            receiver.requests[0]["headers"]["X-Webhook-Id"] == receiver.requests[1]["headers"]["X-Webhook-Id"]
        )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert delivery.attempt_log.count() == 2
    audit = AuditTrail.objects.get(object_type="compliance.webhookdelivery")
    assert audit.actor_user == compliance_admin
    assert audit.before == {"status": "failed", "attempts": 1}


def test_analysts_see_no_webhooks(client, analyst):
    analyst.is_staff = True
    analyst.save()
    client.force_login(analyst)
    assert client.get(reverse("admin:compliance_webhooksubscription_changelist")).status_code == 403
    assert client.get(reverse("admin:compliance_webhookdelivery_changelist")).status_code == 403
