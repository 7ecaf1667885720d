"""Seed 004 conventions as fields: epoch milliseconds, ISO dates, country codes and names,
strict JSON texts, booleans and numbers, and the `userType` constants.

Timestamps are epoch milliseconds (`createdTimestamp`, `documentIssuedDate`...),
`dateOfBirth`/`dateOfRegistration` are `YYYY-MM-DD`, countries of people and companies are ISO
alpha-2 codes, the country of an address is a name (an alpha-2 or alpha-3 code is accepted too)
and is answered as the name.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compliance.reference.models import Country

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The range of Python's datetime (years 1 to 9999), in epoch milliseconds.
MIN_MS = -62_135_596_800_000
MAX_MS = 253_402_300_799_999

MAX_LIST = 100  # items in any list of a user body: generous, and bounds the work of one request


def millis(value: datetime | date | None) -> int | None:
    """Epoch milliseconds, exactly (no float rounding); a date is its midnight UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return (value - EPOCH) // timedelta(milliseconds=1)


def iso_millis(value: datetime) -> str:
    """`2024-12-08T08:33:45.467Z`, as seed 004's `updatedAt`."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- fields --------------------------------------------------------------------------------


# Request schemas are exact enough that a body they allow is accepted (the API fuzz test
# holds us to it): ranges, patterns and country lists are in the schema, not only in code.
EPOCH_MILLIS_SCHEMA = {"type": "integer", "format": "int64", "minimum": MIN_MS, "maximum": MAX_MS}
# Text without NUL (PostgreSQL cannot store it), and text with something besides blanks.
NO_NUL = RegexValidator(r"^[^\x00]*$", "Null characters are not allowed.")
NOT_BLANK = RegexValidator(r"^[^\x00]*[^\x00\s][^\x00]*$", "This field may not be blank.")
ADDRESS_LINE = RegexValidator(r"^[^\x00\r\n]*$", "A line must not contain a line break.")


def _iso_countries() -> list[dict]:
    """The ISO 3166-1 table the reference data was loaded from: for the schema, which is built
    without a database."""
    path = Path(__file__).resolve().parents[3] / "compliance" / "reference" / "data" / "countries.json"
    return json.loads(path.read_text(encoding="utf-8"))["countries"]


_COUNTRIES = _iso_countries()
ALPHA2_PATTERN = "^(" + "|".join(sorted(c["alpha2"] for c in _COUNTRIES)) + ")$"
COUNTRY_NAME_PATTERN = "^(" + "|".join(re.escape(c["name"]) for c in _COUNTRIES) + ")$"


@extend_schema_field(EPOCH_MILLIS_SCHEMA)
class EpochMillisField(serializers.Field):
    """A point in time as epoch milliseconds; an aware UTC datetime inside."""

    default_error_messages = {
        "invalid": "Expected epoch milliseconds (an integer), got {data_type}.",
        "range": "Out of range.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):  # 1.0 too: the schema says integer
            self.fail("invalid", data_type=type(data).__name__)
        if not MIN_MS <= data <= MAX_MS:
            self.fail("range")
        return EPOCH + timedelta(milliseconds=data)

    def to_representation(self, value):
        return millis(value)


@extend_schema_field(EPOCH_MILLIS_SCHEMA)
class EpochMillisDateField(EpochMillisField):
    """A day sent as epoch milliseconds (`documentIssuedDate`): stored as its UTC date,
    answered as that day's midnight UTC."""

    def to_internal_value(self, data):
        return super().to_internal_value(data).date()


# Active countries by code and name, shared by the requests of a process for a minute: the
# table changes rarely (an admin deactivating a country), and reading its 249 rows for every
# request body cost more than validating the body (issue 4 benchmark).
_COUNTRY_CACHE: dict = {"at": -1e9, "index": None}
COUNTRY_CACHE_SECONDS = 60.0


def forget_countries() -> None:
    """Reload on next use (after an admin edit, and in tests)."""
    _COUNTRY_CACHE["at"] = -1e9


