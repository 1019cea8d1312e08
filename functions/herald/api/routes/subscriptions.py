"""Notification subscriptions (`/api/projects/{projectId}/notificationSubscriptions`).

A subscription sends a project's events of one code (or `*`, every code), optionally narrowed
by a JsonPath filter, to a channel. Overlapping subscriptions each deliver. A subscription is
deleted only when none of its notifications is pending, retryable or failed (ICA's rule).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

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
    visible_channel,
)
from herald.api.errors import ApiError, conflict, invalid, not_found
from herald.api.schemas import (
    ID_PATTERN,
    CustomSubscriptionIn,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    SubscriptionPatch,
)
from herald.dal.codec import InvalidCursorError
from herald.domain import catalog, clock, ids
from herald.domain.models import NotificationStatus, Subscription

router = Router()
TAG = ["Subscriptions"]
BASE = "/api/projects/<project_id>/notificationSubscriptions"


def out(sub: Subscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(sub.model_dump())


def check_filter(expression: str | None) -> None:
    if not expression:
        return
    # Here, not at import: the filter engine (and `regex`) is ~20 ms of the API's cold start that
    # only requests carrying a filter need.
    from herald.filters import FilterSyntaxError, compile_filter

    try:
        compile_filter(expression)
    except FilterSyntaxError as exc:
        raise ApiError(
            400, "invalid_filter", f"filterExpression: {exc}\n{exc.caret()}", "filterExpression"
        ) from None


def check_event_code(project_id: str, code: str, custom: bool) -> None:
    """System codes come from the catalog, custom ones are the project's own: never the same."""
    if custom:
        if catalog.lookup(code) is not None:
            raise invalid("eventCode", f"{code} is a system event code; custom codes must differ from it")
        return
    if code == "*" or catalog.lookup(code) is not None:
        return
    if services().custom_codes.get(project_id, code) is not None:
        return
    near = catalog.nearest(code)
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    raise invalid(
        "eventCode",
        f"unknown event code {code!r}{hint} (GET /api/eventCodes lists them; a custom code is created with "
        "customNotificationSubscriptions or customEvents)",
    )


def check_channel(channel_id: str) -> None:
    """A key subscribes only with channels it can see."""
    if visible_channel(channel_id) is None:
        raise invalid("notificationChannelId", "no channel with this id")


def create(project_id: str, body: SubscriptionIn | CustomSubscriptionIn, custom: bool) -> Subscription:
    check_project(project_id)
    check_event_code(project_id, body.eventCode, custom)
    check_channel(body.notificationChannelId)
    check_filter(body.filterExpression)
    sub = Subscription(
        id=ids.new_id(),
        projectId=project_id,
        eventCode=body.eventCode,
        notificationChannelId=body.notificationChannelId,
        filterExpression=body.filterExpression or None,
        payloadVersion=body.payloadVersion,
        format=body.format,
        enabled=body.enabled,
        ordered=body.ordered,
        custom=custom,
        createdAt=clock.utc_iso(),
    )
    services().subscriptions.put(sub)
    return sub


def get(project_id: str, subscription_id: str) -> Subscription:
    check_project(project_id)
    sub = services().subscriptions.get(project_id, subscription_id)
    if sub is None:
        raise not_found(f"subscription {subscription_id}")
    return sub


def listing(
    project_id: str, limit: int, cursor: str | None, custom: bool | None = None, **filters: object
) -> SubscriptionList:
    check_project(project_id)
    try:
        page = services().subscriptions.list_page(
            project_id,
            limit,
            cursor,
            custom=custom,
            **filters,  # type: ignore[arg-type]
        )
    except InvalidCursorError as exc:
        raise cursor_error(exc) from None
    return SubscriptionList(items=[out(s) for s in page.items], nextCursor=page.cursor)


def _save(sub: Subscription) -> SubscriptionOut:
    if not services().subscriptions.replace(sub):
        raise not_found(f"subscription {sub.id}")
    return out(sub)


@router.post(
    BASE,
    status_code=201,
    summary="Subscribe a channel to an event code",
    tags=TAG,
    responses=responses(400, 404, success=201, description="Created"),
)
def create_subscription(project_id: ProjectId, body: Annotated[SubscriptionIn, Body()]) -> SubscriptionOut:
    return out(create(project_id, body, custom=False))


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
    return listing(
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
    return out(get(project_id, subscription_id))


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
    sub = get(project_id, subscription_id)
    changes = body.model_dump(include=body.model_fields_set)
    if "notificationChannelId" in changes:
        check_channel(changes["notificationChannelId"])
    if "filterExpression" in changes:
        check_filter(changes["filterExpression"])
        changes["filterExpression"] = changes["filterExpression"] or None
        if changes["filterExpression"] != sub.filterExpression:
            changes["filterStrikes"] = 0  # a new filter starts with a clean record
    if changes.get("enabled") and not sub.enabled:
        changes.update(_FRESH_START)
    return _save(sub.model_copy(update={**changes, "updatedAt": clock.utc_iso()}))


# Enabled again (after Herald quarantined it, say): no reason, and its filter's count from zero.
_FRESH_START = {"disabledReason": None, "disabledAt": None, "filterStrikes": 0}


def _set_enabled(project_id: str, subscription_id: str, enabled: bool) -> SubscriptionOut:
    sub = get(project_id, subscription_id)
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
    description="Refused (409) while the subscription has failed, pending or retryable notifications; "
    "the message says how many and how to clear them.",
    tags=TAG,
    responses=responses(400, 404, 409, success=204, description="Deleted"),
)
def delete_subscription(project_id: ProjectId, subscription_id: SubscriptionId) -> None:
    sub = get(project_id, subscription_id)
    counts = services().notifications.open_counts(subscription_id)
    if any(counts.values()):
        raise conflict(_blocking_message(project_id, subscription_id, sub.notificationChannelId, counts))
    services().subscriptions.delete(project_id, subscription_id)
    return no_content()  # type: ignore[return-value]
