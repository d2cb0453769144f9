"""The OpenAPI schema, its documentation pages, and what it promises."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from api.testing import api_routes

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_the_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yml"),
    )
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


def test_the_schema_is_served_to_anyone(client):
    response = client.get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "slaportal API"


@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_the_documentation_pages_work_offline(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert "drf_spectacular_sidecar" in body
    assert "cdn." not in body and "unpkg" not in body


def test_every_route_is_documented(schema):
    documented = {(path, method) for path, method, _ in _operations(schema)}
    assert len(documented) == len(api_routes())


def test_every_operation_documents_its_errors(schema):
    for path, method, operation in _operations(schema):
        codes = set(operation["responses"])
        assert {"401", "429"} <= codes, (method, path)
        for code in codes - {"200", "201", "204"}:
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}
        if "{id}" in path:
            assert "404" in codes, (method, path)
        if method in {"POST", "PATCH"}:
            assert {"400", "403"} <= codes, (method, path)


def test_every_post_accepts_an_idempotency_key(schema):
    for path, method, operation in _operations(schema):
        if method == "POST":
            names = {p["name"] for p in operation.get("parameters", [])}
            assert "Idempotency-Key" in names, path


def test_an_edit_requires_the_edit_count_in_the_schema_too(schema):
    operation = schema["paths"]["/api/v1/agreements/{id}/"]["patch"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert component["required"] == ["edit_count"]
