"""A project's subscriptions as every route working with them reads, lists and creates them:
subscriptions, custom events, failed notifications and the console's."""

from __future__ import annotations

from herald.api.context import services
from herald.api.errors import invalid, not_found
from herald.api.schemas import SubscriptionIn, SubscriptionList
from herald.api.tenancy import check_project, visible_channel
from herald.api.views import subscription_out
from herald.domain import catalog, clock, ids
from herald.domain.models import Subscription


def get(project_id: str, subscription_id: str) -> Subscription:
    """The project's subscription, if the key sees the project (404 otherwise)."""
    check_project(project_id)
    sub = services().subscriptions.get(project_id, subscription_id)
    if sub is None:
        raise not_found(f"subscription {subscription_id}")
    return sub


def page(
    project_id: str,
    limit: int,
    cursor: str | None,
    *,
    custom: bool | None = None,
    event_code: str | None = None,
    channel_id: str | None = None,
    enabled: bool | None = None,
) -> SubscriptionList:
    check_project(project_id)
    found = services().subscriptions.list_page(
        project_id,
        limit,
        cursor,
        custom=custom,
        event_code=event_code,
        channel_id=channel_id,
        enabled=enabled,
    )
    return SubscriptionList(items=[subscription_out(s) for s in found.items], nextCursor=found.cursor)


def create(project_id: str, body: SubscriptionIn, custom: bool) -> Subscription:
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


def check_filter(expression: str | None) -> None:
    """A filter that does not compile is refused (FilterSyntaxError, answered 400 naming the spot)."""
    if not expression:
        return
    # Here, not at import: the filter engine (and `regex`) is ~20 ms of the API's cold start that
    # only requests carrying a filter need.
    from herald.filters import compile_filter

    compile_filter(expression)


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
