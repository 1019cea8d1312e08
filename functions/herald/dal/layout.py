"""The key layout of Herald's one table: every partition, sort and index key spelled here only.

One table, overloaded keys (attribute names and indexes: the schema in `herald.names`).

Items (pk, sk; then the index entries):
- channel: CHANNEL#{id}, CHANNEL; gsi2 CHANNELS / {createdAt}#{id}
- channel health: CHANNEL#{id}, HEALTH; its rate-limit windows CHANNEL#{id}, RATE#{epoch second};
  its attempt counters CHANNEL#{id}, STATS#{epoch minute, 10 digits}
- subscription: PROJECT#{p}, SUBSCRIPTION#{id}; gsi1 PROJECT#{p}#CODE#{code} / {id};
  gsi2 CHANNEL#{c}#SUBSCRIPTIONS / {id}
- custom event code: PROJECT#{p}, CUSTOMCODE#{code}
- event: EVENT#{id}, EVENT (no index keys: its updates are one table write; the payload is
  zlib-compressed JSON, a Binary attribute, or JSON text when that is smaller or older)
- event list entry (its code, no payload), in the project's list shard:
  PROJECT#{p}#EVENTS#{shard}, {time}#{id}; gsi2 EVENTS#{yyyy-mm-dd}#{shard} / {time}#{id}
  (every project's events of one UTC day, the admin list). The shard is a stable hash of the
  event id (`event_list_shard`), so one project's ingest spreads over EVENT_LIST_SHARDS table
  partitions and a day's over as many index partitions; lists read the shards back merged.
- legacy list entries, written before the sharded ones and read until they expire (TTL, the
  retention period): EVENT#{id}, LISTING; gsi1 PROJECT#{p}#EVENTS / {time}#{id}; gsi2
  EVENTS#{yyyy-mm-dd} / {time}#{id}. Events stored before any list entry existed carry these index
  keys on the event item itself. Each list reads its legacy partition as one more merge source.
- unqueued event marker: EVENT#{id}, UNQUEUED; gsi2 UNQUEUED#EVENTS / {time}#{id} (only while an
  event that could not be queued for routing waits for the sweeper)
- notification: EVENT#{eventId}, NOTIFICATION#{subId}; gsi2 SUBSCRIPTION#{s}#OPEN / {createdAt}#{id}
  (only while not delivered)
- inbound webhook (a project's secret for a platform's signed webhooks): PROJECT#{p}, INBOUND#{id}
- api key: APIKEY#{sha256 of the key}, APIKEY; gsi1 APIKEY#ID#{keyId} / APIKEY;
  gsi2 APIKEYS / {createdAt}#{keyId}
- console link: CONSOLELINK#{sha256}, LINK; console session: CONSOLESESSION#{sha256}, SESSION
- data transfer: TRANSFER#{project}#{id}, TRANSFER; while active,
  gsi1 TRANSFERS#ACTIVE / {lastProgressAt}#{project}#{id}

An event and its notifications share a partition, so one query reads an event with every
delivery and attempt. Both indexes project ALL: an item with index keys is copied, and every
write to it rewritten, into each index, which is why the event item (payload, status) has none
and lists fetch the events behind their small list entries (BatchGetItem). A list entry is one
table item with one index entry: 2 write units per event (the unsharded entries had two index
entries, 3 units, all of one project's in one gsi1 partition). Notifications are
updated in place (attempts appended), and the subscription's "open" index entry exists only while
a notification is pending, retryable or failed, which is what the delete guard and the
failed-notifications list read.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from herald.names import (
    GSI1_PARTITION_KEY,
    GSI1_SORT_KEY,
    GSI2_PARTITION_KEY,
    GSI2_SORT_KEY,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
)

PK, SK = TABLE_PARTITION_KEY, TABLE_SORT_KEY
Key = dict[str, Any]
# The sort key upper bound for "everything after": above digits, letters and '#'.
HIGH = "~"


def _key(pk: str, sk: str) -> Key:
    return {PK: pk, SK: sk}


def gsi1(pk: str, sk: str) -> Key:
    return {GSI1_PARTITION_KEY: pk, GSI1_SORT_KEY: sk}


def gsi2(pk: str, sk: str) -> Key:
    return {GSI2_PARTITION_KEY: pk, GSI2_SORT_KEY: sk}


def sort_time(ts: float) -> str:
    """Epoch seconds as sort key text: fixed width, so that string order is time order."""
    return f"{ts:017.6f}"


def day(ts: float) -> str:
    """The UTC day (yyyy-mm-dd) of epoch seconds: the global events list's bucket."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


