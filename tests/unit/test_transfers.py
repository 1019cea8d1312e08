"""Stalled data transfers: ICA_DATA_025 once per stall, re-armed by progress, never when finished."""

from __future__ import annotations

import time

import pytest

from herald.domain import clock
from herald.logic import accept, routing, transfers
from herald.logic.services import Services


class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


def _report(services: Services, transfer: str, done: int, status: str = "IN_PROGRESS") -> None:
    payload = {"id": transfer, "bytesTransferred": done, "status": status}
    event, _ = accept.accept_event(services, "p1", "HERALD_TRANSFER", payload)
    routing.route_event(services, event.id)


def _codes(services: Services) -> list[str]:
    return sorted(e.eventCode for e in services.events.list_page("p1", 100, None, now=clock.now()).items)


def test_transfer_without_progress_for_two_minutes_is_reported_stalled_once(
    services: Services, now: Clock
) -> None:
    _report(services, "trf.1", 100)
    now.t += 119
    assert transfers.report_stalled(services) == 0
    now.t += 2
    assert transfers.report_stalled(services) == 1
    now.t += 600
    assert transfers.report_stalled(services) == 0
    assert _codes(services).count("ICA_DATA_025") == 1


def test_stalled_event_carries_the_transfer(services: Services, now: Clock) -> None:
    _report(services, "trf.1", 100)
    now.t += 121
    transfers.report_stalled(services)
    [stalled] = [
        e for e in services.events.list_page("p1", 10, None, now=now.t).items if e.eventCode == "ICA_DATA_025"
    ]
    assert stalled.payload == {"id": "trf.1", "bytesTransferred": 100, "status": "IN_PROGRESS"}


def test_a_report_with_the_same_byte_count_is_not_progress(services: Services, now: Clock) -> None:
    _report(services, "trf.1", 100)
    now.t += 100
    _report(services, "trf.1", 100)
    now.t += 21
    assert transfers.report_stalled(services) == 1


def test_progress_rearms_the_stall(services: Services, now: Clock) -> None:
    _report(services, "trf.1", 100)
    now.t += 121
    assert transfers.report_stalled(services) == 1
    _report(services, "trf.1", 200)
    now.t += 60
    assert transfers.report_stalled(services) == 0
    now.t += 61
    assert transfers.report_stalled(services) == 1
    assert _codes(services).count("ICA_DATA_025") == 2


def test_finished_transfer_is_never_stalled_and_success_emits_ica_data_002(
    services: Services, now: Clock
) -> None:
    _report(services, "trf.1", 100)
    _report(services, "trf.1", 500, status="SUCCEEDED")
    now.t += 3600
    assert transfers.report_stalled(services) == 0
    assert _codes(services).count("ICA_DATA_002") == 1


def test_failed_transfer_is_not_stalled_and_not_a_success(services: Services, now: Clock) -> None:
    _report(services, "trf.1", 100)
    _report(services, "trf.1", 100, status="FAILED")
    now.t += 3600
    assert transfers.report_stalled(services) == 0
    assert "ICA_DATA_002" not in _codes(services)


def test_transfers_of_other_projects_are_tracked_apart(services: Services, now: Clock) -> None:
    _report(services, "trf.1", 100)
    event, _ = accept.accept_event(services, "p2", "HERALD_TRANSFER", {"id": "trf.1", "bytesTransferred": 5})
    routing.route_event(services, event.id)
    now.t += 121
    assert transfers.report_stalled(services) == 2
