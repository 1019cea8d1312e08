"""Tenancy as a rule, tested as a matrix generated from the API's own routes.

Every operation of the OpenAPI document (and every route the router serves outside it) gets a
recipe: what it acts on and how to call it. The matrix is those operations x key kinds (admin, a
key for pa, for pb, for pa+pb, no key, a revoked key) x objects that serve one project or several.
The answer each cell must give is derived from one rule, not listed:

- no key, or a revoked one: 401 (public routes answer by their own rules);
- reading: a key sees what one of its projects has, anything else is 404;
- changing: a key may change an object only if it covers every project the object serves (403 when
  it sees the object but does not cover them all; 404 when it does not see it);
- admin routes (keys): admin keys only, 404 for the rest.

A refused request leaves every item of the table as it was. A route added later without a recipe
fails `test_every_route_has_a_matrix_recipe`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from herald.api import app as api_app
from herald.api import auth, openapi
from herald.domain import clock, ids
from herald.domain.models import (
    Attempt,
    Channel,
    ChannelType,
    Event,
    InboundWebhook,
    Notification,
    NotificationStatus,
)
from herald.logic import apikeys as key_store
from herald.logic.services import Services
from tests.unit.api.support import ADMIN, Client
from tests.unit.builders import subscription

KEY_KINDS = ("admin", "pa", "pb", "pa+pb", "none", "revoked")
# unshared: the channel is pa's alone. shared: it belongs to pa and pb, and both subscribe through
# it. used-by-another: it belongs to pa, and pb subscribes through it (an admin set that up).
SHARING = ("unshared", "shared", "used-by-another")
UNDOCUMENTED = {"openapi_json": "GET /openapi.json", "swagger": "GET /swagger"}


@dataclass(frozen=True)
class Recipe:
    """How to call an operation in a world, and what it acts on.

    kind: read | change | create | admin | public. target: channel (the used channel "C" or the
    unused one "D"), project (an object of project pa), or none (nothing of a project's)."""

    kind: str
    target: str
    ok: int
    path: str
    body: Any = None


RECIPES: dict[str, Recipe] = {
    # channels: shared objects
    "get_channel": Recipe("read", "C", 200, "/api/notificationChannels/{C}"),
    "get_channel_health": Recipe("read", "C", 200, "/api/notificationChannels/{C}/health"),
    "patch_channel": Recipe("change", "C", 200, "/api/notificationChannels/{C}", {"address": "https://evil.example/x"}),
    "put_channel": Recipe("change", "C", 200, "/api/notificationChannels/{C}",
                          {"type": "HTTP", "address": "https://evil.example/x"}),
    "rotate_secret": Recipe("change", "C", 200, "/api/notificationChannels/{C}:rotateSecret"),
    "delete_channel": Recipe("change", "D", 204, "/api/notificationChannels/{D}"),
    "list_channels": Recipe("read", "none", 200, "/api/notificationChannels"),
    "create_channel": Recipe("create", "new", 201, "/api/notificationChannels",
                             {"type": "HTTP", "address": "https://new.example/h", "projects": "{C_PROJECTS}"}),
    # a project's own objects
    "list_subscriptions": Recipe("read", "project", 200, "/api/projects/{pa}/notificationSubscriptions"),
    "create_subscription": Recipe("change", "project", 201, "/api/projects/{pa}/notificationSubscriptions",
                                  {"eventCode": "*", "notificationChannelId": "{C}"}),
    "get_subscription": Recipe("read", "project", 200, "/api/projects/{pa}/notificationSubscriptions/{S}"),
    "patch_subscription": Recipe("change", "project", 200, "/api/projects/{pa}/notificationSubscriptions/{S}",
                                 {"enabled": False}),
    "enable_subscription": Recipe("change", "project", 200,
                                  "/api/projects/{pa}/notificationSubscriptions/{S}:enable"),
    "disable_subscription": Recipe("change", "project", 200,
                                   "/api/projects/{pa}/notificationSubscriptions/{S}:disable"),
    "delete_subscription": Recipe("change", "project", 204, "/api/projects/{pa}/notificationSubscriptions/{S2}"),
    "list_failed": Recipe("read", "project", 200,
                          "/api/projects/{pa}/notificationSubscriptions/{S}/failedNotifications"),
    "get_failed": Recipe("read", "project", 200,
                         "/api/projects/{pa}/notificationSubscriptions/{S}/failedNotifications/{N}"),
    "delete_failed": Recipe("change", "project", 204,
                            "/api/projects/{pa}/notificationSubscriptions/{S}/failedNotifications/{N}"),
    "reprocess_failed": Recipe("change", "project", 202,
                               "/api/projects/{pa}/notificationSubscriptions/{S}/failedNotifications/{N}:reprocess"),
    "reprocess_since": Recipe("change", "project", 202,
                              "/api/projects/{pa}/notificationSubscriptions/{S}/failedNotifications:reprocess",
                              {"since": "2000-01-01T00:00:00Z"}),
    "list_custom_codes": Recipe("read", "project", 200, "/api/projects/{pa}/customEvents"),
    "post_custom_event": Recipe("change", "project", 204, "/api/projects/{pa}/customEvents",
                                {"code": "QC_FAILED", "content": {"sample": "s1"}}),
    "list_custom_subscriptions": Recipe("read", "project", 200, "/api/projects/{pa}/customNotificationSubscriptions"),
    "create_custom_subscription": Recipe("change", "project", 201,
                                         "/api/projects/{pa}/customNotificationSubscriptions",
                                         {"eventCode": "QC_NEW", "notificationChannelId": "{C}"}),
    "get_custom_subscription": Recipe("read", "project", 200,
                                      "/api/projects/{pa}/customNotificationSubscriptions/{CS}"),
    "post_event": Recipe("change", "project", 202, "/api/projects/{pa}/events",
                         {"eventCode": "ICA_EXEC_002", "payload": {"id": "x", "status": "SUCCEEDED"}}),
    "get_event": Recipe("read", "project", 200, "/v1/events/{E}"),
    "list_events": Recipe("read", "project", 200, "/v1/events?project={pa}"),
    "list_event_codes": Recipe("read", "project", 200, "/api/eventCodes?project={pa}"),
    "list_inbound_webhooks": Recipe("read", "project", 200, "/api/projects/{pa}/inboundWebhooks"),
    "create_inbound_webhook": Recipe("change", "project", 201, "/api/projects/{pa}/inboundWebhooks", {}),
    "get_inbound_webhook": Recipe("read", "project", 200, "/api/projects/{pa}/inboundWebhooks/{I}"),
    "delete_inbound_webhook": Recipe("change", "project", 204, "/api/projects/{pa}/inboundWebhooks/{I}"),
    "channel_attempt_stats": Recipe("read", "C", 200, "/api/notificationChannels/{C}/stats"),
    "notification_counts": Recipe("read", "project", 200,
                                  "/api/projects/{pa}/notificationSubscriptions/{S}/notificationCounts"),
    "send_test_event": Recipe("change", "project", 202,
                              "/api/projects/{pa}/notificationSubscriptions/{S}:sendTestEvent",
                              {"eventCode": "ICA_EXEC_002"}),
    # the key's own console access and tools: any valid key, nothing of a project's
    "create_console_link": Recipe("read", "none", 201, "/api/consoleLinks", {}),
    "open_console_session": Recipe("read", "none", 201, "/api/consoleSessions", {}),
    "current_console_session": Recipe("read", "none", 200, "/api/consoleSessions/current"),
    # an API key is no console session to end: 400 for every valid key, 401 without one
    "end_console_session": Recipe("read", "none", 400, "/api/consoleSessions/current"),
    "check_filter": Recipe("read", "none", 200, "/api/filters:check", {"filterExpression": "[?($.a == 1)]"}),
    "target_policy": Recipe("read", "none", 200,
                            "/api/targetPolicy?type=SQS&address=https://sqs.eu-west-1.amazonaws.com/111122223333/q"),
    # admin only
    "list_keys": Recipe("admin", "none", 200, "/api/keys"),
    "create_key": Recipe("admin", "none", 201, "/api/keys", {"projects": ["{pa}"]}),
    "revoke_key": Recipe("admin", "none", 204, "/api/keys/{K}"),
    # public: their own rules, whatever key comes along
    "health": Recipe("public", "none", 200, "/health"),
    "openapi_json": Recipe("public", "none", 200, "/openapi.json"),
    "swagger": Recipe("public", "none", 200, "/swagger"),
    "onecodex_webhook": Recipe("public", "none", 401, "/webhooks/onecodex?project={pa}",
                               {"event_type": "analysis.failed"}),  # unsigned: its signature is its key
}  # fmt: skip


def _operations() -> dict[str, str]:
    """operationId → "METHOD path": the OpenAPI document's, and the router's undocumented routes."""
    doc = openapi.document(api_app.app, api_app.PUBLIC_PATHS)
    ops = {o["operationId"]: f"{m.upper()} {p}" for p, item in doc["paths"].items() for m, o in item.items()}
    for route in api_app.app.routes():
        if not route.include_in_schema:
            ops[route.func.__name__] = f"{route.method} {route.path}"
    return ops


OPERATIONS = _operations()


def test_every_route_has_a_matrix_recipe() -> None:
    assert sorted(set(OPERATIONS) - set(RECIPES)) == [], "routes without a tenancy matrix recipe"
    assert sorted(set(RECIPES) - set(OPERATIONS)) == [], "recipes for routes that no longer exist"


def test_every_recipe_calls_its_own_route() -> None:
    for operation, recipe in RECIPES.items():
        method, _ = OPERATIONS[operation].split(" ", 1)
        assert api_app.app.allowed_methods(recipe.path.split("?")[0].format(**_placeholders())), operation
        assert method in api_app.app.allowed_methods(recipe.path.split("?")[0].format(**_placeholders()))


def _placeholders() -> dict[str, str]:
    return {k: "x" for k in ("pa", "C", "D", "S", "S2", "N", "E", "CS", "I", "K", "C_PROJECTS")}


# --- one world per cell --------------------------------------------------------------------------
_cells = itertools.count()


@dataclass
class World:
    names: dict[str, Any]
    keys: dict[str, str | None]  # key kind → the key itself
    key_projects: dict[str, set[str]]
    visible_to: dict[str, set[str]] = field(default_factory=dict)  # target → projects that see it
    served: dict[str, set[str]] = field(default_factory=dict)  # target → projects it serves


def _channel(svc: Services, projects: list[str]) -> Channel:
    channel_id = ids.new_id()
    ch = Channel(
        id=channel_id,
        type=ChannelType.HTTP,
        address="https://hooks.example.com/h",
        secret=svc.secrets.seal("whsec_c2VjcmV0c2VjcmV0c2VjcmV0", channel_id),
        projects=projects,
        createdAt=clock.utc_iso(),
    )
    svc.channels.put(ch)
    return ch


def _needs(recipe: Recipe) -> set[str]:
    text = json.dumps([recipe.path, recipe.body])
    return {name for name in ("C", "D", "S", "S2", "N", "E", "CS", "I", "K") if "{" + name + "}" in text}


def _event(svc: Services, project: str) -> Event:
    now = clock.now()
    event = Event(id=ids.new_id(), projectId=project, eventCode="ICA_EXEC_002", description="d",
                  payload={"id": "x"}, correlationId="c", timestamp=clock.utc_iso(now), createdAt=now,
                  routed=True, status=NotificationStatus.FAILED)  # fmt: skip
    svc.events.put_if_new(event)
    return event


def _failed(svc: Services, event: Event, sub_id: str, channel_id: str) -> Notification:
    stamp = clock.utc_iso()
    attempt = Attempt(at=stamp, durationMs=3, success=False, httpStatus=500, error="HTTP 500")
    n = Notification(id=ids.notification_id_for(event.id, sub_id), eventId=event.id, subscriptionId=sub_id,
                     projectId=event.projectId, channelId=channel_id, status=NotificationStatus.FAILED,
                     attempts=[attempt], lastError="HTTP 500", createdAt=stamp, updatedAt=stamp)  # fmt: skip
    svc.notifications.create_if_new(n, event)
    return n


def _world(svc: Services, sharing: str, needs: set[str]) -> World:
    """Projects of their own, keys for them, and the objects the recipe names (only those)."""
    n = next(_cells)
    pa, pb = f"pa{n}", f"pb{n}"
    projects = [pa, pb] if sharing == "shared" else [pa]
    names: dict[str, Any] = {"pa": pa, "C_PROJECTS": projects}
    used = _channel(svc, projects)
    names["C"] = used.id
    if sharing != "unshared":  # pb delivers through the channel too
        subscription(svc, used.id, project=pb)
    if "D" in needs:
        names["D"] = _channel(svc, projects).id
    if needs & {"S", "N"}:
        names["S"] = subscription(svc, used.id, project=pa).id
    if "S2" in needs:
        names["S2"] = subscription(svc, used.id, project=pa).id
    if "CS" in needs:
        names["CS"] = subscription(svc, used.id, project=pa, code="QC_ONE", custom=True).id
    if needs & {"E", "N"}:
        event = _event(svc, pa)
        names["E"] = event.id
        if "N" in needs:
            names["N"] = _failed(svc, event, names["S"], used.id).id
    if "I" in needs:
        hook = InboundWebhook(id=ids.new_id(), projectId=pa, secret="s" * 32, createdAt=clock.utc_iso())
        svc.inbound_webhooks.put(hook)
        names["I"] = hook.id
    if "K" in needs:
        names["K"] = key_store.register(svc.api_keys, f"matrix-{n}-victim", [pb], admin=False).keyId
    keys: dict[str, str | None] = {"admin": ADMIN, "none": None}
    key_projects: dict[str, set[str]] = {"admin": set(), "none": set(), "revoked": set()}
    for kind, scope in (("pa", [pa]), ("pb", [pb]), ("pa+pb", [pa, pb]), ("revoked", [pa, pb])):
        keys[kind] = f"matrix-{n}-{kind}"
        auth.register_key(svc.api_keys, f"matrix-{n}-{kind}", scope, admin=False)
        key_projects[kind] = set(scope) if kind != "revoked" else set()
    record = key_store.revoke(svc.api_keys, key_store.key_id(key_store.hash_key(f"matrix-{n}-revoked")))
    assert record is not None
    auth.forget(record.keyHash)
    channel_served = {pa, pb} if sharing != "unshared" else {pa}
    return World(
        names,
        keys,
        key_projects,
        visible_to={"C": set(projects), "D": set(projects), "new": set(projects), "project": {pa}},
        served={"C": channel_served, "D": set(projects), "new": set(projects), "project": {pa}},
    )


def expected(recipe: Recipe, kind: str, world: World) -> int:
    """The rule, for one cell."""
    if recipe.kind == "public":
        return recipe.ok
    if kind in ("none", "revoked"):
        return 401
    admin = kind == "admin"
    if recipe.kind == "admin":
        return recipe.ok if admin else 404
    if recipe.target == "none":
        return recipe.ok
    projects = world.key_projects[kind]
    sees = admin or bool(projects & world.visible_to[recipe.target])
    covers = admin or world.served[recipe.target] <= projects
    if recipe.kind == "read":
        return recipe.ok if sees else 404
    if recipe.kind == "create":  # naming projects the key does not have is a bad request
        return recipe.ok if covers else 400
    if not sees:
        return 404
    return recipe.ok if covers else 403


def _fill(template: Any, names: dict[str, Any]) -> Any:
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in names:
            return names[template[1:-1]]
        return template.format(**names)
    if isinstance(template, dict):
        return {k: _fill(v, names) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, names) for v in template]
    return template


