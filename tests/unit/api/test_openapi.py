"""The OpenAPI document: generated from the routes, served without a key, in the API's vocabulary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.api.app import app
from tests.unit.api.support import Client


@pytest.fixture
def spec(admin: Client) -> dict[str, Any]:
    status, body = Client(None).call("GET", "/openapi.json")
    assert status == 200
    return body


def _operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def test_every_route_is_documented(spec: dict[str, Any]) -> None:
    routes = {(r.method, r.openapi_path) for r in app.documented_routes()}
    assert _operations(spec) == routes
    assert ("POST", "/api/notificationChannels/{channel_id}:rotateSecret") in routes
    assert len(routes) >= 30


def test_the_api_key_header_is_the_security_scheme(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "name": "X-API-Key",
        "in": "header",
    }
    assert spec["security"] == [{"ApiKey": []}, {"ConsoleSession": []}]
    assert spec["components"]["securitySchemes"]["ConsoleSession"]["scheme"] == "bearer"
    assert spec["paths"]["/health"]["get"]["security"] == []


def test_errors_are_documented_in_the_api_shape_not_as_422(spec: dict[str, Any]) -> None:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert "422" not in op["responses"], (method, path)
            if path != "/health":
                assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorOut"
                }


def test_responses_are_described_by_models(spec: dict[str, Any]) -> None:
    get_event = spec["paths"]["/v1/events/{event_id}"]["get"]["responses"]["200"]
    assert get_event["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/EventOut"}
    assert "$uri" in spec["components"]["schemas"]["EventOut"]["properties"]


def test_swagger_ui_serves_html_and_the_same_document_as_json(spec: dict[str, Any]) -> None:
    html = Client(None).request("GET", "/swagger")
    assert html.status == 200 and html.headers["Content-Type"] == "text/html"
    assert "SwaggerUIBundle" in html.body
    as_json = Client(None).request("GET", "/swagger?format=json")
    assert as_json.status == 200 and as_json.body == spec
    assert json.dumps(spec) in html.body.replace("<\\/", "</")


def test_operations_are_named_and_creates_link_to_what_they_create(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/api/notificationChannels"]["post"]
    assert create["operationId"] == "create_channel"
    links = create["responses"]["201"]["links"]
    assert links["rotate_secret"] == {
        "operationId": "rotate_secret",
        "parameters": {"channel_id": "$response.body#/id"},
    }
    failed = spec["paths"][
        "/api/projects/{project_id}/notificationSubscriptions/{subscription_id}/failedNotifications"
    ]
    assert failed["get"]["responses"]["200"]["links"]["reprocess_failed"]["parameters"] == {
        "project_id": "$request.path.project_id",
        "subscription_id": "$request.path.subscription_id",
        "notification_id": "$response.body#/items/0/id",
    }
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    linked = {
        target
        for ops in spec["paths"].values()
        for op in ops.values()
        for r in op["responses"].values()
        for target in r.get("links", {})
    }
    assert linked <= set(ids)


def test_the_duplicate_answer_is_in_the_schema_of_both_event_entrances(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    duplicate = schemas["DuplicateOut"]
    assert set(duplicate["properties"]) == {"id", "$uri", "rule", "matched", "acceptedAt", "message"}
    assert "duplicateOf" in schemas["EventAccepted"]["properties"]
    for path in ("/api/projects/{project_id}/events", "/webhooks/onecodex"):
        answer = spec["paths"][path]["post"]["responses"]["202"]["content"]["application/json"]["schema"]
        assert answer["$ref"].endswith("/EventAccepted"), path
