"""Events lists: sharded list entries read back merged, newest first, a page at a time, together
with the legacy entries written before sharding."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from herald.dal import events as events_module
from herald.dal import layout
from herald.dal.codec import InvalidCursorError, pack_cursor
from herald.domain.models import Event, NotificationStatus
from herald.logic.services import Services
from herald.names import TABLE_TTL_ATTRIBUTE
from tests.unit.builders import ANALYSIS
from tests.unit.dal.support import event as _event

DAY = 86400.0


def _at(t: float, project: str = "p1", code: str = "ICA_EXEC_002") -> Event:
    return _event(project=project, code=code).model_copy(update={"createdAt": t})


def _stored(services: Services, events: list[Event]) -> list[Event]:
    """Stored in a shuffled order: the lists' order must come from the keys, not the writes."""
    for event in random.Random(7).sample(events, len(events)):
        services.events.put_if_new(event)
    return events


def _listed(services: Services, project: str | None = "p1", limit: int = 50, **filters: Any) -> list[Event]:
    return services.events.list_page(project, limit, None, now=time.time(), **filters).items


def _every_page(services: Services, project: str | None, limit: int, **filters: Any) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = services.events.list_page(project, limit, cursor, now=time.time(), **filters)
        pages.append([e.id for e in page.items])
        cursor = page.cursor
        if cursor is None:
            return pages


def _newest_first(events: list[Event]) -> list[str]:
    return [e.id for e in sorted(events, key=lambda e: e.createdAt, reverse=True)]


def _list_entry(event: Event) -> dict[str, Any]:
    return layout.event_list_entry(event.id, event.projectId, event.createdAt)


def _store_listed_in_the_legacy_layout(services: Services, event: Event) -> None:
    """An event as Herald stored it before sharding: its list entry (EVENT#{id}, LISTING) in gsi1
    (its project) and in the unsharded gsi2 day bucket."""
    services.events.put_if_new(event)
    services.table.delete(_list_entry(event))
    services.table.put(
        {
            **layout.legacy_event_listing(event.id),
            "eventCode": event.eventCode,
            **layout.legacy_event_listing_index(event.id, event.projectId, event.createdAt),
            TABLE_TTL_ATTRIBUTE: services.table.expires_at(event.createdAt),
        }
    )


def _store_as_before_list_entries(services: Services, event: Event) -> None:
    """An event as Herald stored it before list entries: the index keys on the event item itself."""
    services.events.put_if_new(event)
    services.table.delete(_list_entry(event))
    item = services.table.get(layout.event(event.id), consistent=True)
    assert item is not None
    item.update(layout.legacy_event_listing_index(event.id, event.projectId, event.createdAt))
    services.table.put(item)


@pytest.fixture
def spread(services: Services) -> list[Event]:
    """30 events of p1, a minute apart, whose list entries fall in most of the shards."""
    base = time.time() - 3600
    events = _stored(services, [_at(base + 60 * i) for i in range(30)])
    assert len({layout.event_list_shard(e.id) for e in events}) >= 10
    return events


def test_a_list_entry_is_in_its_projects_shard_and_its_days_shard_of_the_same_number(
    services: Services,
) -> None:
    event = _event()
    services.events.put_if_new(event)

    entry = services.table.get(_list_entry(event))

    shard = layout.event_list_shard(event.id)
    assert entry is not None and entry["eventCode"] == event.eventCode
    assert entry["pk"] == layout.project_events(event.projectId, shard)
    assert entry["gsi2pk"] == layout.day_events(layout.day(event.createdAt), shard)


def test_an_events_shard_is_a_stable_hash_of_its_id_within_the_configured_count() -> None:
    ids = [f"e{n}" for n in range(2000)]

    shards = [layout.event_list_shard(i) for i in ids]

    assert shards == [layout.event_list_shard(i) for i in ids]
    assert set(shards) == set(layout.event_list_shards())
    assert len(layout.event_list_shards()) == layout.EVENT_LIST_SHARDS


def test_a_listed_event_is_the_stored_event_with_its_payload_and_status(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)
    services.events.mark_routed(event.id)

    [listed] = _listed(services)

    assert listed == services.events.get(event.id, consistent=True)
    assert listed.payload == ANALYSIS and listed.status == NotificationStatus.SUCCESS


def test_a_projects_events_are_listed_newest_first_across_its_shards(
    services: Services, spread: list[Event]
) -> None:
    assert [e.id for e in _listed(services)] == _newest_first(spread)


def test_every_projects_events_are_listed_newest_first_for_admins(services: Services) -> None:
    base = time.time() - 3600
    events = _stored(services, [_at(base + 60 * i, project=f"p{i % 3}") for i in range(20)])

    assert [e.id for e in _listed(services, None)] == _newest_first(events)