# --- channels -------------------------------------------------------------------------------------
CHANNELS = "CHANNELS"  # gsi2 partition: every channel, oldest first
CHANNEL_SK = "CHANNEL"  # a channel's own item (its health, rate and stats items sit beside it)
HEALTH_SK = "HEALTH"


def channel_partition(channel_id: str) -> str:
    return f"CHANNEL#{channel_id}"


def channel(channel_id: str) -> Key:
    return _key(channel_partition(channel_id), CHANNEL_SK)


def channel_index(channel_id: str, created_at: str) -> Key:
    return gsi2(CHANNELS, f"{created_at}#{channel_id}")


def channel_health(channel_id: str) -> Key:
    return _key(channel_partition(channel_id), HEALTH_SK)


def channel_rate(channel_id: str, second: int) -> Key:
    return _key(channel_partition(channel_id), f"RATE#{second}")


_STATS = "STATS#"


def channel_stats_sk(minute: int) -> str:
    return f"{_STATS}{minute:010d}"


def channel_stats(channel_id: str, minute: int) -> Key:
    return _key(channel_partition(channel_id), channel_stats_sk(minute))


def channel_stats_minute(sk: str) -> int:
    """The epoch minute a stats item counts (from its sort key)."""
    return int(sk.removeprefix(_STATS))


# --- projects: subscriptions, custom event codes, inbound webhooks -------------------------------
SUBSCRIPTION_PREFIX = "SUBSCRIPTION#"
CUSTOM_CODE_PREFIX = "CUSTOMCODE#"
INBOUND_PREFIX = "INBOUND#"


def project_partition(project_id: str) -> str:
    return f"PROJECT#{project_id}"


def subscription(project_id: str, subscription_id: str) -> Key:
    return _key(project_partition(project_id), f"{SUBSCRIPTION_PREFIX}{subscription_id}")


def subscriptions_by_code(project_id: str, event_code: str) -> str:
    """gsi1 partition: a project's subscriptions to one event code (or `*`)."""
    return f"PROJECT#{project_id}#CODE#{event_code}"


def subscriptions_on_channel(channel_id: str) -> str:
    """gsi2 partition: the subscriptions (of any project) delivering through a channel."""
    return f"CHANNEL#{channel_id}#SUBSCRIPTIONS"


def subscription_index(project_id: str, subscription_id: str, event_code: str, channel_id: str) -> Key:
    return {
        **gsi1(subscriptions_by_code(project_id, event_code), subscription_id),
        **gsi2(subscriptions_on_channel(channel_id), subscription_id),
    }


def custom_code(project_id: str, code: str) -> Key:
    return _key(project_partition(project_id), f"{CUSTOM_CODE_PREFIX}{code}")


def inbound_webhook(project_id: str, webhook_id: str) -> Key:
    return _key(project_partition(project_id), f"{INBOUND_PREFIX}{webhook_id}")


# --- events and notifications ---------------------------------------------------------------------
# An event is its item in its partition (payload, status), plus one item per notification there,
# and a list entry in its project's list shard.
EVENT_SK = "EVENT"
# An event stored but not queued for routing: a marker item in its partition, listed in gsi2
# for the scheduled function's sweeper until it is queued.
UNQUEUED_SK = "UNQUEUED"
UNQUEUED_EVENTS = "UNQUEUED#EVENTS"
NOTIFICATION_PREFIX = "NOTIFICATION#"
_EVENT = "EVENT#"

# How many partitions one project's list entries (table) and one day's (gsi2) are spread over.
# DynamoDB serves at most 1,000 write units a second per partition, and a list entry (< 1 KB) is
# one unit in the table and one in gsi2: 10,000 events/s of one project (EventBridge's PutEvents
# quota) put 10,000 / 16 = 625 units/s on each shard, and 10,000/s of all projects together as
# many on each of the day's index shards, under the limit with room for the hash's unevenness
# (tests/unit/dal/test_write_distribution.py). A list page queries every shard (plus the legacy
# partition), so more shards cost reads. Raise it, never lower it: readers query shards 0..N-1,
# so entries written with fewer shards stay readable, and entries in shards >= N would not.
EVENT_LIST_SHARDS = 16


def event_partition(event_id: str) -> str:
    return f"{_EVENT}{event_id}"


def event_id_of(partition: str) -> str:
    return partition.removeprefix(_EVENT)


def event(event_id: str) -> Key:
    return _key(event_partition(event_id), EVENT_SK)


def event_list_shard(event_id: str) -> str:
    """The list shard of an event: a hash of its id (stable across processes, unlike `hash`),
    two hex digits."""
    digest = hashlib.blake2b(event_id.encode(), digest_size=4).digest()
    return f"{int.from_bytes(digest, 'big') % EVENT_LIST_SHARDS:02x}"


