"""The collaborators a handler needs, built once per process from settings.

Handlers take an optional `Services` so tests can pass their own; by default the real ones are
built lazily on first use (never at import time). Data access is one store per entity, all on
one `Table`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from herald.adapters.queues import Queues
from herald.adapters.secret_box import SecretBox
from herald.dal.apikeys import ApiKeyStore
from herald.dal.channel_health import HealthStore
from herald.dal.channel_stats import ChannelStats
from herald.dal.channels import ChannelStore
from herald.dal.codec import Table
from herald.dal.console_sessions import ConsoleStore
from herald.dal.custom_codes import CustomCodeStore
from herald.dal.events import EventStore
from herald.dal.inbound_webhooks import InboundWebhookStore
from herald.dal.notifications import NotificationStore
from herald.dal.subscriptions import SubscriptionStore
from herald.dal.transfers import TransferStore
from herald.domain.settings import Settings, get_settings


@dataclass
class Services:
    settings: Settings
    table: Table
    events: EventStore
    notifications: NotificationStore
    channels: ChannelStore
    channel_health: HealthStore
    channel_stats: ChannelStats
    subscriptions: SubscriptionStore
    custom_codes: CustomCodeStore
    inbound_webhooks: InboundWebhookStore
    api_keys: ApiKeyStore
    console: ConsoleStore
    transfers: TransferStore
    queues: Queues
    secrets: SecretBox


def build_services(settings: Settings) -> Services:
    table = Table(settings.table_name, settings.retention_seconds)
    events = EventStore(table)
    api_keys = ApiKeyStore(table)
    return Services(
        settings=settings,
        table=table,
        events=events,
        notifications=NotificationStore(table, events),
        channels=ChannelStore(table),
        channel_health=HealthStore(table),
        channel_stats=ChannelStats(table),
        subscriptions=SubscriptionStore(table),
        custom_codes=CustomCodeStore(table),
        inbound_webhooks=InboundWebhookStore(table),
        api_keys=api_keys,
        console=ConsoleStore(table, api_keys),
        transfers=TransferStore(table),
        queues=Queues(settings.events_queue_url, settings.deliveries_queue_url),
        secrets=SecretBox(settings.secrets_key_id or None),
    )


@lru_cache(maxsize=1)
def get_services() -> Services:
    return build_services(get_settings())


def reset_services() -> None:
    get_services.cache_clear()
