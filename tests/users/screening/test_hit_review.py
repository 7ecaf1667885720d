"""Reviewing screening hits (issue 6 point 6): confirm / dismiss / back to pending through the
service, the seed 003 API and the admin; the Screening risk factor and `pepStatus` follow."""

import pytest
from django.urls import reverse

from compliance.audit import Actor
from compliance.errors import ApplicationError
from compliance.models import AuditTrail, OutboxEvent
from tests.users.conftest import create_customer
from tests.users.screening.lists import entity, load
from users.models import Customer, ScreeningRisk
from users.screening.customers import screen_customer
from users.screening.hits import screening_risk_review

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system_actor("tests")


def screening_points(customer) -> int:
    customer = Customer.objects.get(pk=customer.pk)
    return customer.risk_breakdown["screening"]["score"]


def reviewed_events():
    events = OutboxEvent.objects.filter(name="screening.hit_reviewed").order_by("created_at")
    return [e.payload for e in events]


@pytest.fixture
def sanctioned():
    """A customer with a pending hit on a sanctions list."""
    load([entity("NK-1", "Mohammed Bagher Ghalibaf", birth_date="1961-08-23", nationality="ir")])
    customer = create_customer(
        ref="MBG1", first_name="Mohammad Baqer", last_name="Qalibaf", date_birth="1961-08-23"
    )
    (row,) = screen_customer(customer_id=customer.pk, actor=SYSTEM)
    return row


@pytest.fixture
def pep():
    """A customer with a pending hit on a PEP list."""
    load(
        [entity("PEP-1", "Viktor Orban", birth_date="1963-05-31", nationality="hu")],
        code="peps",
        kind="PEP",
    )
    customer = create_customer(ref="VO1", first_name="Viktor", last_name="Orbán", date_birth="1963-05-31")
    (row,) = screen_customer(customer_id=customer.pk, actor=SYSTEM)
    return row


def test_confirmed_hits_score_their_list_dismissed_ones_nothing(sanctioned):
    customer = sanctioned.customer
    assert sanctioned.score >= 85
    assert screening_points(customer) == 100  # pending, strong: counts while nobody looked
    result = screening_risk_review(
        actor=SYSTEM, screening_risk=sanctioned, status="CONFIRMED", comment="same DOB"
    )
    assert screening_points(customer) == 1000  # a confirmed sanctions hit
    assert result.risk_trail_id is not None
    row = ScreeningRisk.objects.get(pk=sanctioned.pk)
    assert (row.inspected, row.confirmed) == (True, True)
    assert row.match["review"]["comment"] == "same DOB"
    audit = AuditTrail.objects.get(pk=result.audit_id)
    assert audit.after["review"] == {"status": "CONFIRMED", "comment": "same DOB"}
    screening_risk_review(actor=SYSTEM, screening_risk=sanctioned, status="DISMISSED")
    assert screening_points(customer) == 0
    assert (
        ScreeningRisk.objects.get(pk=sanctioned.pk).inspected,
        ScreeningRisk.objects.get(pk=sanctioned.pk).confirmed,
    ) == (True, False)
    screening_risk_review(actor=SYSTEM, screening_risk=sanctioned, status="PENDING")
    assert screening_points(customer) == 100
    assert [e["status"] for e in reviewed_events()] == ["CONFIRMED", "DISMISSED", "PENDING"]
    assert reviewed_events()[0] == {
        "userId": "MBG1",
        "customerId": customer.pk,
        "screeningRiskId": sanctioned.pk,
        "entryId": sanctioned.watchlist_entry_id,
        "status": "CONFIRMED",
        "isOngoingScreeningHit": False,
    }


def test_an_unchanged_status_is_not_announced_again_and_bad_statuses_are_refused(sanctioned):
    screening_risk_review(actor=SYSTEM, screening_risk=sanctioned.pk, status="dismissed")
    screening_risk_review(actor=SYSTEM, screening_risk=sanctioned.pk, status="DISMISSED")
    assert len(reviewed_events()) == 1
    with pytest.raises(ApplicationError) as refused:
        screening_risk_review(actor=SYSTEM, screening_risk=sanctioned, status="MAYBE")
    assert "status" in refused.value.errors


