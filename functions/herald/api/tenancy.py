"""The tenancy rule, in one place: what a key may see and what it may change.

Reading is project-scoped: a key sees what one of its projects has (anything else is 404, so a
key never learns that another project exists). Changing needs more: a key may change an object
only if it covers EVERY project the object serves (or is admin). A project's own objects
(subscriptions, their notifications, custom events, inbound webhooks, events) serve that project
alone, so `check_project` is the rule for them; a channel serves its projects and those of every
subscription delivering through it, so a key for one of them cannot redirect, disable, rotate or
delete what the others rely on.
"""

from __future__ import annotations

from herald.api.context import principal, services
from herald.api.errors import ApiError, not_found
from herald.domain.models import ApiKey, Channel


def check_project(project_id: str) -> None:
    if not principal().can_access(project_id):
        raise not_found(f"project {project_id}")


def may_change(key: ApiKey, served: set[str]) -> bool:
    return key.admin or (bool(served) and served <= set(key.projects))


def check_may_change(what: str, served: set[str]) -> None:
    """403 when the key sees the object (it has one of its projects) but does not cover them all."""
    if not may_change(principal(), served):
        raise ApiError(
            403,
            "forbidden",
            f"{what} also serves projects this key does not cover; only a key covering every project it "
            "serves, or an admin key, may change it",
        )


def can_see_channel(key: ApiKey, channel: Channel) -> bool:
    """Admin keys see every channel; other keys those of their projects (never project-less ones)."""
    return key.admin or bool(set(channel.projects) & set(key.projects))


def visible_channel(channel_id: str) -> Channel | None:
    channel = services().channels.get(channel_id)
    if channel is None or not can_see_channel(principal(), channel):
        return None
    return channel
