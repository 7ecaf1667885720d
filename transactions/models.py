"""Transactions posted by integrators (seed 004 "User/Transactions") and their events.

A transaction is stored with the columns the rule engine filters and aggregates on
(users, time, amounts, currencies, countries, payment methods and identifiers) and the
nested seed documents as posted (payment details, device data, tags) in JSON. The rule
results are stored with it exactly as answered, so a GET or a replay answers the same
document the POST did.
"""

from django.db import models
from django.utils import timezone


class TransactionType(models.TextChoices):
    DEPOSIT = "DEPOSIT"
    TRANSFER = "TRANSFER"
    EXTERNAL_PAYMENT = "EXTERNAL_PAYMENT"
    WITHDRAWAL = "WITHDRAWAL"
    REFUND = "REFUND"
    OTHER = "OTHER"


class TransactionState(models.TextChoices):
    CREATED = "CREATED"
    PROCESSING = "PROCESSING"
    SENT = "SENT"
    EXPIRED = "EXPIRED"
    DECLINED = "DECLINED"
    SUSPENDED = "SUSPENDED"
    REFUNDED = "REFUNDED"
    SUCCESSFUL = "SUCCESSFUL"
    REVERSED = "REVERSED"


class PaymentMethod(models.TextChoices):
    CARD = "CARD"
    GENERIC_BANK_ACCOUNT = "GENERIC_BANK_ACCOUNT"
    IBAN = "IBAN"
    ACH = "ACH"
    SWIFT = "SWIFT"
    MPESA = "MPESA"
    UPI = "UPI"
    WALLET = "WALLET"
    CHECK = "CHECK"
    CASH = "CASH"


class RuleAction(models.TextChoices):
    """A rule's action and a transaction's decision (`status`), weakest first."""

    ALLOW = "ALLOW"
    FLAG = "FLAG"
    SUSPEND = "SUSPEND"
    BLOCK = "BLOCK"

    @classmethod
    def strongest(cls, actions) -> str:
        order = list(cls.values)
        return max(actions, key=order.index, default=cls.ALLOW)


class Transaction(models.Model):
    """One verified transaction (`POST /api/transactions`)."""

    transaction_id = models.CharField(max_length=200, unique=True, help_text="The integrator's id.")
    type = models.CharField(max_length=20, choices=TransactionType.choices)
    timestamp = models.DateTimeField(help_text="When the transaction happened (seed `timestamp`, ms).")
    transaction_state = models.CharField(
        max_length=12, choices=TransactionState.choices, blank=True, help_text="Latest state."
    )
    # No index of their own: the (user, timestamp) indexes below serve every lookup by user, and each
    # index is written again on every verified transaction (issue 4 benchmark).
    origin_user = models.ForeignKey(
        "users.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    destination_user = models.ForeignKey(
        "users.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # The userIds as posted: a customer's reference is freed when it is deleted.
    origin_user_ref = models.CharField(max_length=100, blank=True)
    destination_user_ref = models.CharField(max_length=100, blank=True)

    origin_amount = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    origin_currency = models.CharField(max_length=3, blank=True)
    origin_country = models.CharField(max_length=2, blank=True)
    origin_amount_base = models.DecimalField(
        max_digits=24,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="The origin amount in the base currency (null when its rate is unknown): what sums add up.",
    )
    destination_amount = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    destination_currency = models.CharField(max_length=3, blank=True)
    destination_country = models.CharField(max_length=2, blank=True)
    destination_amount_base = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)

    origin_payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices, blank=True)
    destination_payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices, blank=True)
    origin_payment_details = models.JSONField(default=dict, blank=True)
    destination_payment_details = models.JSONField(default=dict, blank=True)
    origin_payment_identifier = models.CharField(
        max_length=200,
        blank=True,
        help_text="`METHOD:value` of the payment instrument (card fingerprint, IBAN, wallet id...): "
        "what velocity and blocked-list rules key on.",
    )
    destination_payment_identifier = models.CharField(max_length=200, blank=True)
    origin_device_data = models.JSONField(default=dict, blank=True)
    destination_device_data = models.JSONField(default=dict, blank=True)

    product_type = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=500, blank=True)
    promotion_code_used = models.BooleanField(null=True, blank=True)
    related_transaction_ids = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True, help_text="`[{key, value}]`")

    # --- the verdict, as answered --------------------------------------------------
    is_first_transaction = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=RuleAction.choices, default=RuleAction.ALLOW, help_text="The decision."
    )
    executed_rules = models.JSONField(default=list, blank=True)
    hit_rules = models.JSONField(default=list, blank=True)
    rule_errors = models.JSONField(default=list, blank=True)
    risk_score_details = models.JSONField(default=dict, blank=True)

    payload_digest = models.CharField(max_length=64, help_text="To tell a replay from a conflicting re-use.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["origin_user", "timestamp"], name="tx_origin_user_time"),
            models.Index(fields=["destination_user", "timestamp"], name="tx_destination_user_time"),
            models.Index(fields=["origin_payment_identifier", "timestamp"], name="tx_origin_payment_time"),
            models.Index(
                fields=["destination_payment_identifier", "timestamp"], name="tx_destination_payment_time"
            ),
            models.Index(fields=["timestamp"], name="tx_time"),
            # The list's userId filters and the admin's search read the refs as posted.
            models.Index(fields=["origin_user_ref", "timestamp"], name="tx_origin_ref_time"),
            models.Index(fields=["destination_user_ref", "timestamp"], name="tx_destination_ref_time"),
            models.Index(fields=["status", "timestamp"], name="tx_status_time"),
        ]

    def __str__(self):
        return self.transaction_id


