"""transactions.queries: the verify path's queries compiled once per process, run with each call's
values, and the ORM as usual when a query's parameters are not just the values."""

import pytest

from tests.users.conftest import create_customer
from transactions import queries
from users.models import Customer

pytestmark = pytest.mark.django_db


def by_ref(refs):
    return Customer.objects.filter(external_ref__in=refs).order_by()


def test_compiled_once_and_run_with_each_calls_values(django_assert_num_queries):
    a, b = create_customer(ref="A-1"), create_customer(ref="B-2")
    assert {c.pk for c in queries.rows("test-refs", by_ref, ["A-1", "B-2"])} == {a.pk, b.pk}
    with django_assert_num_queries(1):
        (found,) = queries.rows("test-refs", by_ref, ["B-2", "NONE"])
    assert (found.pk, found.tags, found.registered_at) == (b.pk, b.tags, b.registered_at)
    assert queries.first_row("test-ref", lambda v: by_ref(v).values_list("pk")[:1], ["A-1"]) == (a.pk,)
    assert queries.first_row("test-ref", lambda v: by_ref(v).values_list("pk")[:1], ["NONE"]) is None


def test_a_query_with_parameters_of_its_own_is_left_to_the_orm():
    customer = create_customer(ref="C-3", first_name="Carol")

    def named_carol(refs):
        return Customer.objects.filter(external_ref__in=refs, first_name="Carol").order_by()

    assert [c.pk for c in queries.rows("test-carol", named_carol, ["C-3"])] == [customer.pk]
    sql, _ = queries._compiled[("test-carol", 1, queries.connection.vendor)]
    assert sql is None  # "Carol" is a parameter too: not kept
    assert queries.rows("test-carol", named_carol, ["NONE"]) == []
