"""Write distribution: a burst of 10,000 events in one second, stored through the real stores and
key functions, spreads its write units so that no table or index partition nears DynamoDB's
per-partition limit (docs/deploy.md, "Capacity: 10,000 events per second").

The stores write to a client that records each item instead of sending it; every write unit is
then counted where DynamoDB would count it: ceil(item size / 1 KB) in the item's table partition,
and as much again in each index partition whose keys the item holds (both indexes project ALL).
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from statistics import mean
from typing import Any

import pytest

from herald.dal import layout
from herald.dal.codec import Table
from herald.dal.events import EventStore
from herald.dal.notifications import NotificationStore
from herald.domain import clock, ids
from herald.domain.models import Event, Notification
from herald.names import TABLE_INDEXES, TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE
from tests.unit.builders import ANALYSIS
from tests.unit.dal.support import item_bytes

# DynamoDB's write limit per partition (write units a second), and the share of it a burst at
# the target rate may use: the rest is headroom for bursts above it and the hash's unevenness.
PARTITION_WRITE_LIMIT = 1000
HEADROOM = 0.8
BURST = 10_000  # events in one second: EventBridge's PutEvents quota
RETENTION = 30 * 86400
START = 1_767_268_800.0  # 2026-01-01T12:00:00Z: the burst's second lies within one UTC day


class RecordingDynamoDB:
    """Stands in for the DynamoDB client: keeps every item put, and answers as DynamoDB does when
    each conditional put holds (every event of the burst is new)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.items.append(request["Item"])
        return {}


def _write_units(items: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """Write units per partition, as (table or index name, partition key)."""
    units: Counter[tuple[str, str]] = Counter()
    for item in items:
        cost = math.ceil(item_bytes(item) / 1024)
        units[("table", item[TABLE_PARTITION_KEY]["S"])] += cost
        for index, pk, sk in TABLE_INDEXES:
            if pk in item and sk in item:
                units[(index, item[pk]["S"])] += cost
    return units


def _burst(projects: int, subscribed: bool, client_ids: bool) -> tuple[list[Event], RecordingDynamoDB]:
    """BURST events within one second, spread over `projects` projects, stored as ingest stores
    them; with `subscribed`, each routed to its project's one subscription (a notification each)."""
    ddb = RecordingDynamoDB()
    table = Table("herald", RETENTION, ddb=ddb)
    events = EventStore(table)
    notifications = NotificationStore(table, events)
    stored: list[Event] = []
    rng = random.Random(18)
    for n in range(BURST):
        project = f"p{n % projects + 1}"
        event = Event(
            # Producers' own sequential ids (an idempotency id per event) or random ones, as
            # Herald's (seeded: the same burst every run).
            id=ids.event_id_for(project, f"run-{n}")
            if client_ids
            else str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            projectId=project,
            eventCode="ICA_EXEC_002",
            description="Analysis status changed",
            payload=ANALYSIS,
            correlationId=ids.new_id(),
            timestamp=clock.utc_iso(START),
            createdAt=START + n / BURST,
        )
        events.put_if_new(event)
        if subscribed:
            notifications.create_if_new(
                Notification(
                    id=ids.notification_id_for(event.id, f"s-{project}"),
                    eventId=event.id,
                    subscriptionId=f"s-{project}",
                    projectId=project,
                    channelId="c1",
                    createdAt=event.timestamp,
                    updatedAt=event.timestamp,
                ),
                event,
            )
        stored.append(event)
    return stored, ddb


def _legacy_burst(events: list[Event]) -> RecordingDynamoDB:
    """The same events' list entries as the unsharded layout wrote them: EVENT#{id}, LISTING, in
    gsi1 (its project's events) and gsi2 (the day's events)."""
    ddb = RecordingDynamoDB()
    table = Table("herald", RETENTION, ddb=ddb)
    for event in events:
        table.put(
            {
                **layout.legacy_event_listing(event.id),
                "eventCode": event.eventCode,
                **layout.legacy_event_listing_index(event.id, event.projectId, event.createdAt),
                TABLE_TTL_ATTRIBUTE: table.expires_at(event.createdAt),
            }
        )
    return ddb


def _hottest(units: Counter[tuple[str, str]]) -> int:
    return max(units.values())


def _list_shards(units: Counter[tuple[str, str]], project: str) -> list[int]:
    return [units[("table", layout.project_events(project, s))] for s in layout.event_list_shards()]


def _day_shards(units: Counter[tuple[str, str]], events: list[Event]) -> list[int]:
    days = {layout.day(e.createdAt) for e in events}
    return [units[("gsi2", layout.day_events(d, s))] for d in days for s in layout.event_list_shards()]


@pytest.fixture(scope="module")
def one_project() -> tuple[list[Event], Counter[tuple[str, str]]]:
    events, ddb = _burst(projects=1, subscribed=False, client_ids=True)
    return events, _write_units(ddb.items)


@pytest.fixture(scope="module")
def many_projects() -> tuple[list[Event], Counter[tuple[str, str]]]:
    events, ddb = _burst(projects=100, subscribed=True, client_ids=False)
    return events, _write_units(ddb.items)


def test_ingest_writes_three_units_per_event_two_of_them_the_list_entry(
    one_project: tuple[list[Event], Counter[tuple[str, str]]],
) -> None:
    events, units = one_project
    list_units = sum(_list_shards(units, "p1")) + sum(_day_shards(units, events))

    assert sum(units.values()) == 3 * BURST
    assert list_units == 2 * BURST


def test_one_projects_burst_keeps_every_partition_well_under_the_write_limit(
    one_project: tuple[list[Event], Counter[tuple[str, str]]],
) -> None:
    _, units = one_project

    assert _hottest(units) < HEADROOM * PARTITION_WRITE_LIMIT


def test_one_projects_burst_spreads_its_list_entries_near_evenly_over_every_shard(
    one_project: tuple[list[Event], Counter[tuple[str, str]]],
) -> None:
    events, units = one_project
    table_shards, index_shards = _list_shards(units, "p1"), _day_shards(units, events)

    for shards in (table_shards, [s for s in index_shards if s]):
        assert len(shards) == layout.EVENT_LIST_SHARDS
        assert max(shards) / mean(shards) < 1.15


def test_a_burst_of_many_projects_with_their_notifications_keeps_every_partition_well_under_the_limit(
    many_projects: tuple[list[Event], Counter[tuple[str, str]]],
) -> None:
    events, units = many_projects
    index_shards = [s for s in _day_shards(units, events) if s]

    assert _hottest(units) < HEADROOM * PARTITION_WRITE_LIMIT
    assert len(index_shards) == layout.EVENT_LIST_SHARDS
    assert max(index_shards) / mean(index_shards) < 1.15


def test_the_unsharded_layout_fails_the_same_check(
    one_project: tuple[list[Event], Counter[tuple[str, str]]],
) -> None:
    events, _ = one_project

    units = _write_units(_legacy_burst(events).items)

    assert units[("gsi1", layout.legacy_project_events("p1"))] == BURST
    assert _hottest(units) > PARTITION_WRITE_LIMIT
