"""Issue 3: the risk model as data — each factor moves the score, thresholds map levels,
contamination works both ways, risk trails follow their id rules, approval is four-eyes."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from compliance.audit import Actor
from compliance.reference import models as ref
from tests.conftest import ON_REAL_STACK, wait_for
from tests.users.conftest import create_customer
from users.lists import BY_PATH, CHECKED_BY_ID
from users.models import Customer, Review, RiskFactor, RiskLevelThreshold, RiskTrail
from users.services import customers as customer_services
from users.services import kyc

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system_actor("tests")


def score_of(customer, factor_name):
    customer = Customer.objects.get(pk=customer.pk)
    for group in customer.risk_breakdown.values():
        for item in group["contents"]:
            if item["name"] == factor_name:
                return item["score"]
    raise AssertionError(f"no factor {factor_name}")


def add(customer, path, **values):
    return kyc.kyc_rows_add(actor=SYSTEM, customer=customer, kyc_list=BY_PATH[path], rows=[values])


def check(customer, list_id, *ids):
    model = {
        "documents": ref.DocumentType,
        "activity-risks": ref.ActivityRisk,
        "behavior-risks": ref.BehaviorRisk,
        "enhanced-checks": ref.EnhancedCheck,
    }[list_id]
    kyc.checked_list_change(
        actor=SYSTEM,
        customer=customer,
        checked=CHECKED_BY_ID[list_id],
        added=list(model.objects.filter(pk__in=ids)),
    )


def update(customer, **fields):
    return customer_services.customer_update(actor=SYSTEM, customer=customer, fields=fields)


def country(pk):
    return ref.Country.objects.get(pk=pk)


@pytest.fixture
def risky_country():
    c = ref.Country.objects.get(alpha2="KP")
    assert c.risk_score == 100  # FATF call for action
    return c


@pytest.fixture
def safe_country():
    c = ref.Country.objects.get(alpha2="FR")
    assert c.risk_score == 0
    return c


# --- each factor -------------------------------------------------------------------------


def test_screening(person):
    assert score_of(person, "Screening") == 0
    add(
        person,
        "screening-risks",
        screening_risk_type=ref.ScreeningRiskType.objects.get(pk=4),
        full_name="J D",
        score=90,
    )
    assert score_of(person, "Screening") == 100  # uninspected strong hit
    add(
        person,
        "screening-risks",
        screening_risk_type=ref.ScreeningRiskType.objects.get(pk=2),
        full_name="J D",
        score=100,
        inspected=True,
        confirmed=True,
    )
    assert score_of(person, "Screening") == 300  # confirmed PEP
    add(
        person,
        "screening-risks",
        screening_risk_type=ref.ScreeningRiskType.objects.get(pk=1),
        full_name="J D",
        score=99,
        inspected=True,
        confirmed=False,
    )
    assert score_of(person, "Screening") == 300  # a cleared false positive adds nothing


def test_non_face_to_face_and_its_mitigation(person):
    assert score_of(person, "Non Face to Face") == 0
    update(person, non_face_to_face=True)
    assert score_of(person, "Non Face to Face") == 100
    check(person, "enhanced-checks", 1)  # second identification document
    assert score_of(person, "Non Face to Face") == 0


def test_id_card(person):
    card_type = ref.IdCardType.objects.get(pk=1)
    assert score_of(person, "ID Card") == 300
    add(person, "id-card", id_card_type=card_type, number="1", expiration_date=date(2020, 1, 1), copy=True)
    assert score_of(person, "ID Card") == 300  # expired
    add(person, "id-card", id_card_type=card_type, number="2", expiration_date=date(2080, 1, 1), copy=False)
    assert score_of(person, "ID Card") == 50  # valid, no copy on file
    add(person, "id-card", id_card_type=card_type, number="3", expiration_date=None, copy=True)
    assert score_of(person, "ID Card") == 0


def test_entity_type(organisation):
    assert score_of(organisation, "Entity Type") == 50  # unknown legal form
    update(organisation, incorporation_type=ref.IncorporationType.objects.get(pk=6))
    assert score_of(organisation, "Entity Type") == 200  # trust
    update(organisation, incorporation_type=ref.IncorporationType.objects.get(pk=1))
    assert score_of(organisation, "Entity Type") == 0


def test_address(person, safe_country):
    assert score_of(person, "Address") == 300
    add(person, "addresses", country=safe_country, city="Paris", verified=False)
    assert score_of(person, "Address") == 300
    add(person, "addresses", country=safe_country, city="Lyon", verified=True)
    assert score_of(person, "Address") == 0


def test_communication_means(person):
    email, phone = ref.CommunicationMeansType.objects.get(pk=4), ref.CommunicationMeansType.objects.get(pk=1)
    assert score_of(person, "Communication Means") == 100
    add(person, "communication-means", communication_means_type=email, value="a@example.com")
    assert score_of(person, "Communication Means") == 20
    add(person, "communication-means", communication_means_type=phone, value="99999999")
    assert score_of(person, "Communication Means") == 0


def test_missing_documents(organisation):
    assert score_of(organisation, "Missing Documents") == 80  # four required, 20 each
    check(organisation, "documents", 6, 8)
    assert score_of(organisation, "Missing Documents") == 40
    ref.DocumentType.objects.filter(pk=11).update(required_for_organisation=True)  # the admin adds one
    update(organisation, other_info="rescore")  # no input changed for the trail, but the model did
    assert score_of(organisation, "Missing Documents") == 60


def test_activity_and_behavior(person):
    check(person, "activity-risks", 2, 6)
    assert score_of(person, "Activity") == 200
    check(person, "behavior-risks", 3)
    assert score_of(person, "Behavior") == 100


def test_wealth(person):
    declared, verified = ref.WealthStatus.objects.get(pk=1), ref.WealthStatus.objects.get(pk=2)
    add(
        person,
        "wealth",
        wealth_scale=ref.WealthScale.objects.get(pk=2),
        wealth_status=declared,
        source="Salary",
    )
    assert score_of(person, "Wealth") == 0
    result = add(
        person, "wealth", wealth_scale=ref.WealthScale.objects.get(pk=6), wealth_status=declared, source="Oil"
    )
    assert score_of(person, "Wealth") == 150
    row = person.wealth_entries.get(source="Oil")
    kyc.kyc_row_update(
        actor=SYSTEM,
        customer=person,
        kyc_list=BY_PATH["wealth"],
        row_id=row.pk,
        changes={"wealth_status": verified},
    )
    assert score_of(person, "Wealth") == 0
    assert result.risk_trail_id


def test_financial_statements(organisation):
    kind = ref.StatementType.objects.get(pk=1)
    assert score_of(organisation, "Financial Statements") == 100
    add(organisation, "financial-statement", statement_type=kind, year=2005, copy=True)
    assert score_of(organisation, "Financial Statements") == 100  # too old
    add(
        organisation,
        "financial-statement",
        statement_type=kind,
        year=timezone.localdate().year - 1,
        copy=False,
    )
    assert score_of(organisation, "Financial Statements") == 30
    add(organisation, "financial-statement", statement_type=kind, year=timezone.localdate().year, copy=True)
    assert score_of(organisation, "Financial Statements") == 0


def test_countries(person, risky_country, safe_country):
    update(person, country_residence=safe_country)
    assert score_of(person, "Countries") == 0
    update(person, country_nationality=risky_country)
    assert score_of(person, "Countries") == 300  # risk 100 x multiplier 3
    # The country table is data: re-scoring the country moves the factor.
    ref.Country.objects.filter(pk=risky_country.pk).update(risk_score=60)
    update(person, other_info="rescore")
    assert score_of(person, "Countries") == 180


def test_country_presence_and_counterparty(organisation, risky_country, safe_country):
    grey = ref.Country.objects.filter(risk_score=60).first()
    add(organisation, "country-presence", country=grey, year=2010)
    add(organisation, "country-presence", country=safe_country, year=2010)
    assert score_of(organisation, "Country Presence") == 60
    add(
        organisation,
        "counterparty",
        fund_type=ref.FundType.objects.get(pk=1),
        country=risky_country,
        counterpart_name="X",
    )
    assert score_of(organisation, "Counterparty") == 200


def test_referral_and_relationship_length(person):
    assert score_of(person, "Referred by third party") == 0
    update(person, referral_agent="Introducer Ltd")
    assert score_of(person, "Referred by third party") == 100
    today = timezone.localdate()
    assert score_of(person, "Relationship Length") == 50  # no start date
    update(person, relationship_start_date=today - timedelta(days=30))
    assert score_of(person, "Relationship Length") == 50
    update(person, relationship_start_date=today - timedelta(days=550))
    assert score_of(person, "Relationship Length") == 20
    update(person, relationship_start_date=today - timedelta(days=365 * 10))
    assert score_of(person, "Relationship Length") == 0


def test_factor_parameters_and_activity_are_data(person):
    check(person, "behavior-risks", 3, 5)
    assert score_of(person, "Behavior") == 200
    RiskFactor.objects.filter(code="behavior").update(parameters={"points_per_risk": 40, "max_points": 60})
    update(person, other_info="rescore")
    assert score_of(person, "Behavior") == 60
    RiskFactor.objects.filter(code="behavior").update(is_active=False)
    update(person, other_info="rescore again")
    assert score_of(person, "Behavior") == 0


def test_global_score_is_the_sum_and_levels_follow_thresholds(person):
    person = Customer.objects.get(pk=person.pk)
    assert person.risk_score == sum(g["score"] for g in person.risk_breakdown.values())
    # Default thresholds: VERY_LOW 0, LOW 200, MEDIUM 400, HIGH 700, VERY_HIGH 1000.
    own = person.risk_score
    RiskLevelThreshold.objects.filter(level="VERY_HIGH").update(min_score=own)
    update(person, other_info="rescore")
    assert Customer.objects.get(pk=person.pk).risk_level == "VERY_HIGH"
    RiskLevelThreshold.objects.filter(level="VERY_HIGH").update(min_score=own + 1)
    RiskLevelThreshold.objects.filter(level="HIGH").update(min_score=own)
    update(person, other_info="rescore again")
    assert Customer.objects.get(pk=person.pk).risk_level == "HIGH"


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (0, "VERY_LOW"),
        (199, "VERY_LOW"),
        (200, "LOW"),
        (400, "MEDIUM"),
        (699, "MEDIUM"),
        (700, "HIGH"),
        (1000, "VERY_HIGH"),
        (5000, "VERY_HIGH"),
    ],
)
def test_level_thresholds(score, level):
    from users.risk.model import RiskModel

    assert RiskModel.load().level_for(score) == level


# --- contamination -------------------------------------------------------------------------


def _risky(customer):
    """Push a customer's own score up: a confirmed sanctions hit (1000)."""
    add(
        customer,
        "screening-risks",
        screening_risk_type=ref.ScreeningRiskType.objects.get(pk=1),
        full_name="X",
        score=100,
        inspected=True,
        confirmed=True,
    )
    return Customer.objects.get(pk=customer.pk)


