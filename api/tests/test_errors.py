"""One error format for every error, including those raised by services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from agreements.tests.builders import draft
from api.exceptions import exception_handler

pytestmark = pytest.mark.django_db

LIST = reverse("api:v1:agreement-list")


def handle(exc: Exception):
    request = APIRequestFactory().get("/api/v1/x/")
    return exception_handler(exc, {"request": request, "view": None})


def test_a_services_field_errors_become_fields():
    response = handle(
        ValidationError({"effective_to": "Too early.", "__all__": "Not like this."})
    )
    # A service's rule: the request matched the schema, so 422, not 400.
    assert response.status_code == 422
    assert response.data == {
        "error": {
            "status": 422,
            "code": "invalid",
            "message": "Not like this.",
            "fields": {"effective_to": ["Too early."]},
        }
    }


def test_a_services_plain_messages_become_the_message():
    response = handle(ValidationError(["First problem.", "Second problem."]))
    assert response.data["error"]["message"] == "First problem. Second problem."
    assert "fields" not in response.data["error"]


def test_a_stale_edit_is_a_conflict():
    response = handle(ValidationError("Someone else saved it.", code="stale"))
    assert response.status_code == 409
    assert response.data["error"]["code"] == "stale"


def test_permission_denied_keeps_the_services_message():
    response = handle(PermissionDenied("Only a lead can do this."))
    assert response.status_code == 403
    assert response.data["error"] == {
        "status": 403,
        "code": "permission_denied",
        "message": "Only a lead can do this.",
    }


def test_http404_says_not_found_without_naming_the_model():
    response = handle(Http404("No Agreement matches the given query."))
    assert response.data["error"] == {
        "status": 404,
        "code": "not_found",
        "message": "Not found.",
    }


def test_nested_errors_are_dotted_paths():
    response = handle(
        exceptions.ValidationError(
            {"objectives": [{}, {"target": ["Too small."]}], "title": ["Required."]}
        )
    )
    assert response.data["error"]["fields"] == {
        "objectives.1.target": ["Too small."],
        "title": ["Required."],
    }
    assert response.data["error"]["message"] == (
        "Some fields are not valid: objectives.1.target, title."
    )


def test_a_body_that_is_not_json_is_415(api_client, marketing_lead):
    api_client.force_login(marketing_lead)
    response = api_client.post(LIST, {"title": "x"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_an_unknown_method_is_405(api_client, marketing_lead):
    api_client.force_login(marketing_lead)
    response = api_client.delete(LIST)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_unexpected_failure_is_a_500_in_the_same_format_and_logged(
    api_client, marketing_lead, marketing, sales, monkeypatch, caplog
):
    agreement = draft(user=marketing_lead, provider=marketing, consumer=sales)

    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("agreements.api.views.agreement_propose", broken)
    api_client.force_login(marketing_lead)
    api_client.raise_request_exception = False
    response = api_client.post(reverse("api:v1:agreement-propose", args=[agreement.pk]))
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "database on fire" not in response.content.decode()
    assert any(
        r.name == "django.request" and r.exc_info and "on fire" in str(r.exc_info[1])
        for r in caplog.records
    )


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/v1/agreements/abc/", "/api/v1/agreements"]
)
def test_an_unknown_api_path_is_a_404_in_the_error_format(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_api_path_with_a_newline_is_a_json_404_too(client):
    response = client.get("/api/v1/agreements/%0A/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_write_to_an_unknown_api_path_is_a_json_404(marketing_lead):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(marketing_lead)
    response = client.patch("/api/v1/agreements/x/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("pain_point=", "Give a value, or leave the parameter out."),
        ("pain_point=1&pain_point=2", "Give one value: the parameter came twice."),
        ("severity=high&severity=low", "Give one value: the parameter came twice."),
    ],
)
def test_a_filter_given_empty_or_twice_is_a_400(
    api_client, marketing_lead, query, message
):
    api_client.force_authenticate(marketing_lead)
    response = api_client.get(f"{reverse('api:v1:friction-report-list')}?{query}")
    assert response.status_code == 400
    assert message in str(response.json())