def _snapshot(svc: Services) -> list[str]:
    """Every item of the table, as text: a refused request must change none of them."""
    ddb = svc.table.ddb
    items, kwargs = [], {"TableName": svc.table.name}
    while True:
        page = ddb.scan(**kwargs)
        items.extend(json.dumps(i, sort_keys=True, default=str) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _sharings(operation: str) -> tuple[str, ...]:
    """Sharing changes what a channel serves; a project's own objects are tried on both kinds of
    channel (one test per operation, its cells inside: a fresh moto world per test is the cost)."""
    return SHARING if RECIPES[operation].target in ("C", "D", "new") else SHARING[:2]


@pytest.mark.parametrize("operation", sorted(RECIPES))
def test_the_tenancy_rule_holds_for_every_route_key_and_object(keys: Services, operation: str) -> None:
    recipe = RECIPES[operation]
    method = OPERATIONS[operation].split(" ", 1)[0]
    for sharing, kind in itertools.product(_sharings(operation), KEY_KINDS):
        world = _world(keys, sharing, _needs(recipe))
        before = _snapshot(keys)
        path, body = _fill(recipe.path, world.names), _fill(recipe.body, world.names)
        status, resp = Client(world.keys[kind]).call(method, path, body)
        want = expected(recipe, kind, world)
        cell = (sharing, kind, method, path)
        assert status == want, (*cell, resp)
        if want >= 400:
            assert _snapshot(keys) == before, (*cell, "a refused request changed stored data")
        if operation == "list_channels" and status == 200:
            listed = {c["id"] for c in resp["items"]}
            sees = kind == "admin" or bool(world.key_projects[kind] & world.visible_to["C"])
            assert (world.names["C"] in listed) is sees, cell
