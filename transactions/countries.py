"""Countries by id, for attaching to the rows a transaction reads (its users, their addresses).

The table is the one request validation reads (`users.api.user_serializers.fields`: the active
countries, reloaded once a minute per process), indexed by id. Joining the country table to each
row instead cost PostgreSQL more than reading the row (issue 4 benchmark). A country not in the
table (deactivated) is not attached: the row reads it as usual when asked.
"""

from __future__ import annotations

from compliance.reference.models import Country
from users.api.user_serializers.fields import _country_index

# A user's countries that rules (R-14, custom conditions) and the answer's user documents read.
USER_COUNTRIES = ("country_residence", "country_nationality", "country_incorporation", "country_domiciliary")

_BY_ID: dict = {"index": None, "countries": {}}


def countries_by_id() -> dict[int, Country]:
    index = _country_index(None)
    if _BY_ID["index"] is not index:
        _BY_ID.update(index=index, countries={country.pk: country for country in index["alpha2"].values()})
    return _BY_ID["countries"]


def attach_countries(instance, *names: str):
    """Put the instance's countries (foreign keys `names` to Country) from the table, where it has them."""
    by_id = countries_by_id()
    for name in names:
        field = instance._meta.get_field(name)
        country = by_id.get(getattr(instance, field.attname))
        if country is not None:
            field.set_cached_value(instance, country)
    return instance
