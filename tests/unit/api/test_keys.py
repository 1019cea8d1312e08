"""API keys: admins create (shown once), list and revoke them; to other keys the routes do not exist."""

from __future__ import annotations

import pytest

from herald.logic.services import Services
from tests.unit.api.support import Client


def _create(client: Client, **body: object) -> dict:
    status, created = client.call("POST", "/api/keys", {"projects": ["p1"], **body})
    assert status == 201, created
    return created


def test_created_key_is_shown_once_and_works_for_its_projects(admin: Client) -> None:
    created = _create(admin, projects=["p1", "p3"], name="ci")
    assert created["key"].startswith("hrld_")
    assert (created["projects"], created["admin"], created["name"]) == (["p1", "p3"], False, "ci")
    new = Client(created["key"])
    assert new.call("GET", "/api/projects/p3/notificationSubscriptions")[0] == 200
    assert new.call("GET", "/api/projects/p2/notificationSubscriptions")[0] == 404


def test_keys_are_stored_only_as_hashes(admin: Client, keys: Services) -> None:
    created = _create(admin)
    table = keys.table.ddb.scan(TableName=keys.table.name)["Items"]
    assert created["key"] not in str(table)


def test_keys_are_listed_without_the_keys_themselves(admin: Client) -> None:
    created = _create(admin, name="listed")
    _, listed = admin.call("GET", "/api/keys?limit=100")
    mine = [k for k in listed["items"] if k["keyId"] == created["keyId"]]
    assert mine == [{k: created[k] for k in ("keyId", "name", "projects", "admin", "createdAt")}]
    assert all("key" not in k and "keyHash" not in k for k in listed["items"])


def test_keys_are_listed_a_page_at_a_time(admin: Client) -> None:
    for _ in range(3):
        _create(admin)
    _, first = admin.call("GET", "/api/keys?limit=4")
    _, second = admin.call("GET", f"/api/keys?limit=4&cursor={first['nextCursor']}")
    ids = [k["keyId"] for k in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 7  # the four of the fixture and three new


def test_revoked_key_is_refused_at_once(admin: Client) -> None:
    created = _create(admin)
    new = Client(created["key"])
    assert new.call("GET", "/api/projects/p1/notificationSubscriptions")[0] == 200  # now cached
    assert admin.call("DELETE", f"/api/keys/{created['keyId']}") == (204, None)
    assert new.call("GET", "/api/projects/p1/notificationSubscriptions")[0] == 401
    assert created["keyId"] not in [k["keyId"] for k in admin.call("GET", "/api/keys?limit=100")[1]["items"]]


def test_an_admin_key_may_create_admin_keys(admin: Client) -> None:
    created = _create(admin, projects=[], admin=True)
    assert Client(created["key"]).call("GET", "/api/keys")[0] == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"projects": [], "admin": False}, "projects"),
        ({"projects": ["p1"], "admin": True}, "projects"),
        ({"projects": ["bad project"]}, "projects.0"),
        ({"projects": ["p1"], "name": "n" * 101}, "name"),
    ],
    ids=["no-projects", "admin-with-projects", "bad-project-id", "long-name"],
)
def test_bad_key_request_is_400_naming_the_field(admin: Client, body: dict, field: str) -> None:
    status, resp = admin.call("POST", "/api/keys", body)
    assert (status, resp["error"]["field"]) == (400, field)


def test_revoking_an_unknown_key_is_404(admin: Client) -> None:
    assert admin.call("DELETE", "/api/keys/000000000000")[0] == 404


def test_a_key_cannot_revoke_itself(admin: Client) -> None:
    _, listed = admin.call("GET", "/api/keys?limit=100")
    own = next(k for k in listed["items"] if k["name"] == "admin")
    status, resp = admin.call("DELETE", f"/api/keys/{own['keyId']}")
    assert status == 409 and "cannot revoke itself" in resp["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/keys", {"projects": ["p1"]}),
        ("GET", "/api/keys", None),
        ("DELETE", "/api/keys/000000000000", None),
    ],
    ids=["create", "list", "revoke"],
)
def test_key_routes_do_not_exist_for_keys_that_are_not_admin(
    p1: Client, method: str, path: str, body: dict | None
) -> None:
    status, resp = p1.call(method, path, body)
    assert status == 404
    assert resp["error"]["message"] == f"no route for {method} {path}"