def test_the_admin_list_goes_back_day_by_day(services: Services) -> None:
    now = time.time()
    events = _stored(
        services, [_at(now - d * DAY - 60 * i, project=f"p{i}") for d in (0, 1, 3) for i in range(3)]
    )

    assert [e.id for e in _listed(services, None)] == _newest_first(events)


@pytest.mark.parametrize("limit", [1, 3, 16, 29])
def test_pages_of_a_projects_list_return_every_event_once_in_order(
    services: Services, spread: list[Event], limit: int
) -> None:
    pages = _every_page(services, "p1", limit)

    assert [i for page in pages for i in page] == _newest_first(spread)
    assert all(len(page) <= limit for page in pages)


@pytest.mark.parametrize("limit", [1, 5])
def test_pages_of_the_admin_list_return_every_event_once_in_order_across_days(
    services: Services, limit: int
) -> None:
    now = time.time()
    events = _stored(
        services, [_at(now - d * DAY - 60 * i, project=f"p{i}") for d in (0, 2) for i in range(8)]
    )

    pages = _every_page(services, None, limit)

    assert [i for page in pages for i in page] == _newest_first(events)


def test_since_and_until_bound_a_list_across_shards(services: Services, spread: list[Event]) -> None:
    since, until = spread[5].createdAt, spread[20].createdAt

    listed = _listed(services, since=since, until=until)
    listed_by_admin = _listed(services, None, since=since, until=until)

    assert [e.id for e in listed] == _newest_first(spread[5:21])
    assert [e.id for e in listed_by_admin] == _newest_first(spread[5:21])


def test_lists_filter_by_code(services: Services) -> None:
    analysis, other = _stored(services, [_event(), _event(code="ICA_EXEC_001")])

    assert [e.id for e in _listed(services, event_code="ICA_EXEC_001")] == [other.id]
    assert [e.id for e in _listed(services, None, event_code="ICA_EXEC_002")] == [analysis.id]


def test_lists_filter_by_status(services: Services) -> None:
    succeeded, pending = _stored(services, [_event(), _event()])
    services.events.mark_routed(succeeded.id)

    assert [e.id for e in _listed(services, status=NotificationStatus.SUCCESS)] == [succeeded.id]
    assert [e.id for e in _listed(services, None, status=NotificationStatus.PENDING)] == [pending.id]


def test_pages_of_a_filtered_list_return_every_match_once(services: Services, spread: list[Event]) -> None:
    matching = spread[::4]
    for event in matching:
        services.events.mark_routed(event.id)

    pages = _every_page(services, "p1", 2, status=NotificationStatus.SUCCESS)

    assert [i for page in pages for i in page] == _newest_first(matching)


def test_a_filter_matching_nothing_reads_a_bounded_amount_per_page(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 30 events in one shard, and a budget of one round of queries and two more: reading them
    # all takes more than one page.
    base = time.time() - 3600
    one_shard = [n for n in range(10_000) if layout.event_list_shard(f"e{n}") == "00"][:30]
    _stored(services, [_at(base + i).model_copy(update={"id": f"e{n}"}) for i, n in enumerate(one_shard)])
    monkeypatch.setattr(events_module, "LIST_QUERY_BUDGET", layout.EVENT_LIST_SHARDS + 3)
    monkeypatch.setattr(events_module, "LIST_FIRST_CHUNK", 1)
    queries: list[int] = []
    services.table.ddb.meta.events.register("before-call.dynamodb.Query", lambda **_: queries.append(1))

    per_page, cursor, found = [], None, []
    while True:
        before = len(queries)
        page = services.events.list_page("p1", 5, cursor, now=time.time(), status=NotificationStatus.FAILED)
        per_page.append(len(queries) - before)
        found += page.items
        cursor = page.cursor
        if cursor is None:
            break

    assert found == [] and len(per_page) > 1
    assert max(per_page) == layout.EVENT_LIST_SHARDS + 3


@pytest.mark.parametrize("project", ["p1", None])
def test_a_status_filter_matching_nothing_examines_a_bounded_number_of_entries_per_page_each_once(
    services: Services, spread: list[Event], monkeypatch: pytest.MonkeyPatch, project: str | None
) -> None:
    monkeypatch.setattr(events_module, "LIST_MAX_ENTRIES", 7)
    fetched: list[int] = []
    services.table.ddb.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem",
        lambda params, **_: fetched.append(sum(len(t["Keys"]) for t in params["RequestItems"].values())),
    )

    per_page, cursor = [], None
    while True:
        before = sum(fetched)
        page = services.events.list_page(
            project, 5, cursor, now=time.time(), status=NotificationStatus.FAILED
        )
        per_page.append(sum(fetched) - before)
        assert page.items == []
        cursor = page.cursor
        if cursor is None:
            break

    assert max(per_page) == 7 and sum(per_page) == len(spread)


