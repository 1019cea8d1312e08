"""A subscription's failed notifications (ICA's "Delivery failed" tab): list, reprocess, delete.

Reprocessing is asynchronous: the notification is pending again at once (202) and delivered by
the deliver function with the whole retry schedule; its earlier attempts stay in
`previousCycles`.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from herald.api import project_subscriptions
from herald.api.context import services
from herald.api.errors import conflict, not_found
from herald.api.params import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    NotificationId,
    ProjectId,
    SubscriptionId,
    parse_time,
    sortable_utc,
)
from herald.api.resolver import new_router
from herald.api.schemas import NotificationList, NotificationOut, ReprocessOut, ReprocessSinceIn
from herald.api.views import no_content, responses
from herald.domain.models import Notification, NotificationStatus
from herald.logic import failed_notifications

router = new_router()
TAG = ["Failed notifications"]
BASE = "/api/projects/<project_id>/notificationSubscriptions/<subscription_id>/failedNotifications"


def _out(n: Notification) -> NotificationOut:
    return NotificationOut.model_validate(n.model_dump())


def _open(project_id: str, subscription_id: str, notification_id: str) -> Notification:
    project_subscriptions.get(project_id, subscription_id)
    n = services().notifications.find_open(subscription_id, notification_id)
    if n is None:
        raise not_found(f"failed notification {notification_id}")
    return n


@router.get(
    BASE,
    summary="List a subscription's failed notifications",
    description="Newest first. A page may hold fewer than `limit` items while `nextCursor` is set.",
    tags=TAG,
    responses=responses(400, 404),
)
def list_failed(
    project_id: ProjectId,
    subscription_id: SubscriptionId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> NotificationList:
    project_subscriptions.get(project_id, subscription_id)
    page = services().notifications.list_failed(subscription_id, limit, cursor)
    return NotificationList(items=[_out(n) for n in page.items], nextCursor=page.cursor)


@router.get(
    f"{BASE}/<notification_id>",
    summary="Get a failed notification",
    tags=TAG,
    responses=responses(400, 404),
)
def get_failed(
    project_id: ProjectId, subscription_id: SubscriptionId, notification_id: NotificationId
) -> NotificationOut:
    n = _open(project_id, subscription_id, notification_id)
    if n.status != NotificationStatus.FAILED:
        raise not_found(f"failed notification {notification_id}")
    return _out(n)


@router.post(
    f"{BASE}/<notification_id>:reprocess",
    status_code=202,
    summary="Reprocess a failed notification",
    description="Starts a new delivery cycle (pending, the full retry schedule); the earlier attempts "
    "are kept in `previousCycles`.",
    tags=TAG,
    responses=responses(400, 404, 409, 503, success=202, description="Accepted"),
)
def reprocess_failed(
    project_id: ProjectId, subscription_id: SubscriptionId, notification_id: NotificationId
) -> NotificationOut:
    n = _open(project_id, subscription_id, notification_id)
    restarted = failed_notifications.reprocess_one(services(), n)
    if not restarted:
        raise conflict(f"notification {notification_id} changed meanwhile; read it again")
    current = services().notifications.get(n.eventId, n.subscriptionId)
    if current is None:
        raise not_found(f"failed notification {notification_id}")
    return _out(current)


@router.delete(
    f"{BASE}/<notification_id>",
    status_code=204,
    summary="Delete a failed notification",
    description="Removes it for good; its event's status is recomputed from the notifications left.",
    tags=TAG,
    responses=responses(400, 404, 409, success=204, description="Deleted"),
)
def delete_failed(
    project_id: ProjectId, subscription_id: SubscriptionId, notification_id: NotificationId
) -> Response[None]:
    n = _open(project_id, subscription_id, notification_id)
    deleted = failed_notifications.delete(services(), n)
    if not deleted:
        raise conflict(f"notification {notification_id} changed meanwhile; read it again")
    return no_content()


@router.post(
    f"{BASE}:reprocess",
    status_code=202,
    summary="Reprocess the failed notifications since a time",
    description=f"Like Svix's recover: every failed notification routed at or after `since`, at most "
    f"{failed_notifications.MAX_BULK} per call; while `more` is true, call again.",
    tags=TAG,
    responses=responses(400, 404, 503, success=202, description="Accepted"),
)
def reprocess_since(
    project_id: ProjectId, subscription_id: SubscriptionId, body: Annotated[ReprocessSinceIn, Body()]
) -> ReprocessOut:
    project_subscriptions.get(project_id, subscription_id)
    since_iso = sortable_utc(parse_time("since", body.since))
    restarted, more = failed_notifications.reprocess_since(services(), subscription_id, since_iso)
    return ReprocessOut(reprocessed=len(restarted), notificationIds=[n.id for n in restarted], more=more)
