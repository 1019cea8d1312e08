"""The event store's layout: what each item holds, and that lists read old and new layouts alike."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import Binary

from herald.dal.store import PK, SK, _sort_time, _to_ddb
from herald.domain import clock, ids
from herald.domain.models import Event, NotificationStatus
from herald.logic.services import Services
from herald.names import GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2_PARTITION_KEY, GSI2_SORT_KEY
from tests.unit.builders import ANALYSIS

INDEX_KEYS = {GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2_PARTITION_KEY, GSI2_SORT_KEY}


def _event(project: str = "p1", code: str = "ICA_EXEC_002", **extra: Any) -> Event:
    now = clock.now()
    return Event(
        id=ids.new_id(),
        projectId=project,
        eventCode=code,
        description=code,
        payload=ANALYSIS,
        correlationId=ids.new_id(),
        timestamp=clock.utc_iso(now),
        createdAt=now,
        **extra,
    )


def _listed(services: Services, project: str | None = "p1", **filters: Any) -> list[Event]:
    return services.store.list_events(project, 50, None, now=time.time(), **filters).items


def _store_as_before_list_entries(services: Services, event: Event) -> None:
    """An event item as Herald wrote it before list entries: the index keys on the event itself."""
    store = services.store
    item = store._event_item(event)
    when = _sort_time(event.createdAt)
    item.update(
        {
            GSI1_PARTITION_KEY: f"PROJECT#{event.projectId}#EVENTS",
            GSI1_SORT_KEY: f"{when}#{event.id}",
            GSI2_PARTITION_KEY: f"EVENTS#{time.strftime('%Y-%m-%d', time.gmtime(event.createdAt))}",
            GSI2_SORT_KEY: f"{when}#{event.id}",
        }
    )
    store.ddb.put_item(TableName=store.table, Item=_to_ddb(item))


def test_the_event_item_has_no_index_keys_and_its_list_entry_no_payload(services: Services) -> None:
    event = _event()
    services.store.put_event_if_new(event)

    stored = services.store._get(f"EVENT#{event.id}", "EVENT")
    entry = services.store._get(f"EVENT#{event.id}", "LISTING")

    assert stored is not None and entry is not None
    assert not INDEX_KEYS & set(stored)
    assert set(entry) >= INDEX_KEYS and "payload" not in entry


def test_a_listed_event_is_the_stored_event_with_its_payload_and_status(services: Services) -> None:
    event = _event()
    services.store.put_event_if_new(event)
    services.store.mark_routed(event.id)
    services.store.refresh_event_status(event.id)

    [listed] = _listed(services)

    assert listed == services.store.get_event(event.id, consistent=True)
    assert listed.payload == ANALYSIS and listed.status == NotificationStatus.SUCCESS


def test_every_project_lists_through_list_entries_for_admins(services: Services) -> None:
    a, b = _event(project="pa"), _event(project="pb")
    for event in (a, b):
        services.store.put_event_if_new(event)

    assert [e.id for e in _listed(services, None)] == [b.id, a.id]


def test_lists_filter_by_code_and_by_status(services: Services) -> None:
    succeeded, failed = _event(), _event(code="ICA_EXEC_001")
    for event in (succeeded, failed):
        services.store.put_event_if_new(event)
    services.store.mark_routed(succeeded.id)
    services.store.refresh_event_status(succeeded.id)

    assert [e.id for e in _listed(services, event_code="ICA_EXEC_001")] == [failed.id]
    assert [e.id for e in _listed(services, status=NotificationStatus.SUCCESS)] == [succeeded.id]
    assert [e.id for e in _listed(services, status=NotificationStatus.PENDING)] == [failed.id]


def test_pages_of_list_entries_continue_where_they_stopped(services: Services) -> None:
    events = [_event() for _ in range(25)]
    for event in events:
        services.store.put_event_if_new(event)

    seen, cursor = [], None
    while True:
        page = services.store.list_events("p1", 7, cursor, now=time.time())
        seen += [e.id for e in page.items]
        cursor = page.cursor
        if cursor is None:
            break

    assert seen == [e.id for e in reversed(events)]


def test_a_list_entry_whose_event_is_missing_is_skipped(services: Services) -> None:
    kept, lost = _event(), _event()
    for event in (kept, lost):
        services.store.put_event_if_new(event)
    services.store._delete(f"EVENT#{lost.id}", "EVENT")

    assert [e.id for e in _listed(services)] == [kept.id]


def test_events_stored_before_list_entries_are_listed_once_even_when_posted_again(
    services: Services,
) -> None:
    old, new = _event(), _event()
    _store_as_before_list_entries(services, old)
    services.store.put_event_if_new(new)

    stored, created = services.store.put_event_if_new(old)

    assert (stored, created) == (old, False)
    assert [e.id for e in _listed(services)] == [new.id, old.id]
    assert services.store._get(f"EVENT#{old.id}", "LISTING") is None


def test_the_same_event_stored_twice_keeps_its_first_list_position(services: Services) -> None:
    first = _event()
    services.store.put_event_if_new(first)
    again = first.model_copy(update={"createdAt": first.createdAt + 60})

    _, created = services.store.put_event_if_new(again)

    entries = services.store.ddb.query(
        TableName=services.store.table,
        KeyConditionExpression=f"{PK} = :pk AND {SK} = :sk",
        ExpressionAttributeValues=_to_ddb({":pk": f"EVENT#{first.id}", ":sk": "LISTING"}),
    )["Items"]
    assert not created
    assert [e[GSI1_SORT_KEY]["S"] for e in entries] == [f"{_sort_time(first.createdAt)}#{first.id}"]


def test_a_payload_is_stored_compressed_and_reads_back_exactly(services: Services) -> None:
    payload = {**ANALYSIS, "big": 12345678901234567890, "ratio": 0.1, "text": "é" * 200}
    event = _event().model_copy(update={"payload": payload})
    services.store.put_event_if_new(event)

    stored = services.store._get(f"EVENT#{event.id}", "EVENT")

    assert stored is not None and isinstance(stored["payload"], Binary)
    assert services.store.get_event(event.id, consistent=True).payload == payload  # type: ignore[union-attr]


def test_a_payload_too_small_to_gain_is_kept_as_text(services: Services) -> None:
    event = _event().model_copy(update={"payload": {"id": "f"}})
    services.store.put_event_if_new(event)

    stored = services.store._get(f"EVENT#{event.id}", "EVENT")

    assert stored is not None and stored["payload"] == '{"id":"f"}'


def test_an_event_stored_with_its_payload_as_text_still_reads(services: Services) -> None:
    event = _event()
    item = services.store._event_item(event)
    item["payload"] = json.dumps(ANALYSIS)
    services.store.ddb.put_item(TableName=services.store.table, Item=_to_ddb(item))

    assert services.store.get_event(event.id, consistent=True) == event


def test_the_analysis_payload_icas_documentation_shows_fits_an_event_item_in_1_kb(
    services: Services,
) -> None:
    payload = json.loads((Path(__file__).parent / "filters" / "seed_analysis.json").read_text())
    event = _event(status=NotificationStatus.SUCCESS, routed=True).model_copy(update={"payload": payload})

    item = _to_ddb(services.store._event_item(event))

    assert len(json.dumps(payload, separators=(",", ":"))) > 1400
    assert _item_bytes(item) <= 1024


def _item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: names plus values (numbers: about one byte per two digits)."""
    size = 0
    for name, value in item.items():
        ((kind, raw),) = value.items()
        size += len(name.encode())
        if kind == "S":
            size += len(raw.encode())
        elif kind == "B":
            size += len(raw)
        elif kind == "N":
            size += len(raw.replace(".", "").replace("-", "")) // 2 + 1
        else:
            size += 1
    return size
