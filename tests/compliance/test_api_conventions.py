"""Issue 2, point 6: one error body, request ids, throttling with Retry-After."""

import pytest

from compliance.api.throttling import CredentialRateThrottle

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"status", "error", "message", "errors", "requestId"}


def test_unknown_api_path_is_404_in_the_error_body(api_client):
    response = api_client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert set(response.json()) == ERROR_KEYS
    assert response.json()["requestId"] == response["X-Request-ID"]


def test_wrong_method_is_405(api_client):
    response = api_client.get("/api/login")
    assert response.status_code == 405
    assert response.json()["status"] == 405


def test_400_names_each_invalid_property(api_client):
    response = api_client.post("/api/login", {"username": ["not", "a string"]}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    problems = {e["property"]: e["issue"] for e in body["errors"]}
    assert set(problems) == {"username", "password"}
    assert "required" in problems["password"]
    assert "username" in body["message"]
    assert "password" in body["message"]


def test_malformed_json_is_400_not_500(api_client):
    response = api_client.post("/api/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_a_body_over_the_upload_limit_is_413_not_500(integrator_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"transactionId": "big", "reference": "x" * 2000}
    response = integrator_client.post("/api/transactions", body, format="json")
    assert response.status_code == 413
    assert response.json()["message"] == "The request body is larger than this endpoint accepts."


def test_unsupported_media_type_is_415(api_client):
    response = api_client.post(
        "/api/login", data="username=a", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_every_response_has_a_request_id(api_client):
    first = api_client.get("/api/health")
    second = api_client.get("/api/health")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_well_formed_client_request_id_is_kept_and_a_bad_one_replaced(api_client):
    assert api_client.get("/api/health", HTTP_X_REQUEST_ID="abc-123").get("X-Request-ID") == "abc-123"
    replaced = api_client.get("/api/health", HTTP_X_REQUEST_ID="<script>").get("X-Request-ID")
    assert replaced != "<script>"
    assert len(replaced) == 32


def test_throttled_requests_are_429_with_retry_after(analyst_client, monkeypatch):
    monkeypatch.setattr(
        CredentialRateThrottle, "THROTTLE_RATES", {"credential": "3/min", "anonymous": "3/min"}
    )
    statuses = [analyst_client.get("/api/lookups").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = analyst_client.get("/api/lookups")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["status"] == 429


def test_throttling_is_per_credential(analyst_client, integrator_client, monkeypatch):
    monkeypatch.setattr(
        CredentialRateThrottle, "THROTTLE_RATES", {"credential": "2/min", "anonymous": "2/min"}
    )
    for _ in range(2):
        analyst_client.get("/api/lookups")
    assert analyst_client.get("/api/lookups").status_code == 429
    assert integrator_client.get("/api/lookups").status_code == 200


class TestErrorMapping:
    """Service and Django exceptions become the same body (409 and 500 included)."""

    @staticmethod
    def handle(exc):
        from compliance.api.errors import exception_handler

        return exception_handler(exc, {"view": None})

    def test_conflict_from_a_service_is_409(self):
        from compliance.errors import ConflictError

        response = self.handle(ConflictError("Case is closed", errors={"status": ["CLOSED -> ON_HOLD"]}))
        assert response.status_code == 409
        assert response.data["errors"] == [{"property": "status", "issue": "CLOSED -> ON_HOLD"}]
        assert set(response.data) == ERROR_KEYS

    def test_protected_delete_is_409(self):
        from django.db.models import ProtectedError

        assert self.handle(ProtectedError("in use", set())).status_code == 409

    def test_model_validation_error_is_400_naming_the_field(self):
        from django.core.exceptions import ValidationError

        response = self.handle(ValidationError({"dateBirth": ["in the future"]}))
        assert response.status_code == 400
        assert response.data["errors"] == [{"property": "dateBirth", "issue": "in the future"}]

    def test_nested_list_errors_name_the_item(self):
        from rest_framework.exceptions import ValidationError

        response = self.handle(ValidationError([{}, {"number": ["This field is required."]}]))
        assert response.data["errors"] == [{"property": "[1].number", "issue": "This field is required."}]

    def test_unexpected_errors_are_500_in_the_same_body_without_internals(self):
        response = self.handle(KeyError("secret internals"))
        assert response.status_code == 500
        assert response.data["message"] == "The server encountered an error."
        assert "secret" not in str(response.data)