def test_contamination_from_the_organisation_to_its_shareholder(person, organisation):
    kyc.stake_add(actor=SYSTEM, holder=person, entity=organisation, percentage=25)
    organisation = _risky(organisation)
    person = Customer.objects.get(pk=person.pk)
    assert person.risk_contaminators == [
        {"idCustomer": organisation.pk, "newCalculatedRisk": organisation.risk_score}
    ]
    assert person.risk_effective_score == organisation.risk_score > person.risk_score
    assert person.risk_level == organisation.risk_level
    # The contamination itself is a risk trail of the shareholder.
    assert RiskTrail.objects.filter(customer=person).first().cause.startswith("contamination")


def test_contamination_from_the_shareholder_to_the_organisation(person, organisation):
    kyc.association_add(
        actor=SYSTEM, associate=person, customer=organisation, role=ref.AssociationRole.objects.get(pk=1)
    )
    person = _risky(person)
    organisation = Customer.objects.get(pk=organisation.pk)
    assert [c["idCustomer"] for c in organisation.risk_contaminators] == [person.pk]
    assert organisation.risk_effective_score == person.risk_score
    # GET .../risk shows the contaminator, global.score stays the own score.
    assert person.risk_contaminators == []


def test_removing_the_association_ends_the_contamination(person, organisation):
    result = kyc.stake_add(actor=SYSTEM, holder=person, entity=organisation)
    _risky(organisation)
    assert Customer.objects.get(pk=person.pk).risk_contaminators
    stake = person.stakes_out.get()
    kyc.stake_remove(actor=SYSTEM, holder=person, stake_id=stake.pk)
    person = Customer.objects.get(pk=person.pk)
    assert person.risk_contaminators == []
    assert person.risk_effective_score == person.risk_score
    assert result.risk_trail_id


