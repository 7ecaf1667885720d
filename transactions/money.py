"""Amounts across currencies: conversion through the `ExchangeRate` table.

Rates are read once a minute per process (they change daily at most); an unknown
currency converts to None, never to a guess, and sums leave such amounts out.
"""

from __future__ import annotations

import time
from decimal import Decimal

from django.conf import settings

_RATES: dict[str, Decimal] = {}
_LOADED_AT = 0.0
_TTL_SECONDS = 60.0
QUANTUM = Decimal("0.000001")


def rates() -> dict[str, Decimal]:
    global _RATES, _LOADED_AT
    if time.monotonic() - _LOADED_AT > _TTL_SECONDS:
        from transactions.models import ExchangeRate

        loaded = dict(ExchangeRate.objects.values_list("currency", "rate_to_base"))
        loaded[settings.BASE_CURRENCY] = Decimal(1)
        _RATES, _LOADED_AT = loaded, time.monotonic()
    return _RATES


def forget_rates() -> None:
    """Reload on next use (after an admin edit, and in tests)."""
    global _LOADED_AT
    _LOADED_AT = 0.0


def json_number(value) -> int | float | None:
    """A Decimal as the JSON number the seeds show (35000, not "35000.000000")."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def to_base(amount: Decimal | None, currency: str) -> Decimal | None:
    if amount is None or not currency:
        return None
    rate = rates().get(currency)
    if rate is None:
        return None
    return (Decimal(amount) * rate).quantize(QUANTUM)


def convert(amount: Decimal | None, source: str, target: str) -> Decimal | None:
    if amount is None:
        return None
    if source == target:
        return Decimal(amount)
    base = to_base(amount, source)
    target_rate = rates().get(target)
    if base is None or target_rate is None:
        return None
    return (base / target_rate).quantize(QUANTUM)
