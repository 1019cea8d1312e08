"""The collaborators a handler needs, built once per process from settings.

Handlers take an optional `Services` so tests can pass their own; by default the real ones are
built lazily on first use (never at import time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from herald.adapters.queues import Queues
from herald.adapters.secret_box import SecretBox
from herald.dal.store import Store
from herald.domain.settings import Settings, get_settings


@dataclass
class Services:
    settings: Settings
    store: Store
    queues: Queues
    secrets: SecretBox


def build_services(settings: Settings) -> Services:
    return Services(
        settings=settings,
        store=Store(settings.table_name, settings.retention_seconds),
        queues=Queues(settings.events_queue_url, settings.deliveries_queue_url),
        secrets=SecretBox(settings.secrets_key_id or None),
    )


@lru_cache(maxsize=1)
def get_services() -> Services:
    return build_services(get_settings())


def reset_services() -> None:
    get_services.cache_clear()