def test_a_list_entry_whose_event_is_missing_is_skipped(services: Services) -> None:
    kept, lost = _stored(services, [_event(), _event()])
    services.table.delete(layout.event(lost.id))

    assert [e.id for e in _listed(services)] == [kept.id]


def test_a_repost_adds_no_second_list_entry(services: Services) -> None:
    first = _event()
    services.events.put_if_new(first)
    again = first.model_copy(update={"createdAt": first.createdAt + 60})

    stored, created = services.events.put_if_new(again)

    shard = layout.project_events(first.projectId, layout.event_list_shard(first.id))
    entries = services.table.partition_all(shard)
    assert (stored, created) == (first, False)
    assert [e["sk"] for e in entries] == [layout.event_list_sort_key(first.id, first.createdAt)]
    assert [e.id for e in _listed(services)] == [first.id]


def test_a_list_entry_lost_between_the_two_writes_is_repaired_by_a_repost(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)
    services.table.delete(_list_entry(event))
    unlisted = _listed(services)

    _, created = services.events.put_if_new(event.model_copy(update={"createdAt": event.createdAt + 5}))

    assert unlisted == [] and not created
    assert [(e.id, e.createdAt) for e in _listed(services)] == [(event.id, event.createdAt)]


def test_legacy_list_entries_are_listed_merged_with_sharded_ones(services: Services) -> None:
    base = time.time() - 3600
    events = [_at(base + 60 * i) for i in range(12)]
    for i, event in enumerate(events):
        if i % 3 == 0:
            _store_listed_in_the_legacy_layout(services, event)
        elif i % 3 == 1:
            _store_as_before_list_entries(services, event)
        else:
            services.events.put_if_new(event)

    assert [e.id for e in _listed(services)] == _newest_first(events)
    assert [e.id for e in _listed(services, None)] == _newest_first(events)
    assert [i for page in _every_page(services, "p1", 5) for i in page] == _newest_first(events)
    assert [i for page in _every_page(services, None, 5) for i in page] == _newest_first(events)


@pytest.mark.parametrize("store", [_store_listed_in_the_legacy_layout, _store_as_before_list_entries])
def test_a_legacy_listed_event_posted_again_is_listed_once(services: Services, store: Any) -> None:
    old, new = _at(time.time() - 120), _at(time.time() - 60)
    store(services, old)
    services.events.put_if_new(new)

    stored, created = services.events.put_if_new(old.model_copy(update={"createdAt": time.time()}))

    assert (stored.id, created) == (old.id, False)
    assert [e.id for e in _listed(services)] == [new.id, old.id]
    assert [e.id for e in _listed(services, None)] == [new.id, old.id]
    assert [i for page in _every_page(services, "p1", 1) for i in page] == [new.id, old.id]


def _cursor_of_page_one(services: Services, project: str | None) -> str:
    cursor = services.events.list_page(project, 1, None, now=time.time()).cursor
    assert cursor is not None
    return cursor


def _recent(now: float) -> str:
    return layout.event_list_sort_key("e", now - 1)


# Cursors, each made from the time of the request (xdist wants parameters that are the same in
# every worker).
@pytest.mark.parametrize(
    ("project", "cursor"),
    [
        ("p1", lambda now: "not a cursor"),
        ("p1", lambda now: pack_cursor({"k": {"pk": "EVENT#x", "sk": "LISTING"}})),
        ("p1", lambda now: pack_cursor({"p": "p1", "k": "~~ beyond every key"})),
        ("p1", lambda now: pack_cursor({"p": "p1", "k": 5})),
        ("p1", lambda now: pack_cursor({"d": layout.day(now)})),
        (None, lambda now: pack_cursor({"p": "p1", "k": _recent(now)})),
        (None, lambda now: pack_cursor({"d": "1999-12-31"})),
        (None, lambda now: pack_cursor({"k": _recent(now)})),
    ],
)
def test_a_cursor_that_is_not_of_this_list_is_refused(
    services: Services, spread: list[Event], project: str | None, cursor: Callable[[float], str]
) -> None:
    now = time.time()

    with pytest.raises(InvalidCursorError):
        services.events.list_page(project, 5, cursor(now), now=now)


def test_a_cursor_of_one_projects_list_is_refused_for_another(
    services: Services, spread: list[Event]
) -> None:
    cursor = _cursor_of_page_one(services, "p1")

    with pytest.raises(InvalidCursorError, match="does not belong"):
        services.events.list_page("p2", 5, cursor, now=time.time())
