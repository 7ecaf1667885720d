"""What transaction monitoring tells the customer's ongoing risk (CRA), one row per customer and day.

Transactions live in a higher app (`transactions`), so the risk model cannot read them;
the monitoring handler writes these daily counts instead, and the "Transaction
Monitoring" risk factor scores them (users.risk.factors.transaction_monitoring).
"""

from django.db import models


class MonitoringActivity(models.Model):
    customer = models.ForeignKey("users.Customer", on_delete=models.CASCADE, related_name="monitoring_days")
    day = models.DateField()
    transactions = models.PositiveIntegerField(default=0, help_text="Transactions sent or received.")
    flagged = models.PositiveIntegerField(default=0, help_text="Rule hits with action FLAG.")
    suspended = models.PositiveIntegerField(default=0, help_text="Rule hits with action SUSPEND.")
    blocked = models.PositiveIntegerField(default=0, help_text="Rule hits with action BLOCK.")

    class Meta:
        ordering = ["customer", "-day"]
        verbose_name_plural = "monitoring activity"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "day"],
                name="users_monitoring_customer_day_unique",
                violation_error_message="One row per customer and day.",
            )
        ]

    def __str__(self):
        return f"{self.customer_id} {self.day}"
