"""The analysts' customer screens, through the real admin URLs, as each persona.

Writes made in the admin must land where the API's land: through the services, with an
audit row, a re-score and a risk trail when the risk moved.
"""

import pytest
from django.db import connection
from django.urls import reverse

from compliance.audit import Actor
from compliance.models import AuditTrail
from compliance.reference.models import ActivityRisk, Gender
from tests.users.conftest import create_customer
from users import tasks
from users.admin import EstimatedCountPaginator
from users.models import Address, Customer, Review, RiskFactor, RiskTrail, Stake

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/users/customer/"


def change_url(customer):
    return reverse("admin:users_customer_change", args=[customer.pk])


def review_url(trail):
    return reverse("admin:users_risktrail_review", args=[trail.pk])


@pytest.fixture
def login(client):
    """Log a persona in to the admin; personas are staff members as the admin requires."""

    def _login(user):
        user.is_staff = True
        user.save()
        client.force_login(user)
        return client

    return _login


def form_data(response) -> dict:
    """What the browser posts back for an unchanged page: the form, every inline, their management forms."""
    data, forms = {}, [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        data.update(bound_values(inline.formset.management_form))
        forms.extend(inline.formset.forms)
    for form in forms:
        data.update(bound_values(form))
    return data


def bound_values(form) -> dict:
    """A form's current values as a browser posts them: unticked boxes and empty fields are absent."""
    data = {}
    for bf in form:
        value = bf.value()
        if value is None or value is False:
            continue
        if value is True:
            data[bf.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bf.html_name] = [str(v) for v in value]
        else:
            data[bf.html_name] = str(value)
    return data


def add_inline_row(data: dict, prefix: str, **values) -> dict:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    data.update({f"{prefix}-{index}-{name}": value for name, value in values.items()})
    return data


def errors_of(response) -> str:
    if response.status_code != 200 or response.context is None:
        return ""
    return repr(list(response.context["errors"]))


def fieldset_names(page) -> list[str]:
    return [name or "Main" for name, _ in page.context["adminform"].fieldsets]


def latest_audit(customer):
    return AuditTrail.objects.filter(object_type="users.customer", object_id=str(customer.pk)).latest("id")


# --- the list ------------------------------------------------------------------------------


def test_changelist_search_and_every_filter_render_for_an_analyst(login, analyst, person, organisation):
    client = login(analyst)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "JD001" in html
    assert "ACME Corporation LTD" in html
    assert "Add person" in html
    filters = [{"kind": "1"}, {"kind": "2"}, {"status": "1"}, {"q": "acme"}, {"q": "JD0"}]
    filters += [{"level": level} for level in ("VERY_LOW", "LOW", "MEDIUM", "HIGH", "VERY_HIGH")]
    filters += [{"due": due} for due in ("overdue", "30d", "later", "none")]
    for params in filters:
        assert client.get(CHANGELIST, params).status_code == 200, params
    organisations = client.get(CHANGELIST, {"kind": "2"}).content.decode()
    assert "AC001" in organisations
    assert "JD001" not in organisations


def test_risk_trail_review_and_event_lists_render_with_their_filters(login, approver, person):
    client = login(approver)
    for url, filters in (
        (
            "/admin/users/risktrail/",
            [{"reviewed": "no"}, {"reviewed": "yes"}, {"level": "HIGH"}, {"approval": "1"}],
        ),
        ("/admin/users/review/", [{"due": d} for d in ("overdue", "30d", "later", "none")]),
        ("/admin/users/userevent/", [{"kind": "ENTITY"}]),
        ("/admin/users/riskfactor/", [{"category": "kyc"}]),
    ):
        assert client.get(url).status_code == 200, url
        for params in filters:
            assert client.get(url, params).status_code == 200, (url, params)
    assert client.get(f"/admin/users/risktrail/?customer={person.pk}").status_code == 200
    assert client.get("/admin/users/risktrail/add/").status_code == 403  # trails come from scoring only


# --- the customer page ------------------------------------------------------------------


def test_person_page_shows_the_breakdown_and_the_person_lists(login, analyst, person):
    page = login(analyst).get(change_url(person))
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("KYC Risks", "ID Card", "Economic Profile Risks", "Screening Risks"):
        assert label in html
    assert f"<td>{person.risk_score}</td>" in html
    prefixes = {inline.formset.prefix for inline in page.context["inline_admin_formsets"]}
    assert {"id_cards", "addresses", "communication_means", "documents", "events", "stakes_out"} <= prefixes
    assert not {"funds", "financial_statements", "country_presences", "stakes_in"} & prefixes
    assert fieldset_names(page) == [
        "Main",
        "Risk",
        "Person",
        "Checked lists",
        "Seed 004 user fields",
        "Record",
    ]
    assert 'id="risk-trails"' in html


def test_organisation_page_shows_the_organisation_lists(login, analyst, organisation):
    page = login(analyst).get(change_url(organisation))
    assert page.status_code == 200
    prefixes = {inline.formset.prefix for inline in page.context["inline_admin_formsets"]}
    assert {"funds", "financial_statements", "country_presences", "stakes_in", "roles_in"} <= prefixes
    assert "id_cards" not in prefixes
    assert "Organisation" in fieldset_names(page)
    assert "Person" not in fieldset_names(page)
    assert "Entity Type" in page.content.decode()


def test_compliance_admin_sees_the_customer_read_only(login, compliance_admin, person):
    page = login(compliance_admin).get(change_url(person))
    assert page.status_code == 200
    assert not page.context["adminform"].form.fields  # view only: nothing editable
    response = page.client.post(change_url(person), {"last_name": "Changed"})
    assert response.status_code == 403


def test_adding_an_address_through_the_inline_audits_and_rescores(login, analyst, person):
    client = login(analyst)
    trails_before = RiskTrail.objects.filter(customer=person).count()
    data = form_data(client.get(change_url(person)))
    add_inline_row(data, "addresses", street_name="1 Main Street", city="Nicosia", verified="on")
    response = client.post(change_url(person), data)
    assert response.status_code == 302, errors_of(response)

    address = Address.objects.get(customer=person)
    assert (address.street_name, address.verified) == ("1 Main Street", True)
    audit = latest_audit(person)
    assert audit.actor_user == analyst
    assert audit.after["addresses"]["added"][0]["street_name"] == "1 Main Street"
    rescored = Customer.objects.get(pk=person.pk)
    assert rescored.risk_score == person.risk_score - 300  # the Address factor: a verified address scores 0
    trail = RiskTrail.objects.filter(customer=person).latest("id")
    assert RiskTrail.objects.filter(customer=person).count() == trails_before + 1
    assert (trail.cause, trail.created_by) == ("addresses added", analyst)


def test_changing_and_removing_a_kyc_row_go_through_the_services(login, analyst, person):
    client = login(analyst)
    data = form_data(client.get(change_url(person)))
    add_inline_row(data, "addresses", street_name="Old Street", city="Limassol")
    add_inline_row(data, "addresses", street_name="Typo Street", DELETE="on")  # new, then removed
    assert client.post(change_url(person), data).status_code == 302
    address = Address.objects.get(customer=person)

    data = form_data(client.get(change_url(person)))
    data["addresses-0-street_name"] = "New Street"
    assert client.post(change_url(person), data).status_code == 302
    assert Address.objects.get(pk=address.pk).street_name == "New Street"
    audit = latest_audit(person)
    assert (audit.before["addresses"][0]["street_name"], audit.after["addresses"][0]["street_name"]) == (
        "Old Street",
        "New Street",
    )

    data = form_data(client.get(change_url(person)))
    data["addresses-0-DELETE"] = "on"
    assert client.post(change_url(person), data).status_code == 302
    assert not Address.objects.filter(customer=person).exists()
    assert latest_audit(person).before["addresses"]["removed"][0]["id"] == address.pk


def test_saving_the_customer_goes_through_the_service(login, analyst, person):
    client = login(analyst)
    data = form_data(client.get(change_url(person)))
    data["last_name"] = "Smith"
    response = client.post(change_url(person), data)
    assert response.status_code == 302, errors_of(response)
    person.refresh_from_db()
    assert (person.last_name, person.last_modified_by) == ("Smith", analyst)
    audit = latest_audit(person)
    assert audit.action == AuditTrail.Action.UPDATE
    assert (audit.before["last_name"], audit.after["last_name"]) == ("Doe", "Smith")


def test_ticking_a_checked_list_goes_through_the_service(login, analyst, person):
    client = login(analyst)
    data = form_data(client.get(change_url(person)))
    data["checked_activity_risks"] = [str(ActivityRisk.objects.get(pk=1).pk)]
    response = client.post(change_url(person), data)
    assert response.status_code == 302, errors_of(response)
    rescored = Customer.objects.get(pk=person.pk)
    assert list(rescored.checked_activity_risks.values_list("pk", flat=True)) == [1]
    assert latest_audit(person).after == {"checkedActivityRisks": [1]}
    assert rescored.risk_score == person.risk_score + 100  # Activity: 100 points a ticked risk


def test_a_stake_added_through_the_inline_goes_through_the_service(login, analyst, person, organisation):
    client = login(analyst)
    data = form_data(client.get(change_url(person)))
    add_inline_row(data, "stakes_out", entity=str(organisation.pk), percentage="25")
    response = client.post(change_url(person), data)
    assert response.status_code == 302, errors_of(response)
    stake = Stake.objects.get(holder=person)
    assert (stake.entity_id, str(stake.percentage)) == (organisation.pk, "25.00")
    assert latest_audit(person).after["stakesOut"]["added"][0]["entity"] == organisation.pk
    shareholders = client.get(change_url(organisation))
    stakes_in = next(
        i for i in shareholders.context["inline_admin_formsets"] if i.formset.prefix == "stakes_in"
    )
    assert [form.instance.pk for form in stakes_in.formset.forms] == [stake.pk]
    # The organisation scores lower than its shareholder: contaminated, with a link to them.
    assert Customer.objects.get(pk=organisation.pk).risk_effective_score == person.risk_score
    assert "Contaminated by" in shareholders.content.decode()
    assert f'href="{change_url(person)}"' in shareholders.content.decode()


def test_an_inline_refused_by_its_service_shows_the_error_there_and_saves_nothing(login, analyst, person):
    other = create_customer(ref="JD002")
    client = login(analyst)
    data = form_data(client.get(change_url(person)))
    data["last_name"] = "Changed"
    add_inline_row(data, "stakes_out", entity=str(other.pk), percentage="10")
    response = client.post(change_url(person), data)
    assert response.status_code == 200
    stakes_out = next(
        i for i in response.context["inline_admin_formsets"] if i.formset.prefix == "stakes_out"
    )
    assert "Stakes can only be held in organisations." in str(stakes_out.formset.non_form_errors())
    assert "Stakes can only be held in organisations." in response.content.decode()
    assert not Stake.objects.exists()
    assert Customer.objects.get(pk=person.pk).last_name == "Doe"  # the customer's change was rolled back too


def test_the_stake_autocomplete_offers_organisations_only(login, analyst, person, organisation):
    client = login(analyst)
    params = {"app_label": "users", "model_name": "stake", "field_name": "entity", "term": ""}
    found = client.get("/admin/autocomplete/", params).json()["results"]
    assert [row["id"] for row in found] == [str(organisation.pk)]
    params["field_name"] = "holder"
    assert len(client.get("/admin/autocomplete/", params).json()["results"]) == 2


def test_inactive_lookups_are_offered_only_where_already_used(login, analyst, person):
    Customer.objects.filter(pk=person.pk).update(gender=3)
    Gender.objects.filter(pk=3).update(is_active=False)
    other = create_customer(ref="JD002")
    client = login(analyst)
    used = client.get(change_url(person)).context["adminform"].form.fields["gender"].queryset
    unused = client.get(change_url(other)).context["adminform"].form.fields["gender"].queryset
    assert 3 in {g.pk for g in used}
    assert 3 not in {g.pk for g in unused}


def test_adding_a_person_from_the_person_add_page(login, analyst):
    client = login(analyst)
    url = reverse("admin:users_customer_add") + "?customer_type=1"
    page = client.get(url)
    assert page.status_code == 200
    assert fieldset_names(page) == ["Main", "Person", "Checked lists", "Seed 004 user fields"]
    data = form_data(page)
    data.update(external_ref="NEW001", customer_type="1", status="1", first_name="Ann", last_name="Lee")
    response = client.post(url, data)
    assert response.status_code == 302, errors_of(response)
    customer = Customer.objects.get(external_ref="NEW001")
    assert (customer.display_name, customer.created_by) == ("Ann Lee", analyst)
    assert latest_audit(customer).action == AuditTrail.Action.CREATE
    assert RiskTrail.objects.filter(customer=customer, cause="customer created").exists()


def test_a_service_refusal_is_shown_on_the_form_and_nothing_is_saved(login, analyst):
    client = login(analyst)
    url = reverse("admin:users_customer_add")  # no type chosen: both detail sets are offered
    data = form_data(client.get(url))
    data.update(
        external_ref="MIX001", customer_type="1", status="1", last_name="Lee", registered_name="Lee Ltd"
    )
    response = client.post(url, data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors["registered_name"] == ["Does not apply to a person."]
    assert form["last_name"].value() == "Lee"  # what the analyst typed is kept
    assert "Does not apply to a person." in response.content.decode()
    assert not Customer.objects.filter(external_ref="MIX001").exists()


def test_deleting_a_customer_marks_it_deleted_through_the_service(login, compliance_admin, analyst, person):
    url = reverse("admin:users_customer_delete", args=[person.pk])
    assert login(analyst).post(url, {"post": "yes"}).status_code == 403
    client = login(compliance_admin)
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert not confirm.context["perms_lacking"]  # nothing cascades: no rights over KYC rows needed
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert Customer.all_objects.get(pk=person.pk).deleted_at is not None
    assert latest_audit(person).action == AuditTrail.Action.DELETE


# --- risk trail review (four eyes) ----------------------------------------------------------


def test_approver_approves_a_trail_the_analyst_caused_and_a_review_is_scheduled(login, analyst, approver):
    customer = create_customer(ref="AN001", actor=Actor(user=analyst))
    trail = RiskTrail.objects.filter(customer=customer).latest("id")
    assert trail.created_by == analyst
    client = login(approver)
    page = client.get(change_url(customer))
    assert review_url(trail) in page.content.decode()
    assert client.get(review_url(trail)).status_code == 200

    response = client.post(
        review_url(trail), {"approval_status": "1", "risk_type": "2", "comments": "ok"}, follow=True
    )
    assert response.status_code == 200
    trail.refresh_from_db()
    assert (trail.reviewed, trail.reviewer, trail.comments) == (True, approver, "ok")
    assert trail.approval_status_id == 1
    review = Review.objects.get(customer=customer, reviewed=False)
    assert review.risk_trail == trail
    assert Customer.objects.get(pk=customer.pk).next_review_date == review.scheduled_date
    assert f"scheduled for {review.scheduled_date:%Y-%m-%d}" in response.content.decode()

    again = client.post(review_url(trail), {"approval_status": "1", "risk_type": "2"}, follow=True)
    assert "reviewed already" in again.content.decode()


def test_an_approver_cannot_approve_a_trail_they_caused(login, approver):
    customer = create_customer(ref="AP001", actor=Actor(user=approver))
    trail = RiskTrail.objects.filter(customer=customer).latest("id")
    response = login(approver).post(
        review_url(trail), {"approval_status": "1", "risk_type": "1"}, follow=True
    )
    assert response.status_code == 200
    assert "Four eyes" in response.content.decode()
    trail.refresh_from_db()
    assert not trail.reviewed
    assert not Review.objects.filter(customer=customer).exists()


def test_an_analyst_may_not_open_the_review(login, analyst, person):
    trail = RiskTrail.objects.filter(customer=person).latest("id")
    client = login(analyst)
    assert client.get(review_url(trail)).status_code == 403
    assert client.post(review_url(trail), {"approval_status": "1", "risk_type": "1"}).status_code == 403
    assert review_url(trail) not in client.get(change_url(person)).content.decode()
    trail.refresh_from_db()
    assert not trail.reviewed


# --- the risk model ---------------------------------------------------------------------


@pytest.fixture
def recalculations(monkeypatch):
    """Calls of the recalculation task, each run here and now (eager or not, the same test)."""
    calls = []

    def delay(*args, **kwargs):
        calls.append(kwargs)
        result = tasks.recalculate_all_risks.apply(args=args, kwargs=kwargs)
        assert result.successful(), result.traceback
        return result

    monkeypatch.setattr(tasks.recalculate_all_risks, "delay", delay)
    return calls


def test_compliance_admin_edits_a_factor_and_every_customer_is_rescored(
    login, compliance_admin, person, recalculations, django_capture_on_commit_callbacks
):
    factor = RiskFactor.objects.get(code="address")
    client = login(compliance_admin)
    page = client.get(reverse("admin:users_riskfactor_change", args=[factor.pk]))
    assert "without any address" in page.content.decode()  # the factor's docstring is the help
    data = form_data(page)
    data["parameters"] = '{"points_no_address": 500, "points_no_verified_address": 300}'
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:users_riskfactor_change", args=[factor.pk]), data)
    assert response.status_code == 302, errors_of(response)
    assert recalculations == [{"cause": "risk model changed by compliance_admin"}]
    assert Customer.objects.get(pk=person.pk).risk_score == person.risk_score + 200
    audit = AuditTrail.objects.filter(object_type="users.riskfactor").latest("id")
    assert audit.after["parameters"]["points_no_address"] == 500


def test_toggling_factors_in_the_list_audits_each_and_rescores_once(
    login, compliance_admin, recalculations, django_capture_on_commit_callbacks
):
    client = login(compliance_admin)
    formset = client.get("/admin/users/riskfactor/").context["cl"].formset
    data = bound_values(formset.management_form)
    for form in formset.forms:
        data.update(bound_values(form))
        if form.instance.code in ("activity", "behavior"):
            data.pop(f"{form.prefix}-is_active")
    data["_save"] = "Save"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/users/riskfactor/", data)
    assert response.status_code == 302
    assert set(RiskFactor.objects.filter(is_active=False).values_list("code", flat=True)) == {
        "activity",
        "behavior",
    }
    assert AuditTrail.objects.filter(object_type="users.riskfactor").count() == 2
    assert len(recalculations) == 1


def test_unknown_factor_parameters_are_refused(login, compliance_admin, recalculations):
    factor = RiskFactor.objects.get(code="address")
    client = login(compliance_admin)
    data = form_data(client.get(reverse("admin:users_riskfactor_change", args=[factor.pk])))
    data["parameters"] = '{"points_no_adress": 500}'
    response = client.post(reverse("admin:users_riskfactor_change", args=[factor.pk]), data)
    assert response.status_code == 200
    assert "Unknown parameter(s) points_no_adress" in response.content.decode()
    assert recalculations == []


def test_recalculate_all_customers_needs_its_permission(
    login, analyst, compliance_admin, person, recalculations, django_capture_on_commit_callbacks
):
    url = reverse("admin:users_riskfactor_recalculate")
    assert login(analyst).post(url).status_code == 403
    client = login(compliance_admin)
    assert url in client.get(CHANGELIST).content.decode()
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert recalculations == [{"cause": "recalculation requested by compliance_admin"}]


# --- who gets in ----------------------------------------------------------------------------


def test_outsiders_are_kept_out(client, login, outsider, person):
    assert client.get(CHANGELIST).status_code == 302  # not signed in: to the login page
    client.force_login(outsider)  # signed in but not staff
    assert client.get(CHANGELIST).status_code == 302
    login(outsider)  # staff without a role
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(person)).status_code == 403
    assert client.get("/admin/users/risktrail/").status_code == 403


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate reads PostgreSQL's statistics")
def test_an_unfiltered_big_list_counts_from_the_planner_estimate(person, organisation, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE users_customer")
    everyone = EstimatedCountPaginator(Customer.objects.order_by("-id"), 100)
    assert everyone._unfiltered_on_postgresql(everyone.object_list)
    assert everyone.count == 2
    filtered = EstimatedCountPaginator(Customer.objects.filter(customer_type_id=1).order_by("-id"), 100)
    assert not filtered._unfiltered_on_postgresql(filtered.object_list)
    assert filtered.count == 1
