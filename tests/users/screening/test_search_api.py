"""Issue 6 point 9: ad-hoc screening search, `POST /api/screening/search` and the admin's search page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import AuditTrail
from tests.users.screening.lists import entity, load

pytestmark = pytest.mark.django_db

URL = "/api/screening/search"
PAGE = "/admin/users/watchlistentry/search/"


@pytest.fixture
def lists(db):
    load(
        [
            entity(
                "p-1",
                "Vladimir Petrov",
                aliases=("Vova Petrov",),
                birth_date="1961-08-23",
                nationality="ru",
                programme="UKRAINE-EO13660",
            ),
            entity("p-2", "Vladislav Petrov", birth_date="1975"),
            entity("p-3", "Ivan Petrov"),
            entity("o-1", "Petrov Trading LLC", schema="Company", country="cy"),
        ]
    )
    load([entity("pep-1", "Vladimir Petrov", nationality="ru")], code="pep-test", kind="PEP")


def post(client, **body):
    return client.post(URL, body, format="json")


def test_ranked_candidates_with_every_field(analyst_client, lists, settings):
    answer = post(analyst_client, name="PETROV, Vladimir", minScore=0, limit=10)
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["name"] == "PETROV, Vladimir"
    candidates = data["candidates"]
    scores = [c["score"] for c in candidates]
    assert scores == sorted(scores, reverse=True)
    assert {c["name"] for c in candidates[:2]} == {"Vladimir Petrov"}
    best = next(c for c in candidates if c["source"]["code"] == "sdn-test")
    assert best["externalId"] == "p-1"
    assert best["source"] == {"code": "sdn-test", "name": "SDN-TEST", "kind": "SANCTIONS"}
    assert best["entityType"] == "PERSON"
    assert best["matchedName"] == "Vladimir Petrov"
    assert best["matchedNameKind"] == "primary"
    assert best["score"] >= 95
    assert best["isHit"] is True
    assert best["threshold"] == settings.SCREENING_THRESHOLDS["SANCTIONS"]
    assert "vladimir" in best["explanation"]
    assert {"query": "vladimir", "entry": "vladimir", "similarity": 1.0} in best["matchedTokens"]
    assert best["adjustments"] == []
    assert best["birthDates"] == ["1961-08-23"]
    assert best["nationalities"] == ["RU"]
    assert best["programmes"] == ["UKRAINE-EO13660"]
    pep = next(c for c in candidates if c["source"]["code"] == "pep-test")
    assert pep["threshold"] == settings.SCREENING_THRESHOLDS["PEP"]
    # the entry id leads to the entry
    assert isinstance(best["entryId"], int)


def test_date_of_birth_and_country_raise_the_score(analyst_client, lists):
    # a spelling variant: its name score is under 100, so the raise shows
    query = {"name": "Vladimyr Petrov", "sourceKinds": ["SANCTIONS"], "minScore": 0}
    plain = post(analyst_client, **query).json()["candidates"]
    sharper = post(analyst_client, **query, birthDate="1961-08-23", country="RU").json()["candidates"]
    assert plain[0]["externalId"] == sharper[0]["externalId"] == "p-1"
    assert plain[0]["score"] < sharper[0]["score"]
    assert plain[0]["adjustments"] == []
    reasons = [a["reason"] for a in sharper[0]["adjustments"]]
    assert any("date of birth agrees" in r for r in reasons)
    assert any("country agrees" in r for r in reasons)
    assert all(a["delta"] > 0 for a in sharper[0]["adjustments"])
    # a conflicting date of birth lowers it
    other = post(analyst_client, **query, birthDate="1990").json()["candidates"]
    lowered = next(c for c in other if c["externalId"] == "p-1")
    assert lowered["score"] < plain[0]["score"]
    assert any(a["delta"] < 0 for a in lowered["adjustments"])


def test_hits_only_by_default_and_min_score_zero_ranks_the_rest(analyst_client, lists):
    hits = post(analyst_client, name="Vladimir Petrov").json()["candidates"]
    assert hits
    assert all(c["isHit"] for c in hits)
    assert "Ivan Petrov" not in {c["name"] for c in hits}
    everything = post(analyst_client, name="Vladimir Petrov", minScore=0).json()["candidates"]
    assert len(everything) > len(hits)
    assert any(not c["isHit"] for c in everything)
    limited = post(analyst_client, name="Vladimir Petrov", minScore=0, limit=1).json()["candidates"]
    assert len(limited) == 1
    assert limited[0] == everything[0]


def test_source_kinds_and_entity_type_filter(analyst_client, lists):
    peps = post(analyst_client, name="Vladimir Petrov", sourceKinds=["PEP"], minScore=0).json()["candidates"]
    assert peps
    assert {c["source"]["kind"] for c in peps} == {"PEP"}
    companies = post(analyst_client, name="Petrov Trading", entityType="ORGANISATION", minScore=0).json()
    assert [c["name"] for c in companies["candidates"]] == ["Petrov Trading LLC"]
    people = post(analyst_client, name="Petrov Trading", entityType="PERSON", minScore=0).json()
    assert "Petrov Trading LLC" not in {c["name"] for c in people["candidates"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 501}, "name"),
        ({"name": "..."}, "name"),
        ({"name": "Ivan", "birthDate": "23/08/1961"}, "birthDate"),
        ({"name": "Ivan", "birthDate": "1961-13"}, "birthDate"),
        ({"name": "Ivan", "birthDate": "1961-02-30"}, "birthDate"),
        ({"name": "Ivan", "country": "XX"}, "country"),
        ({"name": "Ivan", "countries": ["DE", "ZZ"]}, "countries[1]"),
        ({"name": "Ivan", "entityType": "SHIP"}, "entityType"),
        ({"name": "Ivan", "sourceKinds": ["SANCTIONS", "GOSSIP"]}, "sourceKinds[1]"),
        ({"name": "Ivan", "sourceKinds": []}, "sourceKinds"),
        ({"name": "Ivan", "minScore": 101}, "minScore"),
        ({"name": "Ivan", "limit": 0}, "limit"),
        ({"name": "Ivan", "limit": 101}, "limit"),
        ({"name": "Ivan", "surname": "Petrov"}, "surname"),
        ({"name": 42}, "name"),
        ({"name": "Ivan", "minScore": False}, "minScore"),
        ({"name": "Ivan", "minScore": "50"}, "minScore"),
        ({"name": "Ivan", "limit": "10"}, "limit"),
        ({"name": "Ivan", "limit": 1.5}, "limit"),
        ({"name": "Ivan\u0000"}, "name"),
    ],
)
def test_bad_input_is_400_naming_the_field(analyst_client, body, field):
    answer = analyst_client.post(URL, body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in [error["property"] for error in answer.json()["errors"]]
    assert not AuditTrail.objects.filter(action="screening.searched").exists()


def test_credentials_and_permission(api_client, outsider_client, approver_client, integrator_client, lists):
    assert post(api_client, name="Vladimir Petrov").status_code == 401
    assert post(outsider_client, name="Vladimir Petrov").status_code == 403
    assert post(approver_client, name="Vladimir Petrov").status_code == 200
    answer = post(integrator_client, name="Vladimir Petrov")
    assert answer.status_code == 200
    assert answer.json()["candidates"]


def test_each_search_is_audited_with_its_query_and_candidate_count(analyst_client, integrator_client, lists):
    answer = post(analyst_client, name="Vladimir Petrov", birthDate="1961", countries=["ru"], minScore=0)
    data = answer.json()
    row = AuditTrail.objects.get(pk=data["searchId"])
    assert row.action == "screening.searched"
    assert row.actor_user == analyst_client.user
    assert row.object_repr == "Vladimir Petrov"
    assert row.after["query"]["name"] == "Vladimir Petrov"
    assert row.after["query"]["birthDate"] == "1961"
    assert row.after["query"]["countries"] == ["RU"]
    assert row.after["candidates"] == len(data["candidates"])
    assert row.after["entries"][0]["id"] == data["candidates"][0]["entryId"]
    by_key = post(integrator_client, name="Nobody Atall").json()
    assert by_key["candidates"] == []
    key_row = AuditTrail.objects.get(pk=by_key["searchId"])
    assert key_row.actor_api_key is not None
    assert key_row.after["candidates"] == 0


def test_queries_do_not_grow_with_the_candidates(analyst_client, lists):
    post(analyst_client, name="warm up")  # credentials and permissions read once per process
    with CaptureQueriesContext(connection) as one:
        found = post(analyst_client, name="Petrov Trading", entityType="ORGANISATION", minScore=0).json()
    assert len(found["candidates"]) == 1
    with CaptureQueriesContext(connection) as many:
        found = post(analyst_client, name="Vladimir Petrov", minScore=0).json()
    assert len(found["candidates"]) >= 4
    # 1 the access token; 2 key statistics and 3 the names under the rare keys (users.screening.index);
    # 4 the entries with their source; 5-7 the audit row (its savepoint inside the test's transaction)
    assert len(many) == len(one) <= 8


# --- the admin page ----------------------------------------------------------------------------


@pytest.fixture
def login(client):
    def _login(user):
        user.is_staff = True
        user.save()
        client.force_login(user)
        return client

    return _login


def test_admin_page_shows_ranked_results_with_links(login, analyst, lists):
    client = login(analyst)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert b"<form" in page.content
    assert b"Search" in page.content
    page = client.get(
        PAGE, {"name": "Vladimir Petrov", "birth_date": "1961-08-23", "countries": "ru", "limit": 10}
    )
    assert page.status_code == 200, page.content
    html = page.content.decode()
    rows = page.context["rows"]
    assert rows
    assert rows[0]["candidate"].entry.name == "Vladimir Petrov"
    assert f"/admin/users/watchlistentry/{rows[0]['candidate'].entry.pk}/change/" in html
    assert "date of birth agrees" in html
    assert AuditTrail.objects.filter(action="screening.searched", actor_user=analyst).count() == 1
    # the entry list and the admin index link the page
    assert PAGE in client.get("/admin/users/watchlistentry/").content.decode()
    assert PAGE in client.get("/admin/").content.decode()


def test_admin_page_shows_refusals_beside_their_fields(login, analyst):
    client = login(analyst)
    page = client.get(PAGE, {"name": "Ivan", "birth_date": "1961-13", "countries": "zz", "limit": 10})
    assert page.status_code == 200
    form = page.context["form"]
    assert "countries" in form.errors
    page = client.get(PAGE, {"name": "Ivan", "birth_date": "1961-13", "limit": 10})
    assert "birth_date" in page.context["form"].errors
    assert not AuditTrail.objects.filter(action="screening.searched").exists()


def test_admin_page_needs_the_permission(login, outsider):
    client = login(outsider)
    assert client.get(PAGE).status_code == 403
    assert PAGE not in client.get("/admin/").content.decode()
