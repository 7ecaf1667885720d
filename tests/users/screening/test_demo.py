"""`make run`'s demo watchlist: loaded before the demo customers, so John Doe has a hit."""

from io import StringIO

import pytest

from users import demo as users_demo
from users.models import ScreeningRisk, WatchlistEntry
from users.screening import demo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]


def test_demo_list_loads_once_and_the_demo_customer_is_hit(django_capture_on_commit_callbacks):
    out = StringIO()
    demo.load(out)
    assert WatchlistEntry.objects.filter(source__code=demo.CODE).count() == 5
    with django_capture_on_commit_callbacks(execute=True):
        users_demo.load(out)
    hit = ScreeningRisk.objects.get(customer__external_ref="JD001", watchlist_entry__external_id="DEMO-SDN-1")
    assert hit.score >= 85
    assert "date of birth agrees" in hit.match["explanation"]
    demo.load(out)
    assert "Demo watchlist exists already." in out.getvalue()
    assert WatchlistEntry.objects.filter(source__code=demo.CODE).count() == 5
