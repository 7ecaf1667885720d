"""Outgoing webhooks: domain events pushed to integrators' URLs, signed, retried, logged.

Webhooks are one more outbox handler (`compliance.events`). When a domain event below is
dispatched, `envelopes.deliveries_create` writes one `WebhookDelivery` per (event, active
subscription, webhook type) in the dispatch's transaction, and enqueues a send per delivery
after commit. Nothing is lost when the broker or the receiver is down: the delivery row
exists once the event is dispatched, and the sweep (`compliance.webhooks_redeliver`, every
30 s by beat) sends what is due (retries, and deliveries whose task never reached a worker).

    domain event                  webhook type(s)
    user.status_changed           USER_STATE_UPDATED and/or IRS_STATUS_UPDATED
    transaction.status_changed    TRANSACTION_STATUS_UPDATED
    case.opened / case.closed     CASE_OPENED / CASE_CLOSED
    alert.opened / alert.closed   ALERT_OPEN / ALERT_CLOSED

What is sent: a POST of `{type, data, id, triggeredBy, createdTimestamp}` (seed 004) as JSON.
`id` is stable per (event, subscription, type): the same on every retry and redelivery, so a
receiver de-duplicates on it. `createdTimestamp` is when the domain event happened (epoch ms).

Headers:
    X-Webhook-Id: <the envelope's id>
    X-Webhook-Type: <the envelope's type>
    X-Webhook-Timestamp: <unix seconds when this attempt was signed>
    X-Webhook-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>
After a secret rotation the header carries two signatures for a while, separated by a
space (`v1=<new> v1=<old>`); a receiver accepts the request if any of them matches.

Verifying, on the receiver (Python):

    import hashlib, hmac, time

    def verify(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
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

A 2xx answer is success. Anything else (other status, connection error, timeout after
WEBHOOK_TIMEOUT_SECONDS) is retried with exponential backoff, at most WEBHOOK_MAX_ATTEMPTS
times; then the delivery is "failed" and can be redelivered from the admin. Redirects are not
followed (a 3xx is a failed attempt). Every attempt is logged (`WebhookAttempt`).
"""

from compliance.webhooks import envelopes  # noqa: F401  (registers the outbox handlers)
from compliance.webhooks.delivery import delivery_attempt, enqueue_delivery, redeliver_due
from compliance.webhooks.services import (
    webhook_deliveries_redeliver,
    webhook_subscription_create,
    webhook_subscription_rotate_secret,
    webhook_subscription_update,
)

__all__ = [
    "delivery_attempt",
    "enqueue_delivery",
    "redeliver_due",
    "webhook_deliveries_redeliver",
    "webhook_subscription_create",
    "webhook_subscription_rotate_secret",
    "webhook_subscription_update",
]
