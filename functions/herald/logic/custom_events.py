"""Custom events (ICA's "Custom Events"): a project's own event codes, posted and subscribed to.

Posting `{"code", "content"}` ingests an ordinary event with that code and `content` as its
payload, so subscriptions, filters, delivery and the events API treat it like any other; posting
the same code again simply sends another event through the same subscriptions. The content is the
client's, so the event comes in through herald.logic.accept, the entrance for external events. Each code a
project uses is recorded once (a small item per project and code) for the event catalog.
"""

from __future__ import annotations

from typing import Any

from herald.domain import clock
from herald.domain.models import CustomEventCode, Event
from herald.logic import accept
from herald.logic.services import Services

# Codes known to be recorded, per process: most posts repeat a code and need no write.
_known: set[tuple[str, str]] = set()
_KNOWN_MAX = 10_000


def record_code(services: Services, project_id: str, code: str) -> None:
    if (project_id, code) in _known:
        return
    if services.custom_codes.get(project_id, code) is None:
        services.custom_codes.put_if_new(
            CustomEventCode(projectId=project_id, code=code, createdAt=clock.utc_iso())
        )
    if len(_known) >= _KNOWN_MAX:
        _known.clear()
    _known.add((project_id, code))


def post(services: Services, project_id: str, code: str, content: dict[str, Any]) -> Event:
    """Record the code and ingest the event; raises accept's PayloadRefusedError."""
    event, _ = accept.accept_event(services, project_id, code, content, description=f"Custom event {code}")
    record_code(services, project_id, code)
    return event


def forget_known_codes() -> None:
    """Tests: drop the per-process memory of recorded codes."""
    _known.clear()
