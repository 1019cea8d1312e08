"""Derived events: a final analysis status change also emits the specific analysis event, once."""

from __future__ import annotations

import time

import pytest

from herald.logic import accept
from herald.logic.services import Services


def _events(services: Services, project: str) -> list:
    return services.events.list_page(project, 50, None, now=time.time()).items


@pytest.mark.parametrize(
    ("status", "derived_code"),
    [
        ("SUCCEEDED", "ICA_EXEC_002"),
        ("FAILED", "ICA_EXEC_001"),
        ("FAILED_FINAL", "ICA_EXEC_001"),
        ("ABORTED", "ICA_EXEC_027"),
    ],
)
def test_final_status_change_derives_the_specific_event(
    services: Services, status: str, derived_code: str
) -> None:
    original, _ = accept.accept_event(services, "p1", "ICA_EXEC_028", {"id": "a1", "status": status})
    derived = [e for e in _events(services, "p1") if e.eventCode == derived_code]
    assert len(derived) == 1
    assert derived[0].derivedFrom == original.id
    assert derived[0].id != original.id
    assert derived[0].payload == {"id": "a1", "status": status}


@pytest.mark.parametrize("status", ["REQUESTED", "QUEUED", "IN_PROGRESS", "GENERATING_OUTPUTS"])
def test_intermediate_status_change_derives_nothing(services: Services, status: str) -> None:
    accept.accept_event(services, "p1", "ICA_EXEC_028", {"id": "a1", "status": status})
    assert [e.eventCode for e in _events(services, "p1")] == ["ICA_EXEC_028"]


def test_redelivered_status_change_derives_once(services: Services) -> None:
    for _ in range(2):
        accept.accept_event(
            services, "p1", "ICA_EXEC_028", {"id": "a1", "status": "SUCCEEDED"}, client_id="c-1"
        )
    assert sorted(e.eventCode for e in _events(services, "p1")) == ["ICA_EXEC_002", "ICA_EXEC_028"]


def test_posted_specific_event_after_a_derived_one_is_the_same_event(services: Services) -> None:
    accept.accept_event(services, "p1", "ICA_EXEC_028", {"id": "a1", "status": "SUCCEEDED"})
    posted, created = accept.accept_event(
        services,
        "p1",
        "ICA_EXEC_002",
        {"id": "a1", "status": "SUCCEEDED", "timeModified": "later"},
        client_id="platform-own-id",
    )
    assert not created
    assert [e.eventCode for e in _events(services, "p1")].count("ICA_EXEC_002") == 1
    assert posted.derivedFrom is not None


def test_status_change_after_a_posted_specific_event_derives_no_duplicate(services: Services) -> None:
    accept.accept_event(services, "p1", "ICA_EXEC_002", {"id": "a1", "status": "SUCCEEDED"})
    accept.accept_event(services, "p1", "ICA_EXEC_028", {"id": "a1", "status": "SUCCEEDED"})
    assert sorted(e.eventCode for e in _events(services, "p1")) == ["ICA_EXEC_002", "ICA_EXEC_028"]


def test_another_analysis_is_another_fact(services: Services) -> None:
    accept.accept_event(services, "p1", "ICA_EXEC_002", {"id": "a1", "status": "SUCCEEDED"})
    _, created = accept.accept_event(services, "p1", "ICA_EXEC_002", {"id": "a2", "status": "SUCCEEDED"})
    assert created
