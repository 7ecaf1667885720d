"""Transactions and transaction events in the seed 004 shape."""

from __future__ import annotations

from transactions.models import Transaction, TransactionEvent
from transactions.money import json_number
from users.api.user_serializers.fields import millis
from users.models.customers import PERSON


def _amount_details(amount, currency, country) -> dict | None:
    if amount is None:
        return None
    details = {"transactionAmount": json_number(amount), "transactionCurrency": currency}
    if country:
        details["country"] = country
    return details


def _payment_details(details: dict, method: str) -> dict | None:
    if not method:
        return None
    return {"method": method, **{key: value for key, value in details.items() if key != "method"}}


def transaction_document(tx: Transaction, *, verdict: bool = True, users: dict | None = None) -> dict:
    """The stored transaction. `verdict`: with its rule results and decision (the API answer);
    without, what rule conditions see. `users`: `{"originUserDetail": {...}, ...}` to include."""
    document = {
        "type": tx.type,
        "transactionId": tx.transaction_id,
        "timestamp": millis(tx.timestamp),
        "transactionState": tx.transaction_state or None,
        "originUserId": tx.origin_user_ref or None,
        "destinationUserId": tx.destination_user_ref or None,
        "originAmountDetails": _amount_details(tx.origin_amount, tx.origin_currency, tx.origin_country),
        "destinationAmountDetails": _amount_details(
            tx.destination_amount, tx.destination_currency, tx.destination_country
        ),
        "originPaymentDetails": _payment_details(tx.origin_payment_details, tx.origin_payment_method),
        "destinationPaymentDetails": _payment_details(
            tx.destination_payment_details, tx.destination_payment_method
        ),
        "productType": tx.product_type or None,
        "reference": tx.reference or None,
        "promotionCodeUsed": tx.promotion_code_used,
        "relatedTransactionIds": tx.related_transaction_ids,
        "originDeviceData": tx.origin_device_data or None,
        "destinationDeviceData": tx.destination_device_data or None,
        "tags": tx.tags,
        "isFirstTransaction": tx.is_first_transaction,
    }
    document = {key: value for key, value in document.items() if value is not None}
    if verdict:
        document.update(
            executedRules=tx.executed_rules,
            hitRules=tx.hit_rules,
            status=tx.status,
            ruleErrors=tx.rule_errors,
            riskScoreDetails=tx.risk_score_details,
        )
    if users:
        document.update(users)
    return document


def user_summary(customer) -> dict | None:
    """What a rule condition reads of a user (`originUser.riskLevel`...)."""
    if customer is None:
        return None
    return {
        "userId": customer.external_ref,
        "userType": "INDIVIDUAL" if customer.customer_type_id == PERSON else "ENTITY",
        "riskLevel": customer.risk_level,
        "riskScore": customer.risk_effective_score,
        "onboardingRiskLevel": customer.onboarding_risk_level or None,
        "userState": customer.user_state,
        "kycStatus": customer.kyc_status,
        "countryOfResidence": getattr(customer.country_residence, "alpha2", None)
        if customer.country_residence_id
        else None,
        "countryOfNationality": getattr(customer.country_nationality, "alpha2", None)
        if customer.country_nationality_id
        else None,
        "countryOfIncorporation": getattr(customer.country_incorporation, "alpha2", None)
        if customer.country_incorporation_id
        else None,
        "createdTimestamp": millis(customer.registered_at),
        "tags": customer.tags,
    }


def event_document(event: TransactionEvent) -> dict:
    """Seed 004 "Retrieve a Transaction Event"."""
    attributes = {"relatedTransactionIds": [], "tags": [], **event.updated_transaction_attributes}
    document = {
        "updatedTransactionAttributes": attributes,
        "timestamp": millis(event.timestamp),
        "transactionId": event.transaction.transaction_id,
        "eventId": event.event_id,
        "eventDescription": event.event_description,
        "reason": event.reason,
        "executedRules": event.executed_rules,
        "hitRules": event.hit_rules,
        "status": event.status,
        "ruleErrors": event.rule_errors,
        "riskScoreDetails": event.risk_score_details,
    }
    if event.meta_data:
        document["metaData"] = event.meta_data
    return document
