"""Sending a delivery: claim an attempt, sign, POST, log the attempt, schedule the retry.

An attempt is claimed with a conditional UPDATE on the delivery's `revision` (the healthchecks
way): of two workers holding the same task, or a task and the sweep's copy, one claims and
the other does nothing. The claim also pushes `next_attempt_at` past the longest a POST can
take, so the sweep leaves an attempt in flight alone; if the worker dies mid-POST, the sweep
sends again after that lease (at-least-once: receivers de-duplicate on the envelope id).
No database transaction is held open during the POST.
"""

from __future__ import annotations

import http.client
import logging
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from compliance.models import WebhookAttempt, WebhookDelivery
from compliance.webhooks.envelopes import render
from compliance.webhooks.signing import signature_header, signing_secrets

logger = logging.getLogger(__name__)

USER_AGENT = "compliance-backoffice-webhooks/1.0"
EXCERPT_BYTES = 1000
Status = WebhookDelivery.Status


def enqueue_delivery(delivery_id, revision: int) -> None:
    """Ask a worker to send one attempt. Broker down: logged, and the sweep sends it later."""
    from compliance.tasks import deliver_webhook

    try:
        deliver_webhook.delay(str(delivery_id), revision)
    except Exception:
        logger.warning(
            "Could not enqueue webhook delivery %s; the sweep will send it", delivery_id, exc_info=True
        )


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: base * 2^(n-1) seconds, capped."""
    seconds = settings.WEBHOOK_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_BACKOFF_MAX_SECONDS))


def _lease() -> timedelta:
    # urllib's timeout bounds each network step (connect, send, read headers, read body).
    return timedelta(seconds=4 * settings.WEBHOOK_TIMEOUT_SECONDS + 60)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook is answered where it was sent: a 3xx is a failed attempt, not a new target."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _excerpt(stream) -> str:
    try:
        return stream.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException):
        return ""


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, str]:
    """POST once. Answers (status code or None, response body excerpt, error or "")."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http/https only: validate_webhook_url)
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, _excerpt(response), ""
    except urllib.error.HTTPError as exc:  # a non-2xx answer (3xx included: no redirects)
        with exc:
            return exc.code, _excerpt(exc), ""
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            return None, "", f"Timed out after {timeout:g} s"
        return None, "", f"Connection failed: {exc.reason}"
    except TimeoutError:
        return None, "", f"Timed out after {timeout:g} s"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, "", f"{type(exc).__name__}: {exc}"


def delivery_attempt(delivery_id, revision: int) -> WebhookAttempt | None:
    """Send one attempt of a pending delivery whose revision is `revision`; answers the attempt
    logged, or None when there was nothing to send (delivered, failed, claimed by another)."""
    delivery = (
        WebhookDelivery.objects.select_related("subscription")
        .filter(pk=delivery_id, status=Status.PENDING, revision=revision)
        .first()
    )
    if delivery is None:
        return None
    subscription = delivery.subscription
    now = timezone.now()
    if not subscription.active:
        WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PENDING, revision=revision).update(
            status=Status.FAILED,
            revision=revision + 1,
            last_error="The subscription is inactive: nothing was sent. Redeliver after activating it.",
        )
        return None
    number = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PENDING, revision=revision).update(
        revision=revision + 1, attempts=number, next_attempt_at=now + _lease()
    )
    if not claimed:
        return None

    body = render(delivery.envelope)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": str(delivery.pk),
        "X-Webhook-Type": delivery.event_type,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": signature_header(signing_secrets(subscription), timestamp, body),
    }
    started_at = timezone.now()
    clock = time.perf_counter()
    status_code, excerpt, error = post(subscription.url, body, headers)
    latency_ms = round((time.perf_counter() - clock) * 1000)
    succeeded = not error and status_code is not None and 200 <= status_code < 300

    finished = timezone.now()
    outcome = {"last_status_code": status_code, "last_latency_ms": latency_ms}
    if succeeded:
        outcome.update(status=Status.DELIVERED, delivered_at=finished, last_error="")
    else:
        outcome["last_error"] = error or f"HTTP {status_code}: {excerpt[:200]}".rstrip(": ")
        if number >= settings.WEBHOOK_MAX_ATTEMPTS:
            outcome["status"] = Status.FAILED
        else:
            outcome["next_attempt_at"] = finished + backoff(number)
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started_at,
            url=subscription.url,
            latency_ms=latency_ms,
            status_code=status_code,
            error=error,
            response_excerpt=excerpt,
        )
        # A redelivery asked for meanwhile moved the revision on: this attempt stays in the
        # log, the new round decides the delivery's state.
        WebhookDelivery.objects.filter(pk=delivery.pk, revision=revision + 1).update(**outcome)
    log = logger.info if succeeded else logger.warning
    log(
        "Webhook %s (%s) attempt %d to %s: %s in %d ms",
        delivery.pk,
        delivery.event_type,
        number,
        subscription.name,
        status_code if status_code is not None else error,
        latency_ms,
    )
    return attempt


def deliveries_due(*, limit: int = 500) -> list[tuple]:
    """(id, revision) of the pending deliveries whose next attempt is due, oldest first."""
    return list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", "revision")[:limit]
    )


def redeliver_due(*, limit: int = 500) -> int:
    """The sweep: enqueue an attempt of every due delivery. Answers how many.

    Each one is given WEBHOOK_SWEEP_GRACE before the next sweep enqueues it again, so a slow
    queue does not fill with copies (a copy would do nothing: the claim lets one through)."""
    due = deliveries_due(limit=limit)
    if not due:
        return 0
    WebhookDelivery.objects.filter(
        pk__in=[pk for pk, _ in due], status=Status.PENDING, next_attempt_at__lte=timezone.now()
    ).update(next_attempt_at=timezone.now() + settings.WEBHOOK_SWEEP_GRACE)
    for pk, revision in due:
        enqueue_delivery(pk, revision)
    return len(due)
