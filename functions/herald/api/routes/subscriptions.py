"""Notification subscriptions (`/api/projects/{projectId}/notificationSubscriptions`).

A subscription sends a project's events of one code (or `*`, every code), optionally narrowed
by a JsonPath filter, to a channel. Overlapping subscriptions each deliver. A subscription is
deleted only when none of its notifications is pending, retryable or failed (ICA's rule), as its
open-notifications index counts them: a notification in its first delivery attempt (normally well
under a second) is counted once that attempt fails or is held back; one whose subscription is
deleted before that attempt fails visibly ("the subscription no longer exists"), never silently.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from herald.api import project_subscriptions
from herald.api.context import services
from herald.api.errors import conflict, not_found
from herald.api.params import DEFAULT_LIMIT, Cursor, Limit, ProjectId, SubscriptionId
from herald.api.resolver import new_router
from herald.api.schemas import (
    ID_PATTERN,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    SubscriptionPatch,
)
from herald.api.views import no_content, responses, subscription_out
from herald.domain import clock
from herald.domain.models import NotificationStatus, Subscription

router = new_router()
TAG = ["Subscriptions"]
BASE = "/api/projects/<project_id>/notificationSubscriptions"


def _save(sub: Subscription) -> SubscriptionOut:
    if not services().subscriptions.replace(sub):
        raise not_found(f"subscription {sub.id}")
    return subscription_out(sub)


@router.post(
    BASE,
    status_code=201,
    summary="Subscribe a channel to an event code",
    tags=TAG,
    responses=responses(400, 404, success=201, description="Created"),
)
def create_subscription(project_id: ProjectId, body: Annotated[SubscriptionIn, Body()]) -> SubscriptionOut:
    return subscription_out(project_subscriptions.create(project_id, body, custom=False))


@router.get(
    BASE,
    summary="List subscriptions",
    description="Every subscription of the project (custom ones have `custom: true`), filtered by the "
    "parameters given.",
    tags=TAG,
    responses=responses(400, 404),
)
def list_subscriptions(
    project_id: ProjectId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    eventCode: Annotated[
        str | None, Query(max_length=40, description="Only this event code (or `*`).")
    ] = None,
    notificationChannelId: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only those delivering to this channel.")
    ] = None,
    enabled: Annotated[
        bool | None, Query(description="Only enabled (true) or disabled (false) ones.")
    ] = None,
) -> SubscriptionList:
    return project_subscriptions.page(
        project_id,
        limit,
        cursor,
        event_code=eventCode,
        channel_id=notificationChannelId,
        enabled=enabled,
    )


@router.get(
    f"{BASE}/<subscription_id>", summary="Get a subscription", tags=TAG, responses=responses(400, 404)
)
def get_subscription(project_id: ProjectId, subscription_id: SubscriptionId) -> SubscriptionOut:
    return subscription_out(project_subscriptions.get(project_id, subscription_id))


@router.patch(
    f"{BASE}/<subscription_id>",
    summary="Change a subscription",
    description="Fields left out keep their value; `null` clears filterExpression, payloadVersion or format.",
    tags=TAG,
    responses=responses(400, 404),
)
def patch_subscription(
    project_id: ProjectId, subscription_id: SubscriptionId, body: Annotated[SubscriptionPatch, Body()]
) -> SubscriptionOut:
    sub = project_subscriptions.get(project_id, subscription_id)
    changes = body.model_dump(include=body.model_fields_set)
    if "notificationChannelId" in changes:
        project_subscriptions.check_channel(changes["notificationChannelId"])
    if "filterExpression" in changes:
        project_subscriptions.check_filter(changes["filterExpression"])
        changes["filterExpression"] = changes["filterExpression"] or None
        if changes["filterExpression"] != sub.filterExpression:
            changes["filterStrikes"] = 0  # a new filter starts with a clean record
    if changes.get("enabled") and not sub.enabled:
        changes.update(_FRESH_START)
    return _save(sub.model_copy(update={**changes, "updatedAt": clock.utc_iso()}))


# Enabled again (after Herald quarantined it, say): no reason, and its filter's count from zero.
_FRESH_START = {"disabledReason": None, "disabledAt": None, "filterStrikes": 0}


def _set_enabled(project_id: str, subscription_id: str, enabled: bool) -> SubscriptionOut:
    sub = project_subscriptions.get(project_id, subscription_id)
    update: dict[str, object] = {"enabled": enabled, "updatedAt": clock.utc_iso()}
    if enabled and not sub.enabled:
        update.update(_FRESH_START)
    return _save(sub.model_copy(update=update))


@router.post(
    f"{BASE}/<subscription_id>:enable",
    summary="Enable a subscription",
    tags=TAG,
    responses=responses(400, 404),
)
def enable_subscription(project_id: ProjectId, subscription_id: SubscriptionId) -> SubscriptionOut:
    return _set_enabled(project_id, subscription_id, True)


@router.post(
    f"{BASE}/<subscription_id>:disable",
    summary="Disable a subscription",
    description="A disabled subscription matches no new events; notifications already made still deliver.",
    tags=TAG,
    responses=responses(400, 404),
)
def disable_subscription(project_id: ProjectId, subscription_id: SubscriptionId) -> SubscriptionOut:
    return _set_enabled(project_id, subscription_id, False)


def _blocking_message(
    project_id: str, sub_id: str, channel_id: str, counts: dict[NotificationStatus, int]
) -> str:
    parts = [
        f"{counts[s]} {s.value}"
        for s in (NotificationStatus.FAILED, NotificationStatus.RETRYABLE, NotificationStatus.PENDING)
        if counts.get(s)
    ]
    message = (
        f"subscription {sub_id} still has {', '.join(parts)} notification(s); a subscription can only be "
        "deleted when none is failed, pending or retryable."
    )
    if counts.get(NotificationStatus.FAILED):
        message += (
            " Reprocess or delete the failed ones (GET /api/projects/"
            f"{project_id}/notificationSubscriptions/{sub_id}/failedNotifications)."
        )
    if counts.get(NotificationStatus.PENDING) or counts.get(NotificationStatus.RETRYABLE):
        message += (
            " Pending and retryable ones settle by themselves (delivered, or failed once retries are "
            "exhausted); disable the subscription so no new ones are made. To end their retries "
            f"sooner, disable the channel (PATCH /api/notificationChannels/{channel_id} "
            '{"enabled": false}): each then ends failed at its next attempt, without a request.'
        )
    return message


@router.delete(
    f"{BASE}/<subscription_id>",
    status_code=204,
    summary="Delete a subscription",
    description="Refused (409) while the subscription has failed, pending (held back by its channel) or "
    "retryable notifications; "
    "the message says how many and how to clear them.",
    tags=TAG,
    responses=responses(400, 404, 409, success=204, description="Deleted"),
)
def delete_subscription(project_id: ProjectId, subscription_id: SubscriptionId) -> Response[None]:
    sub = project_subscriptions.get(project_id, subscription_id)
    counts = services().notifications.open_counts(subscription_id)
    if any(counts.values()):
        raise conflict(_blocking_message(project_id, subscription_id, sub.notificationChannelId, counts))
    services().subscriptions.delete(project_id, subscription_id)
    return no_content()