def event_list_shards() -> list[str]:
    return [f"{n:02x}" for n in range(EVENT_LIST_SHARDS)]


def project_events(project_id: str, shard: str) -> str:
    """Table partition: one shard of a project's list entries, by time."""
    return f"PROJECT#{project_id}#EVENTS#{shard}"


def day_events(day_: str, shard: str) -> str:
    """gsi2 partition: one shard of every project's list entries of one UTC day, by time."""
    return f"EVENTS#{day_}#{shard}"


def event_list_sort_key(event_id: str, created_at: float) -> str:
    """Where an event sorts in every events list (new and legacy entries alike): time, then id."""
    return f"{sort_time(created_at)}#{event_id}"


def listed_event_id(sort_key: str) -> str:
    """The event an events-list sort key names."""
    return sort_key.partition("#")[2]


def event_list_entry(event_id: str, project_id: str, created_at: float) -> Key:
    """An event's list entry, in its project's list shard."""
    return _key(
        project_events(project_id, event_list_shard(event_id)), event_list_sort_key(event_id, created_at)
    )


def event_list_entry_index(event_id: str, created_at: float) -> Key:
    """The list entry's gsi2 keys: its day's shard (the same shard number as in the table)."""
    return gsi2(
        day_events(day(created_at), event_list_shard(event_id)), event_list_sort_key(event_id, created_at)
    )


# Legacy list entries (see the module docstring): read, never written.
LEGACY_LISTING_SK = "LISTING"


def legacy_event_listing(event_id: str) -> Key:
    return _key(event_partition(event_id), LEGACY_LISTING_SK)


def legacy_project_events(project_id: str) -> str:
    """gsi1 partition: a project's legacy list entries by time."""
    return f"PROJECT#{project_id}#EVENTS"


def legacy_day_events(day_: str) -> str:
    """gsi2 partition: every project's legacy list entries of one UTC day, by time."""
    return f"EVENTS#{day_}"


def legacy_event_listing_index(event_id: str, project_id: str, created_at: float) -> Key:
    when = event_list_sort_key(event_id, created_at)
    return {**gsi1(legacy_project_events(project_id), when), **gsi2(legacy_day_events(day(created_at)), when)}


def unqueued(event_id: str) -> Key:
    return _key(event_partition(event_id), UNQUEUED_SK)


def unqueued_index(event_id: str, at: float) -> Key:
    return gsi2(UNQUEUED_EVENTS, f"{sort_time(at)}#{event_id}")


def notification(event_id: str, subscription_id: str) -> Key:
    return _key(event_partition(event_id), f"{NOTIFICATION_PREFIX}{subscription_id}")


def open_notifications(subscription_id: str) -> str:
    """gsi2 partition: a subscription's notifications not (yet) delivered, by creation time."""
    return f"SUBSCRIPTION#{subscription_id}#OPEN"


def open_notification_index(subscription_id: str, notification_id: str, created_at: str) -> Key:
    return gsi2(open_notifications(subscription_id), f"{created_at}#{notification_id}")


# --- API keys and console sign-in -----------------------------------------------------------------
API_KEY_SK = "APIKEY"
API_KEYS = "APIKEYS"  # gsi2 partition: every key, oldest first


def api_key(key_hash: str) -> Key:
    return _key(f"APIKEY#{key_hash}", API_KEY_SK)


def api_key_by_id(key_id: str) -> str:
    """gsi1 partition: the one key with this id."""
    return f"APIKEY#ID#{key_id}"


def api_key_index(key_id: str, created_at: str) -> Key:
    return {**gsi1(api_key_by_id(key_id), API_KEY_SK), **gsi2(API_KEYS, f"{created_at}#{key_id}")}


def console_link(token_hash: str) -> Key:
    return _key(f"CONSOLELINK#{token_hash}", "LINK")


def console_session(token_hash: str) -> Key:
    return _key(f"CONSOLESESSION#{token_hash}", "SESSION")


# --- data transfers -------------------------------------------------------------------------------
ACTIVE_TRANSFERS = "TRANSFERS#ACTIVE"  # gsi1 partition: transfers in progress, by last progress


def transfer(project_id: str, transfer_id: str) -> Key:
    return _key(f"TRANSFER#{project_id}#{transfer_id}", "TRANSFER")


def active_transfer_index(project_id: str, transfer_id: str, last_progress_at: float) -> Key:
    return gsi1(ACTIVE_TRANSFERS, f"{sort_time(last_progress_at)}#{project_id}#{transfer_id}")