def test_a_lower_associate_does_not_contaminate(person, organisation):
    _risky(person)
    kyc.stake_add(actor=SYSTEM, holder=person, entity=organisation)
    assert Customer.objects.get(pk=person.pk).risk_contaminators == []


def test_deleting_a_contaminator_releases_its_associates(person, organisation):
    kyc.stake_add(actor=SYSTEM, holder=person, entity=organisation)
    organisation = _risky(organisation)
    customer_services.customer_delete(actor=SYSTEM, customer=organisation)
    assert Customer.objects.get(pk=person.pk).risk_contaminators == []


def test_many_associates_are_settled_in_a_worker(
    settings, monkeypatch, organisation, django_capture_on_commit_callbacks
):
    from compliance.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    settings.RISK_CONTAMINATION_INLINE_LIMIT = 1
    holders = [create_customer(ref=f"H{i}") for i in range(3)]
    for holder in holders:
        kyc.stake_add(actor=SYSTEM, holder=holder, entity=organisation)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _risky(organisation)
    # Not settled inline: three associates exceed the limit of one...
    assert all(Customer.objects.get(pk=h.pk).risk_contaminators == [] for h in holders)
    assert len(callbacks) == 1
    callbacks[0]()  # ...but by the task enqueued after commit.
    assert all(Customer.objects.get(pk=h.pk).risk_contaminators for h in holders)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(not ON_REAL_STACK, reason="needs PostgreSQL and Redis")
