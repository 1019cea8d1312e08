"""What Herald's resolver relies on in Powertools (see herald.api.resolver), pinned.

If one of these fails after a Powertools upgrade, the resolver's override or its reads of the
route table need a look: the failing test names which.
"""

from __future__ import annotations

import re

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Route

from herald.api.app import app
from herald.api.resolver import HeraldResolver, new_router


def test_powertools_segment_pattern_still_takes_a_colon() -> None:
    # The reason for the override: without it, "c1:rotateSecret" would be one id.
    powertools = APIGatewayRestResolver._compile_regex("/api/notificationChannels/<channel_id>")
    assert powertools.match("/api/notificationChannels/c1:rotateSecret")


def test_powertools_still_compiles_routes_through_the_overridable_hook() -> None:
    resolver = HeraldResolver()
    router = new_router()

    @router.put("/things/<thing_id>")
    def put_thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    resolver.include_router(router)
    (route,) = resolver.routes()
    assert route.rule.match("/things/t1")
    assert not route.rule.match("/things/t1:archive")


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("/api/notificationChannels/c1", True),
        ("/api/notificationChannels/c1:rotateSecret", False),
        ("/api/notificationChannels/c1/", False),
        ("/api/notificationChannels/c1\n", False),
    ],
)
def test_an_id_segment_takes_no_colon_and_nothing_after_it(path: str, matches: bool) -> None:
    rule = HeraldResolver._compile_regex("/api/notificationChannels/<channel_id>")
    assert bool(rule.match(path)) is matches


def test_a_project_id_may_contain_a_colon() -> None:
    rule = HeraldResolver._compile_regex("/api/projects/<project_id>/events")
    match = rule.match("/api/projects/urn:ica:p1/events")
    assert match is not None and match.group("project_id") == "urn:ica:p1"


def test_static_routes_keep_powertools_pattern() -> None:
    assert (
        HeraldResolver._compile_regex("/api/keys").pattern
        == APIGatewayRestResolver._compile_regex("/api/keys").pattern
    )


def test_every_route_of_the_api_is_listed_and_compiled_by_herald() -> None:
    routes = app.routes()
    assert all(isinstance(route, Route) for route in routes)
    dynamic = [route for route in routes if "<" in route.path]
    assert dynamic and all(route.rule.pattern.endswith(r"\Z") for route in dynamic)
    assert ("POST", "/api/notificationChannels/<channel_id>:rotateSecret") in {
        (route.method, route.path) for route in routes
    }


def test_the_matched_route_is_where_powertools_keeps_it() -> None:
    seen: list[Route | None] = []
    resolver = HeraldResolver()

    @resolver.get("/things/<thing_id>")
    def get_thing(thing_id: str) -> dict[str, str]:
        seen.append(resolver.matched_route())
        return {"id": thing_id}

    event = {"httpMethod": "GET", "path": "/things/t1", "headers": {}, "requestContext": {}}
    assert resolver.resolve(event, None)["statusCode"] == 200
    assert seen and seen[0] is not None and re.fullmatch(r"/things/<thing_id>", seen[0].path)
