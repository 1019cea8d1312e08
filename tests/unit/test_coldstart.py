"""frozen_imports: a handler's imports run without the cyclic collector, then are frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from herald.handlers.coldstart import frozen_imports


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()  # what a test froze goes back to the collector
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    gc.enable()
    with frozen_imports():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_what_the_block_made_is_frozen() -> None:
    gc.unfreeze()
    with frozen_imports():
        made = [[] for _ in range(10)]
    assert gc.get_freeze_count() >= len(made)


def test_a_failed_import_turns_the_collector_back_on_and_freezes_nothing() -> None:
    gc.enable()
    gc.unfreeze()
    with pytest.raises(ImportError), frozen_imports():
        raise ImportError("no module named nowhere")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    gc.disable()
    with frozen_imports():
        pass
    assert not gc.isenabled()
