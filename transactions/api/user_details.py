"""`originUserDetail` / `destinationUserDetail`: the users' seed 004 documents in a transaction answer.

The documents are the users app's (`individual_user_document` / `entity_user_document`); what
they read beyond the customer row is its `user_prefetches`. The users the transaction holds
were loaded by the verify service; their lists are read here for the two users at once, one
statement per list, and the lists read through the ORM's prefetch machinery cost several
times the statements themselves (issue 4 benchmark: the answer's users were a third of a
transaction's cost). So a plain list — a relation of the customer, every row of it in id order,
at most the row's countries with it — is read in plain SQL (`RawQuerySet`), its countries taken
from the process's country table, and handed to the documents as Django's prefetch would hand
it. Any other lookup (shareholders and directors, with their own filters and countries) goes
through `prefetch_related_objects` as before, so the documents read the same rows either way.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Prefetch, prefetch_related_objects

from compliance.reference.models import Country
from transactions.countries import USER_COUNTRIES, attach_countries
from transactions.models import Transaction
from users.api.user_serializers import entity_user_document, individual_user_document
from users.api.user_views import user_prefetches
from users.models import Customer
from users.models.customers import PERSON


def user_details(tx: Transaction) -> dict:
    """The answer's user documents of the transaction's (live) users, by side."""
    sides = {
        side: customer
        for side in ("origin", "destination")
        if (customer := getattr(tx, f"{side}_user")) is not None and customer.deleted_at is None
    }
    customers = list({customer.pk: customer for customer in sides.values()}.values())
    for customer in customers:
        attach_countries(customer, *USER_COUNTRIES)
    _read_lists(customers)
    details = {}
    for side, customer in sides.items():
        document = individual_user_document if customer.customer_type_id == PERSON else entity_user_document
        details[f"{side}UserDetail"] = document(customer)
    return details


def _read_lists(customers: list[Customer]) -> None:
    """Read what each customer's document reads (`user_prefetches` of its kind), one statement per
    list for all of them."""
    wanted: dict[str, tuple[object, list[Customer]]] = {}
    for customer in customers:
        for lookup in _lookups(customer.customer_type_id):
            path = lookup.prefetch_to if isinstance(lookup, Prefetch) else lookup
            wanted.setdefault(path, (lookup, []))[1].append(customer)
    for path, (lookup, owners) in wanted.items():
        plain = _plain_list(path, lookup)
        if plain is None:
            prefetch_related_objects(owners, lookup)
        else:
            _read_plain_list(owners, path, *plain)


_LOOKUPS: dict[int, tuple] = {}


def _lookups(customer_type_id: int) -> tuple:
    """`user_prefetches` of a kind of user, made once per process (a `Prefetch` is not changed by
    being used, and building their querysets on every request cost as much as one of the lists)."""
    lookups = _LOOKUPS.get(customer_type_id)
    if lookups is None:
        lookups = _LOOKUPS[customer_type_id] = user_prefetches(customer_type_id)
    return lookups


def _plain_list(path: str, lookup) -> tuple | None:
    """(related model, its key to the customer, its country keys) when the lookup reads a relation
    of the customer whole, in id order, with at most its countries; None otherwise."""
    if "__" in path:
        return None
    try:
        relation = Customer._meta.get_field(path)
    except Exception:
        return None
    if not (relation.one_to_many and relation.related_model is not None):
        return None
    model = relation.related_model
    queryset = lookup.queryset if isinstance(lookup, Prefetch) and lookup.queryset is not None else None
    if queryset is None:
        queryset = model._default_manager.all()
    elif queryset.model is not model:
        return None
    query = queryset.query
    if query.where or query.order_by or query.deferred_loading[0] or query.annotations:
        return None
    if list(model._meta.ordering) != ["id"] or model._default_manager.get_queryset().query.where:
        return None
    related = query.select_related
    if related is True:
        return None
    countries = []
    for name, nested in (related or {}).items():
        field = model._meta.get_field(name)
        if nested or not field.many_to_one or field.related_model is not Country:
            return None
        countries.append(field)
    return model, relation.field, countries


def _read_plain_list(owners: list[Customer], path: str, model, key, countries) -> None:
    q = connection.ops.quote_name
    columns = ", ".join(q(field.column) for field in model._meta.concrete_fields)
    placeholders = ", ".join(["%s"] * len(owners))
    rows = model._default_manager.raw(
        f"SELECT {columns} FROM {q(model._meta.db_table)} "  # noqa: S608 (names quoted here, values parameters)
        f"WHERE {q(key.column)} IN ({placeholders}) ORDER BY {q(model._meta.pk.column)}",
        [owner.pk for owner in owners],
    )
    by_owner: dict[int, list] = {owner.pk: [] for owner in owners}
    owner_of = {owner.pk: owner for owner in owners}
    for row in rows:
        owner_pk = getattr(row, key.attname)
        key.set_cached_value(row, owner_of[owner_pk])
        attach_countries(row, *(field.name for field in countries))
        by_owner[owner_pk].append(row)
    for owner in owners:
        manager = getattr(owner, path)
        cache_name = key.remote_field.cache_name
        cache = owner.__dict__.setdefault("_prefetched_objects_cache", {})
        cache.pop(cache_name, None)
        queryset = manager.get_queryset()
        queryset._result_cache = by_owner[owner.pk]
        queryset._prefetch_done = True
        cache[cache_name] = queryset
