"""Default exchange rates, so that a first run converts the major currencies.

These are APPROXIMATE REFERENCE VALUES (rounded market rates, US dollars for one unit of
each currency), good enough for a demo and for thresholds to behave sensibly on day one —
not for monitoring real money. An institution replaces them with its own daily rates
(admin: Transactions > Exchange rates, or a feed writing the same table) before going live:
velocity sums, amount thresholds and rule filters across currencies all convert with them.

When BASE_CURRENCY is not USD the values are converted to it through USD (and USD itself is
added); a base currency missing from this table adds nothing. Rows that exist already are
left alone, so re-running never overwrites an institution's rate. Reversing removes only the
rows still holding the value this migration wrote.
"""

from decimal import Decimal

from django.conf import settings
from django.db import migrations

# USD per one unit of the currency (approximate).
USD_PER_UNIT = {
    "EUR": "1.08",
    "GBP": "1.27",
    "CHF": "1.13",
    "JPY": "0.0067",
    "CNY": "0.138",
    "INR": "0.0117",
    "PHP": "0.0172",
    "BRL": "0.18",
    "MXN": "0.055",
    "ZAR": "0.055",
    "NGN": "0.00065",
    "KES": "0.0077",
    "GHS": "0.065",
    "EGP": "0.02",
    "MAD": "0.1",
    "AED": "0.2723",
    "SAR": "0.2667",
    "QAR": "0.2747",
    "KWD": "3.25",
    "BHD": "2.65",
    "ILS": "0.27",
    "TRY": "0.029",
    "RUB": "0.011",
    "UAH": "0.024",
    "CAD": "0.73",
    "AUD": "0.65",
    "NZD": "0.6",
    "SGD": "0.75",
    "HKD": "0.128",
    "TWD": "0.031",
    "MYR": "0.22",
    "SEK": "0.095",
    "NOK": "0.093",
    "DKK": "0.145",
    "PLN": "0.25",
    "CZK": "0.043",
    "HUF": "0.0027",
    "RON": "0.22",
    "IDR": "0.000062",
    "THB": "0.029",
    "VND": "0.000039",
    "KRW": "0.00072",
    "PKR": "0.0036",
    "BDT": "0.0083",
    "CLP": "0.00105",
    "COP": "0.00024",
    "PEN": "0.27",
    "ARS": "0.001",
    "USD": "1",
}
QUANTUM = Decimal("0.0000000001")  # the column's 10 decimal places


def default_rates(base: str) -> dict[str, Decimal]:
    """Rates to `base`, rounded to the column; empty when `base` is not in the table."""
    if base not in USD_PER_UNIT:
        return {}
    base_in_usd = Decimal(USD_PER_UNIT[base])
    return {
        currency: (Decimal(usd) / base_in_usd).quantize(QUANTUM)
        for currency, usd in USD_PER_UNIT.items()
        if currency != base
    }


def add_rates(apps, schema_editor):
    ExchangeRate = apps.get_model("transactions", "ExchangeRate")
    rates = default_rates(settings.BASE_CURRENCY)
    present = set(ExchangeRate.objects.filter(currency__in=rates).values_list("currency", flat=True))
    ExchangeRate.objects.bulk_create(
        ExchangeRate(currency=currency, rate_to_base=rate)
        for currency, rate in sorted(rates.items())
        if currency not in present
    )


def remove_rates(apps, schema_editor):
    ExchangeRate = apps.get_model("transactions", "ExchangeRate")
    for currency, rate in default_rates(settings.BASE_CURRENCY).items():
        ExchangeRate.objects.filter(currency=currency, rate_to_base=rate).delete()


class Migration(migrations.Migration):
    dependencies = [("transactions", "0001_initial")]

    operations = [migrations.RunPython(add_rates, remove_rates)]