def test_confirming_a_pep_hit_sets_pep_status_and_dismissing_removes_it(
    pep, integrator_client, analyst_client
):
    customer = pep.customer
    screening_risk_review(actor=SYSTEM, screening_risk=pep, status="CONFIRMED")
    assert Customer.objects.get(pk=customer.pk).pep_status == [{"isPepHit": True, "pepCountry": "HU"}]
    assert screening_points(customer) == 300  # the PEP list's points
    # the seed 004 user shows it
    user = integrator_client.get(reverse("individual-user-detail", kwargs={"userId": "VO1"}))
    assert user.status_code == 200, user.content
    assert user.json()["pepStatus"] == [{"isPepHit": True, "pepCountry": "HU"}]
    # confirming again adds nothing
    screening_risk_review(actor=SYSTEM, screening_risk=pep, status="CONFIRMED")
    assert len(Customer.objects.get(pk=customer.pk).pep_status) == 1
    screening_risk_review(actor=SYSTEM, screening_risk=pep, status="DISMISSED")
    assert Customer.objects.get(pk=customer.pk).pep_status == []


def test_pep_status_sent_by_the_integrator_is_kept(pep):
    Customer.objects.filter(pk=pep.customer_id).update(pep_status=[{"isPepHit": True, "pepCountry": "HU"}])
    screening_risk_review(actor=SYSTEM, screening_risk=pep, status="CONFIRMED")
    screening_risk_review(actor=SYSTEM, screening_risk=pep, status="DISMISSED")
    assert Customer.objects.get(pk=pep.customer_id).pep_status == [{"isPepHit": True, "pepCountry": "HU"}]


def test_the_seed_003_put_reviews_with_the_same_effects(pep, integrator_client):
    url = f"/api/customer/VO1/screening-risks/{pep.pk}"
    response = integrator_client.put(url, {"inspected": True, "confirmed": True}, format="json")
    assert response.status_code == 200, response.content
    assert Customer.objects.get(pk=pep.customer_id).pep_status == [{"isPepHit": True, "pepCountry": "HU"}]
    assert screening_points(pep.customer) == 300
    assert reviewed_events()[-1]["status"] == "CONFIRMED"
    audit = AuditTrail.objects.get(pk=response.json()["idAuditTrail"])
    assert audit.after["pepStatus"] == [{"isPepHit": True, "pepCountry": "HU"}]
    response = integrator_client.put(url, {"confirmed": False}, format="json")
    assert response.status_code == 200
    assert reviewed_events()[-1]["status"] == "DISMISSED"
    assert Customer.objects.get(pk=pep.customer_id).pep_status == []
    assert screening_points(pep.customer) == 0
    # a change that is not a review is not announced as one
    integrator_client.put(url, {"score": 90}, format="json")
    assert len(reviewed_events()) == 2


@pytest.fixture
def admin_client(client, analyst):
    analyst.is_staff = True
    analyst.save()
    client.force_login(analyst)
    return client


def test_admin_hit_page_shows_the_explanation_and_the_entry_and_reviews(admin_client, sanctioned):
    page = admin_client.get(reverse("admin:users_screeningrisk_change", args=[sanctioned.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mohammad Baqer Qalibaf" in html  # searched
    assert "date of birth agrees" in html
    assert reverse("admin:users_watchlistentry_change", args=[sanctioned.watchlist_entry_id]) in html
    assert "Pending review" in html
    review = reverse("admin:users_screeningrisk_review", args=[sanctioned.pk, "CONFIRMED"])
    assert review in html
    response = admin_client.post(review, {"review_comment": "passport checked"})
    assert response.status_code == 302
    row = ScreeningRisk.objects.get(pk=sanctioned.pk)
    assert (row.inspected, row.confirmed) == (True, True)
    assert row.match["review"]["comment"] == "passport checked"
    assert screening_points(row.customer) == 1000
    assert admin_client.get(review).status_code == 405


def test_admin_actions_review_many_hits(admin_client, sanctioned):
    changelist = reverse("admin:users_screeningrisk_changelist")
    assert admin_client.get(changelist).status_code == 200
    response = admin_client.post(changelist, {"action": "dismiss_hits", "_selected_action": [sanctioned.pk]})
    assert response.status_code == 302
    row = ScreeningRisk.objects.get(pk=sanctioned.pk)
    assert (row.inspected, row.confirmed) == (True, False)
    assert reviewed_events()[-1]["status"] == "DISMISSED"
    assert screening_points(row.customer) == 0


def test_customer_page_shows_hits_with_their_explanation(admin_client, sanctioned):
    page = admin_client.get(reverse("admin:users_customer_change", args=[sanctioned.customer_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "date of birth agrees" in html
    assert reverse("admin:users_screeningrisk_change", args=[sanctioned.pk]) in html


def test_deleting_a_confirmed_pep_hit_takes_back_its_pep_status(pep, integrator_client):
    screening_risk_review(actor=SYSTEM, screening_risk=pep, status="CONFIRMED")
    response = integrator_client.delete(f"/api/customer/VO1/screening-risks/{pep.pk}")
    assert response.status_code == 200, response.content
    assert Customer.objects.get(pk=pep.customer_id).pep_status == []
    assert screening_points(pep.customer) == 0
