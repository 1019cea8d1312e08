"""Custom events (ICA's "Custom Events"): post events with the project's own codes, subscribe to them.

`POST /api/projects/{projectId}/customEvents` with `{"code", "content"}` answers 204 and sends the
event, like any other, through the project's subscriptions to that code (and `*`). Posting the
same code again reuses the same channel and subscription.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from herald.api.common import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    ProjectId,
    SubscriptionId,
    check_project,
    cursor_error,
    no_content,
    responses,
    services,
)
from herald.api.errors import ApiError, invalid, not_found
from herald.api.routes import subscriptions
from herald.api.schemas import (
    CustomEventCodeList,
    CustomEventCodeOut,
    CustomEventIn,
    CustomSubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from herald.dal.codec import InvalidCursorError
from herald.domain import catalog
from herald.logic import accept, custom_events

router = Router()
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
def post_custom_event(project_id: ProjectId, body: Annotated[CustomEventIn, Body()]) -> None:
    check_project(project_id)
    if catalog.lookup(body.code) is not None:
        raise invalid("code", f"{body.code} is a system event code; custom codes must differ from it")
    try:
        custom_events.post(services(), project_id, body.code, body.content)
    except accept.PayloadTooLargeError as exc:
        raise ApiError(413, "payload_too_large", f"content: {exc}", "content") from None
    except accept.PayloadShapeError as exc:
        raise ApiError(400, "invalid_request", f"content: {exc}", "content") from None
    return no_content()  # type: ignore[return-value]


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
    try:
        page = services().custom_codes.list_page(project_id, limit, cursor)
    except InvalidCursorError as exc:
        raise cursor_error(exc) from None
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
    sub = subscriptions.create(project_id, body, custom=True)
    custom_events.record_code(services(), project_id, body.eventCode)
    return subscriptions.out(sub)


@router.get(
    "/api/projects/<project_id>/customNotificationSubscriptions",
    summary="List custom subscriptions",
    tags=TAG,
    responses=responses(400, 404),
)
def list_custom_subscriptions(
    project_id: ProjectId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> SubscriptionList:
    return subscriptions.listing(project_id, limit, cursor, custom=True)


@router.get(
    "/api/projects/<project_id>/customNotificationSubscriptions/<subscription_id>",
    summary="Get a custom subscription",
    description="Change, enable, disable or delete it through notificationSubscriptions/{id}.",
    tags=TAG,
    responses=responses(400, 404),
)
def get_custom_subscription(project_id: ProjectId, subscription_id: SubscriptionId) -> SubscriptionOut:
    sub = subscriptions.get(project_id, subscription_id)
    if not sub.custom:
        raise not_found(f"custom subscription {subscription_id}")
    return subscriptions.out(sub)
