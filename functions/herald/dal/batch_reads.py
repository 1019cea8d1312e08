"""What a batch of deliveries reads, in two BatchGetItem calls instead of four GetItems a message.

A delivery needs its notification (strongly consistent: its status and attempt count decide
whether to send), its event (unless its message carries it), its subscription (whose channel is
the one to use, now), that channel and the channel's health. For a batch of messages this module
reads every notification in one consistent BatchGetItem, then every event, subscription, channel
and health item they name in one eventually consistent BatchGetItem (a third only when a
subscription has moved to a channel not read yet).

What is read here is a snapshot taken when the batch starts: a channel disabled, a secret
rotated or a subscription deleted while the batch runs is seen by the next batch (the deliver
function's timeout bounds a batch's life). The deliveries' own writes are conditional on what
they read (the notification's attempt count), so a stale snapshot never records an attempt twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from herald.dal import layout
from herald.dal.codec import PK, SK, Item, Table
from herald.dal.events import event_from
from herald.dal.notifications import notification_from
from herald.domain.circuit import ChannelHealth
from herald.domain.models import Channel, Event, Notification, Subscription


@dataclass
class DeliveryReads:
    """A batch's snapshot; a key absent from a map was not read (ask the store), one mapped to
    None was read and does not exist."""

    notifications: dict[tuple[str, str], Notification | None] = field(default_factory=dict)
    events: dict[str, Event | None] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str], Subscription | None] = field(default_factory=dict)
    channels: dict[str, Channel | None] = field(default_factory=dict)
    health: dict[str, ChannelHealth | None] = field(default_factory=dict)
    read_at: float = 0.0  # time.monotonic() when the snapshot was read
    calls: int = 0  # BatchGetItem requests made (for tests and benchmarks)


def read_for_deliveries(
    table: Table, wanted: Iterable[tuple[str, str]], known: Iterable[Event] = ()
) -> DeliveryReads:
    """The notifications (event id, subscription id) and what they need to be delivered: their
    events (but those `known`, carried in the messages), subscriptions, channels and the
    channels' health."""
    reads = DeliveryReads(read_at=time.monotonic())
    reads.events.update({e.id: e for e in known})
    keys = list(dict.fromkeys(wanted))
    if not keys:
        return reads
    found = table.batch_get([_pair(layout.notification(e, s)) for e, s in keys], consistent=True)
    reads.calls += 1
    for event_id, sub_id in keys:
        item = found.get(_pair(layout.notification(event_id, sub_id)))
        reads.notifications[(event_id, sub_id)] = notification_from(item) if item else None
    live = [n for n in reads.notifications.values() if n is not None]
    events = {n.eventId for n in live} - set(reads.events)
    subs = {(n.projectId, n.subscriptionId) for n in live}
    channels = {n.channelId for n in live}
    _read_rest(table, reads, events, subs, channels)
    moved = {
        s.notificationChannelId
        for s in reads.subscriptions.values()
        if s is not None and s.notificationChannelId not in reads.channels
    }
    if moved:
        _read_rest(table, reads, set(), set(), moved)
    return reads


def _read_rest(
    table: Table, reads: DeliveryReads, events: set[str], subs: set[tuple[str, str]], channels: set[str]
) -> None:
    keys = (
        [_pair(layout.event(e)) for e in events]
        + [_pair(layout.subscription(p, s)) for p, s in subs]
        + [_pair(layout.channel(c)) for c in channels]
        + [_pair(layout.channel_health(c)) for c in channels]
    )
    if not keys:
        return
    found = table.batch_get(keys)
    reads.calls += 1
    for event_id in events:
        item = found.get(_pair(layout.event(event_id)))
        reads.events[event_id] = event_from(item) if item else None
    for project_id, sub_id in subs:
        item = found.get(_pair(layout.subscription(project_id, sub_id)))
        reads.subscriptions[(project_id, sub_id)] = Subscription.model_validate(item) if item else None
    for channel_id in channels:
        item = found.get(_pair(layout.channel(channel_id)))
        reads.channels[channel_id] = Channel.model_validate(item) if item else None
        health = found.get(_pair(layout.channel_health(channel_id)))
        reads.health[channel_id] = ChannelHealth.model_validate(health) if health else None


def _pair(key: Item) -> tuple[str, str]:
    return str(key[PK]), str(key[SK])