def test_contamination_task_runs_in_a_real_worker(settings, celery_worker_process):
    settings.RISK_CONTAMINATION_INLINE_LIMIT = 0
    organisation = create_customer(ref="W-ORG", person=False)
    holder = create_customer(ref="W-HOLDER")
    kyc.stake_add(actor=SYSTEM, holder=holder, entity=organisation)
    _risky(organisation)
    assert wait_for(lambda: Customer.objects.get(pk=holder.pk).risk_contaminators, timeout=30)


# --- risk trails and four eyes --------------------------------------------------------------


def test_trail_ids_repeat_when_nothing_changes(person):
    first = RiskTrail.objects.filter(customer=person).get()
    again = update(person, other_info="not an input")
    assert again.risk_trail_id == first.pk
    changed = update(person, non_face_to_face=True)
    assert changed.risk_trail_id > first.pk
    trail = RiskTrail.objects.get(pk=changed.risk_trail_id)
    assert trail.cause == "customer changed"
    assert trail.score == Customer.objects.get(pk=person.pk).risk_score


def test_trail_on_input_change_even_when_the_score_stays(person, safe_country):
    add(person, "addresses", country=safe_country, verified=True)
    before = Customer.objects.get(pk=person.pk)
    result = add(person, "addresses", country=safe_country, verified=False)  # inputs change, score does not
    assert Customer.objects.get(pk=person.pk).risk_score == before.risk_score
    assert result.risk_trail_id == RiskTrail.objects.filter(customer=person).first().pk
    assert RiskTrail.objects.filter(customer=person).count() == 3


def test_approval_needs_the_approver_role(analyst_client, integrator_client, person):
    trail = RiskTrail.objects.filter(customer=person).first()
    body = {"idApprovalStatus": 1, "idRiskType": 1, "comments": "Lorem Ipsum"}
    assert analyst_client.put(f"/api/customer/risk-trails/{trail.pk}", body, format="json").status_code == 403
    assert (
        integrator_client.put(f"/api/customer/risk-trails/{trail.pk}", body, format="json").status_code == 403
    )


def test_four_eyes_refuses_the_author(approver, approver_client):
    customer = create_customer(ref="FE1", actor=Actor(user=approver))
    trail = RiskTrail.objects.filter(customer=customer).first()
    response = approver_client.put(
        f"/api/customer/risk-trails/{trail.pk}", {"idApprovalStatus": 1, "idRiskType": 1}, format="json"
    )
    assert response.status_code == 403
    assert "Four eyes" in response.json()["message"]
    assert not RiskTrail.objects.get(pk=trail.pk).reviewed