class TransactionRuleHit(models.Model):
    """One rule instance that hit a transaction: what the list's "rule hit" filter, backtests
    and case handlers query without opening the stored JSON."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="rule_hits")
    rule_instance_id = models.CharField(max_length=40)
    rule_id = models.CharField(max_length=40)
    version_id = models.CharField(max_length=40)
    action = models.CharField(max_length=10, choices=RuleAction.choices)
    is_shadow = models.BooleanField(default=False)
    hit_directions = models.JSONField(default=list, blank=True)
    timestamp = models.DateTimeField(help_text="The transaction's time, for period queries.")

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["rule_instance_id", "timestamp"], name="tx_hit_instance_time"),
            models.Index(fields=["rule_id", "timestamp"], name="tx_hit_rule_time"),
        ]

    def __str__(self):
        return f"{self.rule_instance_id} on {self.transaction_id}"


class TransactionEvent(models.Model):
    """One `POST /api/events/transaction`: a state change and attribute updates, kept as history."""

    event_id = models.CharField(max_length=200, unique=True)
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="events")
    timestamp = models.DateTimeField()
    transaction_state = models.CharField(max_length=12, choices=TransactionState.choices)
    previous_state = models.CharField(max_length=12, choices=TransactionState.choices, blank=True)
    event_description = models.TextField(blank=True)
    reason = models.CharField(max_length=500, blank=True)
    updated_transaction_attributes = models.JSONField(default=dict, blank=True, help_text="As sent.")
    meta_data = models.JSONField(default=dict, blank=True)
    # The transaction's verdict after this event (re-run rules included), as answered.
    status = models.CharField(max_length=10, choices=RuleAction.choices, default=RuleAction.ALLOW)
    executed_rules = models.JSONField(default=list, blank=True)
    hit_rules = models.JSONField(default=list, blank=True)
    rule_errors = models.JSONField(default=list, blank=True)
    risk_score_details = models.JSONField(default=dict, blank=True)
    payload_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["transaction", "timestamp"], name="tx_event_transaction_time")]

    def __str__(self):
        return self.event_id


class ExchangeRate(models.Model):
    """How many units of the base currency (settings.BASE_CURRENCY) one unit of `currency` is
    worth. Velocity sums and thresholds across currencies compare base amounts."""

    currency = models.CharField(max_length=3, unique=True)
    rate_to_base = models.DecimalField(max_digits=24, decimal_places=10)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_to_base__gt=0),
                name="tx_exchange_rate_positive",
                violation_error_message="A rate must be positive.",
            )
        ]

    def __str__(self):
        return f"{self.currency} {self.rate_to_base}"


class Batch(models.Model):
    """A batch posted to one of the six seed 002 batch endpoints: its items are stored when it is
    posted and applied by workers, chunk by chunk (`transactions.batches`)."""

    class Kind(models.TextChoices):
        TRANSACTIONS = "transactions", "transactions"
        TRANSACTION_EVENTS = "transaction_events", "transaction events"
        CONSUMER_USERS = "consumer_users", "consumer users"
        BUSINESS_USERS = "business_users", "business users"
        CONSUMER_USER_EVENTS = "consumer_user_events", "consumer user events"
        BUSINESS_USER_EVENTS = "business_user_events", "business user events"

    class Status(models.TextChoices):
        QUEUED = "QUEUED"
        PROCESSING = "PROCESSING"
        DONE = "DONE"
        DONE_WITH_ERRORS = "DONE_WITH_ERRORS"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    batch_id = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # sha256 of the canonical JSON of the items: a re-post of the batchId is the same batch or a 409.
    items_digest = models.CharField(max_length=64)
    # Who posted it: the workers apply the items as them (audit trail, permissions of the post).
    created_by = models.CharField(max_length=200, blank=True)
    created_by_user = models.ForeignKey(
        "compliance.StaffUser", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_api_key = models.ForeignKey(
        "compliance.ApiKey", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "batches"
        constraints = [models.UniqueConstraint(fields=["kind", "batch_id"], name="batch_kind_batch_id")]
        indexes = [models.Index(fields=["status", "created_at"], name="batch_status_created")]

    def __str__(self):
        return f"{self.get_kind_display()} batch {self.batch_id}"

    @property
    def duration(self):
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class BatchItem(models.Model):
    """One item of a batch, as posted, and what applying it gave: the stored object's id or errors."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        OK = "OK"
        ERROR = "ERROR"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    # As posted: any JSON value (a JSON null is stored as NULL); not an object is an item error.
    payload = models.JSONField(null=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # [{"property": ..., "issue": ...}] as a 400 body lists them.
    errors = models.JSONField(default=list, blank=True)
    # The stored object's id: transactionId, eventId or userId.
    result_ref = models.CharField(max_length=200, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="batch_item_batch_position")
        ]
        indexes = [models.Index(fields=["batch", "status", "position"], name="batch_item_batch_status")]

    def __str__(self):
        return f"item {self.position} of batch {self.batch_id}"
