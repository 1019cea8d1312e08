"""The key layout: spelled in `herald.dal.layout` alone, and its keys never collide."""

from __future__ import annotations

import re
from pathlib import Path

import herald
from herald.dal import layout

PACKAGE = Path(herald.__file__).parent
# A key prefix as the layout spells them: an upper-case word and '#' ("EVENT#", "CHANNEL#", ...).
KEY_PREFIX = re.compile(r"\b[A-Z]{3,}#")


def test_no_module_but_the_layout_spells_a_key() -> None:
    spelled = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "dal" / "layout.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if KEY_PREFIX.search(line)
    ]

    assert spelled == []


def test_items_of_different_entities_never_share_a_key() -> None:
    keys = [
        layout.channel("x"),
        layout.channel_health("x"),
        layout.channel_rate("x", 1),
        layout.channel_stats("x", 1),
        layout.subscription("x", "x"),
        layout.custom_code("x", "x"),
        layout.inbound_webhook("x", "x"),
        layout.event("x"),
        layout.event_list_entry("x", "x", 1.0),
        layout.legacy_event_listing("x"),
        layout.unqueued("x"),
        layout.notification("x", "x"),
        layout.api_key("x"),
        layout.console_link("x"),
        layout.console_session("x"),
        layout.transfer("x", "x"),
    ]

    assert len({tuple(sorted(k.items())) for k in keys}) == len(keys)