def test_approval_records_the_review_and_schedules_the_next(analyst, approver, approver_client):
    customer = create_customer(ref="AP1", actor=Actor(user=analyst))
    trail = RiskTrail.objects.filter(customer=customer).first()
    response = approver_client.put(
        f"/api/customer/risk-trails/{trail.pk}",
        {"idApprovalStatus": 1, "idRiskType": 2, "comments": "Lorem Ipsum"},
        format="json",
    )
    assert response.status_code == 200
    [item] = response.json()
    review = Review.objects.get(pk=item["idReview"])
    assert set(item) == {"idReview"}
    months = {"VERY_HIGH": 6, "HIGH": 12, "MEDIUM": 24, "LOW": 36, "VERY_LOW": 60}[trail.level]
    from users.services.reviews import add_months

    assert review.scheduled_date == add_months(timezone.localdate(), months)
    assert review.scheduler == approver
    assert review.reviewed is False
    trail.refresh_from_db()
    assert trail.reviewed
    assert trail.reviewer == approver
    assert trail.approval_status_id == 1
    assert trail.risk_type_id == 2
    assert Customer.objects.get(pk=customer.pk).next_review_date == review.scheduled_date

    listed = approver_client.get("/api/customer/AP1/risk-trails?limits=1").json()
    assert listed["reviewed"] is True
    assert listed["userReviewerName"] == approver.username
    assert listed["approvalStatusName"] == "Approved"
    assert listed["idRiskType"] == 2

    reviews = approver_client.get("/api/customer/AP1/reviews").json()
    assert reviews[0]["idReview"] == review.pk
    assert reviews[0]["reviewed"] is False
    assert set(reviews[0]) == {
        "id",
        "idReview",
        "createdDate",
        "scheduledDate",
        "reviewedDate",
        "reviewed",
        "comments",
        "idCustomer",
        "idUserScheduler",
        "idUserReviewer",
        "userReviewerName",
    }
    # A trail is reviewed once; a second approval of the customer moves its one open review.
    again = approver_client.put(
        f"/api/customer/risk-trails/{trail.pk}", {"idApprovalStatus": 1, "idRiskType": 2}, format="json"
    )
    assert again.status_code == 409
    newer = customer_services.customer_update(
        actor=Actor(user=analyst), customer=customer, fields={"non_face_to_face": True}
    )
    moved = approver_client.put(
        f"/api/customer/risk-trails/{newer.risk_trail_id}",
        {"idApprovalStatus": 1, "idRiskType": 3},
        format="json",
    )
    assert moved.json() == [{"idReview": review.pk}]
    assert Review.objects.filter(customer=customer, reviewed=False).count() == 1


def test_rejection_schedules_nothing(analyst, approver_client):
    customer = create_customer(ref="RJ1", actor=Actor(user=analyst))
    trail = RiskTrail.objects.filter(customer=customer).first()
    response = approver_client.put(
        f"/api/customer/risk-trails/{trail.pk}", {"idApprovalStatus": 2, "idRiskType": 3}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == []
    assert not Review.objects.filter(customer=customer).exists()


def test_review_bad_input(approver_client, person):
    trail = RiskTrail.objects.filter(customer=person).first()
    response = approver_client.put(
        f"/api/customer/risk-trails/{trail.pk}", {"idApprovalStatus": 7}, format="json"
    )
    assert response.status_code == 400
    assert {e["property"] for e in response.json()["errors"]} == {"idApprovalStatus", "idRiskType"}
    assert (
        approver_client.put(
            "/api/customer/risk-trails/999999", {"idApprovalStatus": 1, "idRiskType": 1}, format="json"
        ).status_code
        == 404
    )
    assert (
        approver_client.put(
            "/api/customer/risk-trails/abc", {"idApprovalStatus": 1, "idRiskType": 1}, format="json"
        ).status_code
        == 404
    )


def test_recalculate_all_is_idempotent(make_customer):
    from users.services.risk import risk_recalculate_all

    customers = [make_customer(ref=f"R{i}", person=i % 2 == 0) for i in range(5)]
    kyc.stake_add(actor=SYSTEM, holder=customers[0], entity=customers[1])
    first = risk_recalculate_all(actor=SYSTEM, cause="test", chunk_size=2)
    assert first["customers"] == 5
    second = risk_recalculate_all(actor=SYSTEM, cause="test", chunk_size=2)
    assert second["trails"] == 0


@pytest.mark.skipif(not ON_REAL_STACK, reason="the trigger is PostgreSQL's")
def test_the_database_keeps_risk_trails_append_only(person, approver):
    from django.db import DatabaseError, transaction

    trail = RiskTrail.objects.filter(customer=person).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        RiskTrail.objects.filter(pk=trail.pk).update(score=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        RiskTrail.objects.filter(pk=trail.pk).delete()
    # Its one review may be filled in; not a second one.
    RiskTrail.objects.filter(pk=trail.pk).update(
        reviewed=True, reviewer=approver, approval_status=ref.ApprovalStatus.objects.get(pk=1)
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        RiskTrail.objects.filter(pk=trail.pk).update(comments="changed my mind")


def test_a_factor_row_must_be_readable_by_its_scoring_function():
    from django.core.exceptions import ValidationError

    factor = RiskFactor.objects.get(code="behavior")
    factor.parameters = {"points_per_risk": 40, "max_points": 60}
    factor.full_clean()
    factor.parameters = {"points_per_risk": "forty"}
    with pytest.raises(ValidationError, match="points_per_risk must be a number"):
        factor.full_clean()
    factor.parameters = {"points_per_rsik": 40}
    with pytest.raises(ValidationError, match="Unknown parameter"):
        factor.full_clean()
    factor.parameters, factor.code = {}, "astrology"
    with pytest.raises(ValidationError, match="No scoring function"):
        factor.full_clean()
