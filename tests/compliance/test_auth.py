"""Issue 2, point 5: login tokens, API keys, roles, 401 vs 403 (seed 003's status table)."""

import hashlib
import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from compliance import services
from compliance.audit import Actor
from compliance.models import AccessToken, ApiKey, AuditTrail
from tests.factories import PASSWORD, StaffUserFactory

pytestmark = pytest.mark.django_db

PROTECTED = "/api/lookups"  # needs reference.view_* ; analysts and integrators have it


def _login(client, username, password=PASSWORD, **extra):
    return client.post("/api/login", {"username": username, "password": password}, format="json", **extra)


def _all_text_in_db(table, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608  (fixed identifiers)
        return [row[0] for row in cursor.fetchall()]


class TestLogin:
    def test_login_answers_seed_shape_and_a_working_token(self, api_client, analyst):
        response = _login(api_client, analyst.username)
        assert response.status_code == 200
        body = response.json()
        assert body["success"] is True
        assert body["token"].startswith(AccessToken.PREFIX)
        api_client.credentials(HTTP_X_ACCESS_TOKEN=body["token"])
        assert api_client.get(PROTECTED).status_code == 200

    def test_token_is_stored_hashed(self, api_client, analyst):
        raw = _login(api_client, analyst.username).json()["token"]
        stored = _all_text_in_db("compliance_accesstoken", "token_digest")
        assert raw not in stored
        assert hashlib.sha256(raw.encode()).hexdigest() in stored

    def test_token_expires_after_the_configured_ttl(self, api_client, analyst):
        raw = _login(api_client, analyst.username).json()["token"]
        token = AccessToken.objects.get()
        assert token.expires_at - token.created_at == settings.ACCESS_TOKEN_TTL == timedelta(hours=48)
        api_client.credentials(HTTP_X_ACCESS_TOKEN=raw)
        with time_machine.travel(timezone.now() + timedelta(hours=47, minutes=59)):
            assert api_client.get(PROTECTED).status_code == 200
        with time_machine.travel(timezone.now() + timedelta(hours=48, seconds=1)):
            response = api_client.get(PROTECTED)
        assert response.status_code == 401
        assert "expired" in response.json()["message"]

    def test_ttl_is_configurable(self, api_client, analyst, settings):
        settings.ACCESS_TOKEN_TTL = timedelta(hours=2)
        _login(api_client, analyst.username)
        token = AccessToken.objects.get()
        assert token.expires_at - token.created_at == timedelta(hours=2)

    @pytest.mark.parametrize("password", ["wrong password", ""])
    def test_wrong_password_is_401_with_the_error_body(self, api_client, analyst, password):
        response = _login(api_client, analyst.username, password)
        if password == "":
            assert response.status_code == 400
            assert response.json()["errors"][0]["property"] == "password"
            return
        assert response.status_code == 401
        body = response.json()
        assert body["status"] == 401
        assert body["error"] == "Unauthorized"
        assert "do not match" in body["message"]
        assert AuditTrail.objects.filter(action="login_failed", object_repr=analyst.username).exists()

    def test_unknown_and_inactive_users_are_401(self, api_client):
        StaffUserFactory(username="gone", is_active=False)
        assert _login(api_client, "gone").status_code == 401
        assert _login(api_client, "nobody").status_code == 401

    def test_login_is_audited(self, api_client, analyst):
        _login(api_client, analyst.username)
        row = AuditTrail.objects.get(action="login")
        assert row.actor_user == analyst
        assert row.object_type == "compliance.accesstoken"


class TestFailedLoginThrottle:
    def test_failures_per_username_are_throttled_even_with_the_right_password(
        self, api_client, analyst, settings
    ):
        settings.LOGIN_FAILURE_LIMIT = 3
        for _ in range(3):
            assert _login(api_client, analyst.username, "nope").status_code == 401
        response = _login(api_client, analyst.username)  # right password, but locked
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert response.json()["status"] == 429

    def test_the_lock_lifts_after_the_window(self, api_client, analyst, settings):
        """A real (1 s) window, so the cache's own expiry is what lifts the lock, on locmem and Redis."""
        settings.LOGIN_FAILURE_LIMIT = 2
        settings.LOGIN_FAILURE_WINDOW = 1
        for _ in range(2):
            _login(api_client, analyst.username, "nope")
        locked = _login(api_client, analyst.username)
        assert locked.status_code == 429
        assert locked["Retry-After"] in ("1", "2")
        time.sleep(1.2)
        assert _login(api_client, analyst.username).status_code == 200

    def test_failures_per_address_across_usernames_are_throttled(self, api_client, settings):
        settings.LOGIN_FAILURE_LIMIT = 3
        for name in ("a1", "a2", "a3"):
            assert _login(api_client, name, "nope").status_code == 401
        assert _login(api_client, "a4", "nope").status_code == 429
        # another address is not locked out by this one
        assert _login(api_client, "a4", "nope", REMOTE_ADDR="10.9.9.9").status_code == 401

    def test_success_resets_the_username_counter(self, api_client, analyst, settings):
        settings.LOGIN_FAILURE_LIMIT = 3
        _login(api_client, analyst.username, "nope")
        _login(api_client, analyst.username, "nope")
        assert _login(api_client, analyst.username).status_code == 200
        _login(api_client, analyst.username, "nope", REMOTE_ADDR="10.0.0.2")
        _login(api_client, analyst.username, "nope", REMOTE_ADDR="10.0.0.3")
        assert _login(api_client, analyst.username, REMOTE_ADDR="10.0.0.4").status_code == 200


class TestCredentialHeaders:
    def test_access_token_in_x_access_token(self, api_client, analyst):
        api_client.credentials(HTTP_X_ACCESS_TOKEN=services.access_token_issue(user=analyst))
        assert api_client.get(PROTECTED).status_code == 200

    def test_access_token_as_bearer(self, api_client, analyst):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer " + services.access_token_issue(user=analyst))
        assert api_client.get(PROTECTED).status_code == 200

    def test_api_key_in_x_api_key(self, api_client, integrator_key):
        api_client.credentials(HTTP_X_API_KEY=integrator_key[1])
        assert api_client.get(PROTECTED).status_code == 200

    def test_api_key_in_api_key_header(self, api_client, integrator_key):
        api_client.credentials(HTTP_API_KEY=integrator_key[1])  # the `api_key` header of seed 001
        assert api_client.get(PROTECTED).status_code == 200

    def test_api_key_as_bearer(self, api_client, integrator_key):
        api_client.credentials(HTTP_AUTHORIZATION="Bearer " + integrator_key[1])
        assert api_client.get(PROTECTED).status_code == 200

    def test_api_key_is_stored_hashed(self, integrator_key):
        key, raw = integrator_key
        assert raw not in _all_text_in_db("compliance_apikey", "key_digest")
        assert key.key_digest == hashlib.sha256(raw.encode()).hexdigest()
        assert raw.startswith(key.key_prefix)
        assert len(key.key_prefix) < len(raw) // 3


def test_expired_tokens_are_purged_a_day_after_expiry(analyst):
    from compliance.tasks import purge_expired_tokens

    services.access_token_issue(user=analyst)
    with time_machine.travel(timezone.now() + timedelta(hours=48 + 23)):
        assert purge_expired_tokens.apply().get() == 0  # expired, but less than a day ago
    with time_machine.travel(timezone.now() + timedelta(hours=48 + 25)):
        assert purge_expired_tokens.apply().get() == 1
    assert not AccessToken.objects.exists()
    assert AuditTrail.objects.filter(object_type="compliance.accesstoken", action="delete").exists()


class TestUnauthorizedVersusForbidden:
    def test_missing_credentials_are_401_with_a_challenge(self, api_client):
        response = api_client.get(PROTECTED)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response.json()["error"] == "Unauthorized"

    @pytest.mark.parametrize(
        "header",
        [
            {"HTTP_X_ACCESS_TOKEN": "cbt_not-a-token"},
            {"HTTP_AUTHORIZATION": "Bearer cbt_not-a-token"},
            {"HTTP_AUTHORIZATION": "Bearer cbk_not-a-key"},
            {"HTTP_X_API_KEY": "cbk_not-a-key"},
            {"HTTP_API_KEY": "whatever"},
            {"HTTP_AUTHORIZATION": "Bearer two words"},
        ],
    )
    def test_invalid_credentials_are_401(self, api_client, header):
        response = api_client.get(PROTECTED, **header)
        assert response.status_code == 401
        assert response.json()["status"] == 401

    def test_valid_credentials_without_the_permission_are_403(self, outsider_client):
        response = outsider_client.get(PROTECTED)
        assert response.status_code == 403
        assert response.json()["error"] == "Forbidden"

    def test_revoked_api_key_is_401(self, api_client, integrator_key):
        key, raw = integrator_key
        services.api_key_revoke(key=key, actor=Actor.system_actor("tests"))
        api_client.credentials(HTTP_X_API_KEY=raw)
        assert api_client.get(PROTECTED).status_code == 401

    def test_expired_api_key_is_401(self, api_client, integrator_account):
        _, raw = services.api_key_create(
            name="short",
            user=integrator_account,
            actor=Actor.system_actor("tests"),
            expires_at=timezone.now() + timedelta(hours=1),
        )
        api_client.credentials(HTTP_X_API_KEY=raw)
        assert api_client.get(PROTECTED).status_code == 200
        with time_machine.travel(timezone.now() + timedelta(hours=2)):
            assert api_client.get(PROTECTED).status_code == 401

    def test_revoked_token_and_disabled_account_are_401(self, api_client, analyst):
        raw = services.access_token_issue(user=analyst)
        api_client.credentials(HTTP_X_ACCESS_TOKEN=raw)
        services.access_token_revoke(token=AccessToken.objects.get(), actor=Actor.system_actor("tests"))
        assert api_client.get(PROTECTED).status_code == 401
        raw = services.access_token_issue(user=analyst)
        analyst.is_active = False
        analyst.save()
        api_client.credentials(HTTP_X_ACCESS_TOKEN=raw)
        assert api_client.get(PROTECTED).status_code == 401

    def test_api_key_acts_with_its_accounts_roles(self, api_client, outsider):
        _, raw = services.api_key_create(name="no role", user=outsider, actor=Actor.system_actor("tests"))
        api_client.credentials(HTTP_X_API_KEY=raw)
        assert api_client.get(PROTECTED).status_code == 403


class TestRoles:
    def test_the_four_roles_hold_what_their_names_imply(self, db):
        from django.contrib.auth.models import Group

        perms = {
            g.name: {
                f"{p.content_type.app_label}.{p.codename}"
                for p in g.permissions.select_related("content_type")
            }
            for g in Group.objects.all()
        }
        assert {"analyst", "approver", "compliance admin", "integrator"} <= set(perms)
        for role in perms:
            assert "reference.view_country" in perms[role]
        assert perms["analyst"] <= perms["approver"]  # an approver is an analyst who may also approve
        assert "reference.change_country" in perms["compliance admin"]
        assert "compliance.view_audittrail" in perms["compliance admin"]
        assert "compliance.add_apikey" in perms["compliance admin"]
        for role in ("analyst", "approver", "integrator"):
            assert "reference.change_country" not in perms[role]
            assert "compliance.add_apikey" not in perms[role]
        # nobody but a superuser may change or delete the audit trail
        assert not any(
            p.startswith(("compliance.change_audittrail", "compliance.delete_audittrail"))
            for role in perms
            for p in perms[role]
        )


class TestApiKeysInTheAdmin:
    def test_compliance_admin_creates_a_key_shown_once(self, client, compliance_admin, integrator_account):
        compliance_admin.is_staff = True
        compliance_admin.save()
        client.force_login(compliance_admin)
        response = client.post(
            "/admin/compliance/apikey/add/",
            {"name": "payments", "user": integrator_account.pk, "expires_at_0": "", "expires_at_1": ""},
            follow=True,
        )
        assert response.status_code == 200
        key = ApiKey.objects.get(name="payments")
        shown = " ".join(str(m) for m in response.context["messages"])
        raw = re.search(r"<code[^>]*>(cbk_[^<]+)</code>", shown).group(1)
        assert hashlib.sha256(raw.encode()).hexdigest() == key.key_digest
        assert AuditTrail.objects.filter(object_type="compliance.apikey", action="create").exists()
        # never shown again
        assert raw not in client.get("/admin/compliance/apikey/").content.decode()
        assert raw not in client.get(f"/admin/compliance/apikey/{key.pk}/change/").content.decode()

    def test_revoke_action(self, client, compliance_admin, integrator_key):
        compliance_admin.is_staff = True
        compliance_admin.save()
        client.force_login(compliance_admin)
        key, _ = integrator_key
        client.post("/admin/compliance/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
        key.refresh_from_db()
        assert key.revoked_at is not None
        assert AuditTrail.objects.filter(object_type="compliance.apikey", action="revoke").exists()

    def test_analyst_cannot_manage_keys(self, client, analyst):
        analyst.is_staff = True
        analyst.save()
        client.force_login(analyst)
        assert client.get("/admin/compliance/apikey/add/").status_code == 403


def test_editing_a_key_changes_name_and_expiry_only_and_is_audited(client, compliance_admin, integrator_key):
    compliance_admin.is_staff = True
    compliance_admin.save()
    client.force_login(compliance_admin)
    key, raw = integrator_key
    response = client.post(
        f"/admin/compliance/apikey/{key.pk}/change/",
        {"name": "renamed", "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "renamed"
    assert key.key_digest == hashlib.sha256(raw.encode()).hexdigest()
    row = AuditTrail.objects.filter(object_type="compliance.apikey", action="update").get()
    assert row.before["name"] == "core banking"
    assert row.after["name"] == "renamed"


@pytest.mark.parametrize(("username", "password"), [("analyst", "pass\x00word"), ("ana\x00lyst", PASSWORD)])
def test_nul_in_credentials_is_a_failed_login_not_a_400_or_500(api_client, analyst, username, password):
    """Regression (issue 2): found by the schemathesis fuzz test."""
    response = _login(api_client, username, password)
    assert response.status_code == 401
    assert AuditTrail.objects.filter(action="login_failed").count() == 1
