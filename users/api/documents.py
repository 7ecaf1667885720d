"""The seed 003 customer document (`GET /api/customer/{ref}`) and its checked lists."""

from __future__ import annotations

from django.db.models import Prefetch, prefetch_related_objects

from users.api import serializers as s
from users.lists import CHECKED_BY_ID, CHECKED_LISTS, KYC_LISTS
from users.models import Customer, CustomerAssociation, Stake
from users.models.customers import ORGANISATION
from users.selectors import checked_table, customer_get


def customer_document(ref: str) -> dict:
    """GET /api/customer/{ref}: `singles`, `lists`, `checkedLists`, in a fixed number of queries.

    Queries: the customer (1), one per list that applies to its type (persons 10 —
    ID cards..events, stakes out, roles out; organisations 14, with counterparties,
    statements, presence, stakes in and roles in), one per checked list (4) and one per
    checked list's types (4), whatever the number of rows.
    """
    customer = customer_get(ref)
    is_org = customer.customer_type_id == ORGANISATION
    applicable = [kyc_list for kyc_list in KYC_LISTS if kyc_list.applies(customer)]
    prefetches = [kyc_list.related_name for kyc_list in applicable]
    prefetches += [
        Prefetch("stakes_out", queryset=Stake.objects.order_by("id")),
        Prefetch("roles_out", queryset=CustomerAssociation.objects.order_by("id")),
    ]
    if is_org:
        prefetches += [
            Prefetch("stakes_in", queryset=Stake.objects.order_by("id")),
            Prefetch("roles_in", queryset=CustomerAssociation.objects.order_by("id")),
        ]
    prefetches += [checked.field for checked in CHECKED_LISTS]
    prefetch_related_objects([customer], *prefetches)

    details_class = s.OrganisationDetailsSerializer if is_org else s.PersonDetailsSerializer
    lists = {}
    for kyc_list in applicable:
        rows = getattr(customer, kyc_list.related_name).all()
        lists[kyc_list.key] = {
            "contents": s.ROW_SERIALIZERS[kyc_list.path](rows, many=True).data,
            "deletedRows": [],
            "id": kyc_list.id_name,
        }
    associations = [
        ("stakesOut", "stakes_out", s.StakeSerializer, "idStake"),
        ("rolesOut", "roles_out", s.AssociationSerializer, "idCustomerAssociation"),
    ]
    if is_org:
        associations += [
            ("stakesIn", "stakes_in", s.StakeSerializer, "idStake"),
            ("rolesIn", "roles_in", s.AssociationSerializer, "idCustomerAssociation"),
        ]
    for key, related, serializer, id_name in associations:
        lists[key] = {
            "contents": serializer(getattr(customer, related).all(), many=True).data,
            "deletedRows": [],
            "id": id_name,
        }
    checked_lists = {checked.key: _checked_list(customer, checked) for checked in CHECKED_LISTS}
    return {
        "singles": {"main": s.MainSerializer(customer).data, "details": details_class(customer).data},
        "lists": lists,
        "checkedLists": checked_lists,
    }


def _checked_list(customer: Customer, checked) -> dict:
    """One `checkedLists` entry: the ticked ids (prefetched or 1 query) and the table's active rows (1)."""
    table = checked_table(checked.list_id)
    return {
        "contents": sorted(row.pk for row in getattr(customer, checked.field).all()),
        "added": [],
        "removed": [],
        "listId": checked.list_id,
        "types": [
            {"id": pk, "name": name}
            for pk, name in table.objects.filter(is_active=True).values_list("id", "name")
        ],
    }


def checked_list(ref: str, list_id: str) -> dict:
    """GET /api/customer/{ref}/checked-lists/{listId}, in 3 queries."""
    return _checked_list(customer_get(ref), CHECKED_BY_ID[list_id])
