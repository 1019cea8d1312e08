"""Everything from untrusted parties is data: payloads, descriptions, error excerpts, addresses and
filters carrying script are shown as text in every view, and nothing runs. Every console response
carries the Content-Security-Policy."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Watch, console_url, sign_in
from tests.conftest import running_receiver
from tests.e2e.conftest import Herald

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.browser]

IMG = '<img src=x onerror="window.__xss=1;alert(1)">'
SCRIPT = "<script>window.__xss=2;alert(2)</script>"
SVG = '<svg onload="window.__xss=3;alert(3)"></svg>'
HOSTILE = {
    "name": IMG,
    "note": SCRIPT,
    "link": "javascript:alert(4)",
    "nested": {"html": SVG, "list": [IMG, {"k": SCRIPT}]},
    IMG: "a key with markup",
}


def assert_inert(page: Any) -> None:
    """No handler ran, no element was made from the data; the data is on the page as text."""
    assert page.evaluate("window.__xss") is None
    injected = page.evaluate(
        """document.querySelectorAll('img[src="x"], svg[onload], script:not([src]), [onerror], [onload]').length"""
    )
    assert injected == 0


def test_script_bearing_data_is_shown_as_text_everywhere(page: Any, herald: Herald, watch: Watch) -> None:
    project = "xss-project"
    with running_receiver() as receiver:
        receiver.statuses = [500, 500, 500]
        receiver.failure_body = f"<html><body>{SCRIPT}{IMG}</body></html>".encode()
        hostile_url = receiver.url + "?q=%3Cscript%3Ealert(5)%3C/script%3E&x=<img src=x onerror=alert(6)>"
        status, ch = herald.call(
            "POST",
            "/api/notificationChannels",
            {"type": "HTTP", "address": hostile_url, "projects": [project]},
        )
        assert status == 201, ch
        status, sub = herald.call(
            "POST",
            f"/api/projects/{project}/notificationSubscriptions",
            {
                "eventCode": "ICA_EXEC_002",
                "notificationChannelId": ch["id"],
                "filterExpression": f"[?($.name == '{IMG}')]",
            },
        )
        assert status == 201, sub
        status, posted = herald.call(
            "POST",
            f"/api/projects/{project}/events",
            {"eventCode": "ICA_EXEC_002", "description": SCRIPT, "payload": HOSTILE},
        )
        assert status == 202, posted
        herald.event_when(posted["id"], "failed")

        sign_in(page, herald)
        views = [
            (f"#/p/{project}/notifications", IMG),  # the filter
            (f"#/p/{project}/notifications/{sub['id']}", IMG),
            (f"#/p/{project}/notifications/{sub['id']}/failed", "HTTP 500"),
            (f"#/p/{project}/events", SCRIPT),  # the description
            (
                f"#/p/{project}/events/{posted['id']}",
                "window.__xss=3;alert(3)",
            ),  # the payload (as JSON), the excerpt
            ("#/channels", "alert(5)"),
            (f"#/channels/{ch['id']}", "alert(6)"),
        ]
        for fragment, text in views:
            page.goto(console_url(herald, fragment))
            page.get_by_text(text, exact=False).first.wait_for()
            if fragment.endswith("/failed"):
                page.get_by_role("button", name=re.compile("3 attempts")).click()
                page.locator("pre.excerpt").first.wait_for()
                assert SCRIPT in page.locator("pre.excerpt").first.inner_text()
            assert_inert(page)
        # The payload is the JSON text of the data, markup included.
        page.goto(console_url(herald, f"#/p/{project}/events/{posted['id']}"))
        payload = page.get_by_label("Event payload").inner_text()
        assert IMG.replace('"', '\\"') in payload and "javascript:alert(4)" in payload
        assert page.locator("a[href^='javascript']").count() == 0
        assert_inert(page)
    assert watch.dialogs == []


def test_every_console_response_carries_the_csp(page: Any, herald: Herald, watch: Watch) -> None:
    sign_in(page, herald)
    page.goto(console_url(herald, "#/catalog"))
    page.get_by_role("heading", name="Event catalog").wait_for()
    console_responses = [r for r in watch.responses if r.url.startswith(f"{herald.url}/console/")]
    assert len(console_responses) >= 3  # the page, its script and its stylesheet
    for response in console_responses:
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, response.url
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    missing = page.request.get(console_url(herald, "no-such-file.js"))
    assert missing.status == 404 and "frame-ancestors 'none'" in missing.headers["content-security-policy"]
    bare = page.request.get(f"{herald.url}/console", max_redirects=0)
    assert bare.status == 308 and "content-security-policy" in bare.headers
    # Nothing is fetched from another origin.
    assert all(r.url.startswith(herald.url) for r in watch.responses)
