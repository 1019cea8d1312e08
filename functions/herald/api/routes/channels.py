"""Notification channels (`/api/notificationChannels`): where deliveries go.

A channel belongs to projects: those of the key that created it, or those an admin names. Keys
see the channels of their projects; a channel with no projects is visible to admin keys only.
Changing one (PATCH, PUT, DELETE, rotating its secret) takes a key that covers every project it
serves, its own and its subscriptions' (the tenancy rule, `herald.api.tenancy`): 403 else.
The signing secret is shown on create and on rotate, never again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import ValidationError

from herald import signing
from herald.api.context import principal, services
from herald.api.errors import conflict, invalid, not_found
from herald.api.params import DEFAULT_LIMIT, ChannelId, Cursor, Limit
from herald.api.resolver import new_router
from herald.api.schemas import (
    ChannelHealthOut,
    ChannelIn,
    ChannelList,
    ChannelOut,
    ChannelPatch,
    ChannelWithSecret,
)
from herald.api.tenancy import can_see_channel, check_may_change, visible_channel
from herald.api.views import no_content, responses
from herald.domain import clock, ids, ssrf
from herald.domain.circuit import ChannelHealth, CircuitState
from herald.domain.models import Channel, ChannelType
from herald.logic import endpoint_health

router = new_router()
TAG = ["Channels"]
# How long the previous secret keeps signing after a rotation (receivers switch over meanwhile).
ROTATION_OVERLAP_SECONDS = 24 * 3600


def _owned_projects(requested: list[str] | None) -> list[str]:
    """The projects a new channel belongs to, as the key may set them."""
    key = principal()
    if requested is None:
        return [] if key.admin else sorted(key.projects)
    if not key.admin:
        foreign = sorted(set(requested) - set(key.projects))
        if foreign or not requested:
            raise invalid("projects", "a key that is not admin can only name (some of) its own projects")
    return sorted(set(requested))


def _check_target(kind: ChannelType, address: str) -> None:
    """An HTTP target must be a public address (no metadata service, no private network)."""
    if kind is not ChannelType.HTTP:
        return
    ssrf.check_url(address, services().settings.allow_private_targets)


def channel_out(channel: Channel, now: float) -> ChannelOut:
    key = principal()
    expires = channel.previousSecretExpiresAt
    return ChannelOut(
        id=channel.id,
        type=channel.type,
        address=channel.address,
        awsRegion=channel.awsRegion,
        enabled=channel.enabled,
        timeoutSeconds=channel.timeoutSeconds,
        format=channel.format,
        # Never name a project the key has no access to.
        projects=list(channel.projects) if key.admin else sorted(set(channel.projects) & set(key.projects)),
        createdAt=channel.createdAt,
        previousSecretExpiresAt=_iso(expires)
        if channel.previousSecret and expires and expires > now
        else None,
        rateLimitPerSecond=channel.rateLimitPerSecond,
        disabledReason=channel.disabledReason,
        disabledAt=channel.disabledAt,
    )


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _secret_view(channel: Channel, now: float, secret: str) -> ChannelWithSecret:
    return ChannelWithSecret(**channel_out(channel, now).model_dump(), secret=secret)


def _channel_or_404(channel_id: str) -> Channel:
    channel = visible_channel(channel_id)
    if channel is None:
        raise not_found(f"channel {channel_id}")
    return channel


def served_projects(channel: Channel) -> set[str]:
    """Every project the channel serves: its own, and those of the subscriptions using it."""
    return set(channel.projects) | services().subscriptions.projects_on_channel(channel.id)


def _changeable(channel_id: str) -> Channel:
    """The channel, if this key may change it (the tenancy rule, see `herald.api.tenancy`)."""
    channel = _channel_or_404(channel_id)
    if not principal().admin:
        check_may_change(f"channel {channel_id}", served_projects(channel))
    return channel


def _save(channel: Channel) -> None:
    if not services().channels.replace(channel):
        raise not_found(f"channel {channel.id}")


@router.post(
    "/api/notificationChannels",
    status_code=201,
    summary="Create a channel",
    description="Returns the channel with its signing secret, the only time the secret is shown.",
    tags=TAG,
    responses=responses(400, success=201, description="Created"),
)
def create_channel(body: Annotated[ChannelIn, Body()]) -> ChannelWithSecret:
    projects = _owned_projects(body.projects)
    _check_target(body.type, body.address)
    now = clock.now()
    channel_id, secret = ids.new_id(), signing.generate_secret()
    channel = Channel(
        id=channel_id,
        type=body.type,
        address=body.address,
        awsRegion=body.awsRegion,
        enabled=body.enabled,
        timeoutSeconds=body.timeoutSeconds,
        format=body.format,
        rateLimitPerSecond=body.rateLimitPerSecond,
        projects=projects,
        # Stored sealed with KMS; the plaintext leaves only in this response.
        secret=services().secrets.seal(secret, channel_id),
        createdAt=clock.utc_iso(now),
    )
    services().channels.put(channel)
    return _secret_view(channel, now, secret)


@router.get("/api/notificationChannels", summary="List channels", tags=TAG, responses=responses(400))
def list_channels(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> ChannelList:
    key = principal()
    page = services().channels.list_page(limit, cursor, visible=lambda c: can_see_channel(key, c))
    now = clock.now()
    return ChannelList(items=[channel_out(c, now) for c in page.items], nextCursor=page.cursor)


@router.get(
    "/api/notificationChannels/<channel_id>", summary="Get a channel", tags=TAG, responses=responses(400, 404)
)
def get_channel(channel_id: ChannelId) -> ChannelOut:
    return channel_out(_channel_or_404(channel_id), clock.now())


@router.get(
    "/api/notificationChannels/<channel_id>/health",
    summary="A channel's health",
    description="Its circuit breaker (closed, open or half-open), the failure rate of its recent "
    "attempts, since when it has been failing, and any Retry-After pause. A channel whose circuit "
    "is open has its deliveries held back, not failed; one probe goes out after the cool-down. "
    "Every failure is recorded; successes only while the channel has failures to weigh (a healthy "
    "channel's successes write nothing, for cost). `counting` says which: while it is false the "
    "attempt count, the window and the last success are not known and are null.",
    tags=TAG,
    responses=responses(400, 404),
)
def get_channel_health(channel_id: ChannelId) -> ChannelHealthOut:
    channel = _channel_or_404(channel_id)
    svc = services()
    health = svc.channel_health.get(channel.id, consistent=True)
    settings = svc.settings
    return _health_view(
        channel,
        health or ChannelHealth(channelId=channel.id),
        settings.circuit_cooldown_seconds,
        settings.circuit_window_seconds,
    )


def _health_view(channel: Channel, health: ChannelHealth, cooldown: int, window: int) -> ChannelHealthOut:
    def iso(ts: float | None) -> str | None:
        return clock.utc_iso(ts) if ts else None

    now = clock.now()
    # Attempts are recorded from a window's first failure (and while the circuit is not closed):
    # then the window's counts and its last success are known. A healthy channel's successes write
    # nothing (endpoint_health), so for it they are not known, and shown as null rather than as 0
    # attempts or an old success.
    counting = health.state is not CircuitState.CLOSED or (
        health.windowFailures > 0 and now - health.windowStart < window
    )
    last_success = (
        health.lastSuccessAt if counting and (health.lastSuccessAt or 0) >= health.windowStart else None
    )
    return ChannelHealthOut(
        channelId=channel.id,
        enabled=channel.enabled,
        disabledReason=channel.disabledReason,
        state=health.state.value,
        counting=counting,
        failureRate=round(health.failure_rate(), 4) if counting else 0.0,
        windowAttempts=health.windowAttempts if counting else None,
        windowFailures=health.windowFailures if counting else 0,
        windowStart=iso(health.windowStart) if counting else None,
        consecutiveFailures=health.consecutiveFailures,
        failingSince=iso(health.failingSince),
        lastSuccessAt=iso(last_success),
        lastFailureAt=iso(health.lastFailureAt),
        lastError=health.lastError,
        openedAt=iso(health.openedAt),
        nextProbeAt=iso(health.openedAt + cooldown)
        if health.state is CircuitState.OPEN and health.openedAt
        else None,
        pausedUntil=iso(health.pausedUntil) if health.pausedUntil and health.pausedUntil > now else None,
    )


def _apply(channel: Channel, changes: dict[str, Any]) -> Channel:
    """The channel with `changes` applied, validated as a whole (address against type)."""
    if "projects" in changes and not principal().admin:
        raise invalid("projects", "only an admin key can change a channel's projects")
    current = {
        "type": channel.type,
        "address": channel.address,
        "awsRegion": channel.awsRegion,
        "enabled": channel.enabled,
        "timeoutSeconds": channel.timeoutSeconds,
        "format": channel.format,
        "rateLimitPerSecond": channel.rateLimitPerSecond,
    }
    current.update({k: v for k, v in changes.items() if k != "projects"})
    try:
        valid = ChannelIn.model_validate(current)
    except ValidationError as exc:  # the changed channel is invalid: the request is (400 naming the field)
        raise RequestValidationError(exc.errors()) from None
    if (valid.type, valid.address) != (channel.type, channel.address):
        _check_target(valid.type, valid.address)
    update = valid.model_dump(exclude={"projects"})
    if changes.get("projects") is not None:
        update["projects"] = sorted(set(changes["projects"]))
    if valid.enabled and not channel.enabled:
        # Enabled again (after Herald disabled it, say): a fresh start for its health.
        update.update(disabledReason=None, disabledAt=None)
        services().channel_health.reset(channel.id)
        endpoint_health.forget(channel.id)
    return channel.model_copy(update=update)


@router.patch(
    "/api/notificationChannels/<channel_id>",
    summary="Change some of a channel's settings",
    description="Fields left out keep their value; `null` resets an optional one to its default. "
    "Only admin keys may change `projects`.",
    tags=TAG,
    responses=responses(400, 403, 404),
)
def patch_channel(channel_id: ChannelId, body: Annotated[ChannelPatch, Body()]) -> ChannelOut:
    channel = _changeable(channel_id)
    updated = _apply(channel, body.model_dump(include=body.model_fields_set))
    _save(updated)
    return channel_out(updated, clock.now())


@router.put(
    "/api/notificationChannels/<channel_id>",
    summary="Replace a channel's settings",
    description="Every setting is replaced (omitted ones take their defaults); the id, the secret "
    "and, unless an admin key sends `projects`, the projects stay.",
    tags=TAG,
    responses=responses(400, 403, 404),
)
def put_channel(channel_id: ChannelId, body: Annotated[ChannelIn, Body()]) -> ChannelOut:
    channel = _changeable(channel_id)
    changes = body.model_dump(exclude={"projects"})
    if body.projects is not None:
        changes["projects"] = body.projects
    updated = _apply(channel, changes)
    _save(updated)
    return channel_out(updated, clock.now())


@router.delete(
    "/api/notificationChannels/<channel_id>",
    status_code=204,
    summary="Delete a channel",
    description="Refused (409) while a subscription delivers through it.",
    tags=TAG,
    responses=responses(400, 403, 404, 409, success=204, description="Deleted"),
)
def delete_channel(channel_id: ChannelId) -> Response[None]:
    _changeable(channel_id)
    used_by = services().subscriptions.count_on_channel(channel_id)
    if used_by:
        raise conflict(
            f"channel {channel_id} is used by {used_by} subscription(s); delete them, or move them to "
            "another channel (PATCH notificationChannelId), first"
        )
    services().channels.delete(channel_id)
    return no_content()


@router.post(
    "/api/notificationChannels/<channel_id>:rotateSecret",
    summary="Rotate a channel's signing secret",
    description="Returns the new secret, once. For 24 hours deliveries are signed with both the new "
    "and the previous secret, so receivers can switch over; a second rotation within that time "
    "ends the previous secret's overlap.",
    tags=TAG,
    responses=responses(400, 403, 404),
)
def rotate_secret(channel_id: ChannelId) -> ChannelWithSecret:
    channel = _changeable(channel_id)
    now = clock.now()
    secret = signing.generate_secret()
    rotated = channel.model_copy(
        update={
            "secret": services().secrets.seal(secret, channel.id),
            "previousSecret": channel.secret,
            "previousSecretExpiresAt": now + ROTATION_OVERLAP_SECONDS,
        }
    )
    _save(rotated)
    return _secret_view(rotated, now, secret)
