"""Custom events (ICA's "Custom Events"): post events with the project's own codes, subscribe to them.

`POST /api/projects/{projectId}/customEvents` with `{"code", "content"}` answers 204 and sends the
event, like any other, through the project's subscriptions to that code (and `*`). Posting the
same code again reuses the same channel and subscription.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from herald.api import project_subscriptions
from herald.api.context import services
from herald.api.errors import about, invalid, not_found
from herald.api.params import DEFAULT_LIMIT, Cursor, Limit, ProjectId, SubscriptionId
from herald.api.resolver import new_router
from herald.api.schemas import (
    CustomEventCodeList,
    CustomEventCodeOut,
    CustomEventIn,
    CustomSubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from herald.api.tenancy import check_project
from herald.api.views import no_content, responses, subscription_out
from herald.domain import catalog
from herald.logic import accept, custom_events

router = new_router()
TAG = ["Custom events"]


@router.post(
    "/api/projects/<project_id>/customEvents",
    status_code=204,
    summary="Post a custom event",
    description="`code`: 1 to 20 characters of A-Z a-z 0-9 _ . - (starting with a letter or digit), "
    "e.g. ICA_CUSTOM_123. `content` becomes the event's payload.",
    tags=TAG,
    responses=responses(400, 404, 413, success=204, description="Accepted"),
)
def post_custom_event(project_id: ProjectId, body: Annotated[CustomEventIn, Body()]) -> Response[None]:
    check_project(project_id)
    if catalog.lookup(body.code) is not None:
        raise invalid("code", f"{body.code} is a system event code; custom codes must differ from it")
    with about("content", accept.PayloadRefusedError):
        custom_events.post(services(), project_id, body.code, body.content)
    return no_content()


@router.get(
    "/api/projects/<project_id>/customEvents",
    summary="List the custom event codes the project has used",
    tags=TAG,
    responses=responses(400, 404),
)
def list_custom_codes(
    project_id: ProjectId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> CustomEventCodeList:
    check_project(project_id)
    page = services().custom_codes.list_page(project_id, limit, cursor)
    return CustomEventCodeList(
        items=[CustomEventCodeOut.model_validate(c.model_dump()) for c in page.items], nextCursor=page.cursor
    )


@router.post(
    "/api/projects/<project_id>/customNotificationSubscriptions",
    status_code=201,
    summary="Subscribe a channel to a custom event code",
    tags=TAG,
    responses=responses(400, 404, success=201, description="Created"),
)
def create_custom_subscription(
    project_id: ProjectId, body: Annotated[CustomSubscriptionIn, Body()]
) -> SubscriptionOut:
    sub = project_subscriptions.create(project_id, body, custom=True)
    custom_events.record_code(services(), project_id, body.eventCode)
    return subscription_out(sub)


@router.get(
    "/api/projects/<project_id>/customNotificationSubscriptions",
    summary="List custom subscriptions",
    tags=TAG,
    responses=responses(400, 404),
)
def list_custom_subscriptions(
    project_id: ProjectId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> SubscriptionList:
    return project_subscriptions.page(project_id, limit, cursor, custom=True)


@router.get(
    "/api/projects/<project_id>/customNotificationSubscriptions/<subscription_id>",
    summary="Get a custom subscription",
    description="Change, enable, disable or delete it through notificationSubscriptions/{id}.",
    tags=TAG,
    responses=responses(400, 404),
)
def get_custom_subscription(project_id: ProjectId, subscription_id: SubscriptionId) -> SubscriptionOut:
    sub = project_subscriptions.get(project_id, subscription_id)
    if not sub.custom:
        raise not_found(f"custom subscription {subscription_id}")
    return subscription_out(sub)