def _country_index(field) -> dict[str, dict[str, Country]]:
    """Active countries by alpha-2, alpha-3 and lower-case name."""
    now = time.monotonic()
    if _COUNTRY_CACHE["index"] is None or now - _COUNTRY_CACHE["at"] > COUNTRY_CACHE_SECONDS:
        index = {"alpha2": {}, "alpha3": {}, "name": {}}
        for country in Country.objects.filter(is_active=True):
            index["alpha2"][country.alpha2] = country
            index["alpha3"][country.alpha3] = country
            index["name"][country.name.lower()] = country
        _COUNTRY_CACHE.update(at=now, index=index)
    return _COUNTRY_CACHE["index"]


@extend_schema_field({"type": "string", "pattern": ALPHA2_PATTERN, "example": "DE"})
class CountryCodeField(serializers.Field):
    """An ISO 3166-1 alpha-2 code (any case) of an active country; answered upper case."""

    default_error_messages = {
        "invalid": "Expected an ISO 3166-1 alpha-2 country code, got {data_type}.",
        "unknown": "Unknown country code '{code}'.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", data_type=type(data).__name__)
        country = _country_index(self)["alpha2"].get(data.upper()) if len(data) == 2 else None
        if country is None:
            self.fail("unknown", code=data[:10])
        return country

    def to_representation(self, value):
        return value.alpha2


@extend_schema_field(
    {
        "type": "string",
        "pattern": COUNTRY_NAME_PATTERN,
        "example": "Germany",
        "description": "ISO 3166-1 English short name, any case; alpha-2 and alpha-3 codes are accepted too.",
    }
)
class CountryNameField(serializers.Field):
    """A country name, or an alpha-2 / alpha-3 code, any case; answered as the name."""

    default_error_messages = {
        "invalid": "Expected a country name or ISO code, got {data_type}.",
        "unknown": "Unknown country '{name}'.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", data_type=type(data).__name__)
        index = _country_index(self)
        text = data.strip()
        country = index["name"].get(text.lower())
        if country is None and len(text) == 2:
            country = index["alpha2"].get(text.upper())
        if country is None and len(text) == 3:
            country = index["alpha3"].get(text.upper())
        if country is None:
            self.fail("unknown", name=data[:100])
        return country

    def to_representation(self, value):
        return value.name


class TextField(serializers.CharField):
    """A JSON string, kept as sent (not trimmed: the schema's lengths and patterns hold for
    what is stored); DRF's CharField would also take numbers."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JsonBooleanField(serializers.BooleanField):
    """`true` or `false` only (DRF's BooleanField also takes "yes", 1...)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=str(data)[:20])
        return data


class JsonNumberField(serializers.FloatField):
    """A JSON number only (DRF's FloatField also takes numeric strings)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class IsoDateField(serializers.DateField):
    """`YYYY-MM-DD` only (Python's ISO parser also takes `20240101` and week dates)."""

    def to_internal_value(self, value):
        if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


def _strings(max_length=200):
    """A list of short texts (`sourceOfFunds`, `businessIndustry`...): free text in seed 004."""
    return serializers.ListField(child=_required_text(max_length), max_length=MAX_LIST, required=False)


def _text(max_length, **kwargs):
    """Optional text, may be blank."""
    kwargs.setdefault("required", False)
    return TextField(max_length=max_length, allow_blank=True, validators=[NO_NUL], **kwargs)


def _required_text(max_length, **kwargs):
    """Text with something in it (surrounding blanks are trimmed)."""
    return TextField(max_length=max_length, validators=[NOT_BLANK], **kwargs)


def _identifier(**kwargs):
    """A `userId` or `eventId`: kept exactly as sent, not blank."""
    kwargs.setdefault("max_length", 100)
    return TextField(validators=[NOT_BLANK], **kwargs)


class _Constant(serializers.Field):
    """`userType`: the one value the path allows. A pattern rather than an enum in the schema,
    so the two kinds' values do not collide as enum names."""

    value = ""

    def to_internal_value(self, data):
        if data != self.value:
            raise serializers.ValidationError(f"Must be {self.value} here.")
        return data


@extend_schema_field({"type": "string", "pattern": "^INDIVIDUAL$", "example": "INDIVIDUAL"})
class IndividualTypeField(_Constant):
    value = "INDIVIDUAL"


@extend_schema_field({"type": "string", "pattern": "^ENTITY$", "example": "ENTITY"})
class EntityTypeField(_Constant):
    value = "ENTITY"


def _plain(value):
    """Validated data without OrderedDicts, for JSON fields and digests."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
