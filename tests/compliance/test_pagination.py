"""The paging helpers each source's style needs (issue 2, point 6)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from compliance.api import pagination
from compliance.models import StaffUser
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    for i in range(25):
        StaffUserFactory(username=f"u{i:02d}")
    return StaffUser.objects.order_by("username")


def _request(query):
    return Request(APIRequestFactory().get("/x", query))


class View:
    pagination_results_key = "consumerUsers"


def _page(paginator, users, query, view=None):
    request = _request(query)
    page = paginator.paginate_queryset(users, request, view=view or View())
    return paginator.get_paginated_response([u.username for u in page])


def test_page_style_of_seed_002(users):
    response = _page(pagination.PagePagination(), users, {"page": 2, "pageSize": 10})
    assert response.data == {"consumerUsers": [f"u{i:02d}" for i in range(10, 20)], "totalCount": 25}


def test_start_style_of_seed_004(users):
    response = _page(pagination.StartPagination(), users, {"start": 20, "pageSize": 10})
    assert response.data == {"total": 25, "consumerUsers": [f"u{i:02d}" for i in range(20, 25)]}


def test_current_page_style_of_seed_000(users):
    response = _page(pagination.CurrentPagePagination(), users, {"currentPage": 3, "limit": 10})
    assert response.data == [f"u{i:02d}" for i in range(20, 25)]
    assert response["X-Total-Count"] == "25"


def test_meta_style_of_seed_001(users):
    class SortedView(View):
        def get_pagination_meta(self, request):
            return {"sort": "asc", "sortFields": ["createdAt"]}

    response = _page(pagination.MetaPagination(), users, {"page": 1, "limit": 5}, view=SortedView())
    assert response.data["meta"] == {
        "page": 1,
        "total": 25,
        "limit": 5,
        "count": 5,
        "sort": "asc",
        "sortFields": ["createdAt"],
    }
    assert len(response.data["consumerUsers"]) == 5


@pytest.mark.parametrize(("param", "value"), [("pageSize", 0), ("pageSize", 101), ("page", 0), ("page", "x")])
def test_out_of_range_paging_is_400_naming_the_parameter(users, param, value):
    with pytest.raises(ValidationError) as raised:
        _page(pagination.PagePagination(), users, {param: value})
    assert param in raised.value.detail


def test_unordered_querysets_are_refused(users):
    with pytest.raises(ImproperlyConfigured):
        pagination.PagePagination().paginate_queryset(StaffUser.objects.all(), _request({}), View())
