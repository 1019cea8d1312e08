"""The console's flows in a real browser against `herald dev`: sign-in (key, one-time link),
subscriptions made through the forms, events and their attempts, failed deliveries reprocessed
from the Delivery failed tab, secret rotation, API keys; screenshots for docs/console/."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import console_url, shoot, sign_in, wait_until
from tests.conftest import running_receiver
from tests.e2e.conftest import Herald

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.browser]


def project_name(tag: str) -> str:
    return f"b-{tag}-{time.monotonic_ns() % 1_000_000}"


def create_http_subscription(
    page: Any, herald: Herald, project: str, url: str, code: str = "ICA_EXEC_002", filter_: str = ""
) -> str:
    """Through the +Create ICA event form; returns the new channel's secret."""
    page.goto(console_url(herald, f"#/p/{project}/notifications"))
    page.get_by_role("link", name="+ Create ICA event").click()
    page.get_by_label("Event").select_option(code)
    if filter_:
        page.get_by_label("Filter (optional)").fill(filter_)
        page.get_by_test_id("filter-ok").wait_for()
    page.get_by_label("Create a new channel").check()
    page.get_by_label("Delivery target").select_option("HTTP")
    page.get_by_label("Webhook URL").fill(url)
    page.get_by_role("button", name="Create subscription").click()
    page.get_by_role("heading", name="Subscription created").wait_for()
    return page.get_by_test_id("secret").inner_text()


def post_event(
    herald: Herald,
    project: str,
    payload: dict[str, Any],
    code: str = "ICA_EXEC_002",
    description: str = "Analysis success",
) -> str:
    status, body = herald.call(
        "POST",
        f"/api/projects/{project}/events",
        {"eventCode": code, "description": description, "payload": payload},
    )
    assert status == 202, body
    return body["id"]


# --- signing in ----------------------------------------------------------------------------------
def test_sign_in_with_a_key_keeps_no_key_in_the_browser(page: Any, herald: Herald) -> None:
    page.goto(console_url(herald))
    shoot(page, "sign-in")
    sign_in(page, herald)
    page.get_by_role("heading", name="Choose a project").wait_for()
    stored = page.evaluate("JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])")
    assert herald.key not in stored and herald.key not in page.url
    assert "hrlds_" in stored  # the session token, for this tab only
    assert page.evaluate("localStorage.length") == 0


def test_a_wrong_key_says_so(page: Any, herald: Herald) -> None:
    page.goto(console_url(herald))
    page.get_by_label("API key").fill("not-a-key")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="not valid").wait_for()


def test_sign_in_with_a_one_time_link_from_herald_console(page: Any, herald: Herald, browser: Any) -> None:
    project = project_name("link")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "herald.dev.cli",
            "console",
            "--project",
            project,
            "--url",
            herald.url,
            "--api-key",
            herald.key,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    link = result.stdout.strip()
    assert re.fullmatch(re.escape(herald.url) + r"/console/#link=hrldl_[\w-]+", link), link
    page.goto(link)
    page.get_by_role("heading", name=re.compile("Notifications")).wait_for()
    assert "link=" not in page.url and page.url.endswith(f"#/p/{project}/notifications")
    assert "hrldl_" not in page.evaluate("JSON.stringify(Object.entries(sessionStorage))")
    # The link works once.
    other = browser.new_context()
    try:
        again = other.new_page()
        again.goto(link)
        again.get_by_text("already used").wait_for()
    finally:
        other.close()


# --- subscriptions through the forms ---------------------------------------------------------------
def test_an_http_subscription_delivers_and_the_event_shows_its_attempts(page: Any, herald: Herald) -> None:
    project = project_name("http")
    with running_receiver() as receiver:
        sign_in(page, herald)
        secret = create_http_subscription(
            page, herald, project, receiver.url, filter_="[?($.status == 'SUCCEEDED')]"
        )
        assert secret.startswith("whsec_")
        shoot(page, "subscription-created")
        event_id = post_event(
            herald, project, {"id": "a1", "status": "SUCCEEDED", "pipeline": {"code": "CopyToolDev"}}
        )
        wait_until(lambda: receiver.requests, what="the delivery")
        page.get_by_role("link", name="Events").click()
        row = page.get_by_role("row").filter(has_text=event_id)
        wait_until(
            lambda: (
                page.get_by_role("button", name="Refresh").click(),
                row.filter(has_text="success").count(),
            )[1],
            what="success in the list",
        )
        shoot(page, "events")
        row.get_by_role("link").click()
        page.get_by_text("delivered · HTTP 200").wait_for()
        page.get_by_label("Event payload").filter(has_text='"CopyToolDev"').wait_for()
        shoot(page, "event", full_page=True)
        page.get_by_role("link", name="Notifications").first.click()
        page.get_by_role("row").filter(has_text="ICA_EXEC_002").filter(has_text="CopyToolDev").or_(
            page.get_by_role("row").filter(has_text="SUCCEEDED")
        ).first.wait_for()
        shoot(page, "notifications")


def test_an_sqs_subscription_shows_the_queue_policy(page: Any, herald: Herald) -> None:
    project = project_name("sqs")
    queue_url = herald.boto3("sqs").create_queue(QueueName=project)["QueueUrl"]
    sign_in(page, herald)
    page.goto(console_url(herald, f"#/p/{project}/notifications/new/ica"))
    page.get_by_label("Event").select_option("ICA_DATA_108")
    page.get_by_label("Create a new channel").check()
    page.get_by_label("Delivery target").select_option("SQS")
    page.get_by_label("SQS queue URL").fill(queue_url)
    policy = page.get_by_test_id("target-policy")
    policy.get_by_text("sqs:SendMessage").wait_for()
    assert f"arn:aws:sqs:us-east-1:123456789012:{project}" in policy.inner_text()
    assert policy.get_by_role("button", name="Copy policy").is_visible()
    shoot(page, "create-sqs-subscription", full_page=True)
    page.get_by_role("button", name="Create subscription").click()
    page.get_by_role("heading", name="Subscription created").wait_for()
    page.get_by_test_id("target-policy").get_by_text("sqs:SendMessage").wait_for()  # shown again, to copy


def test_an_invalid_filter_shows_the_caret_as_it_is_typed(page: Any, herald: Herald) -> None:
    sign_in(page, herald)
    page.goto(console_url(herald, f"#/p/{project_name('filter')}/notifications/new/ica"))
    page.get_by_label("Event").select_option("ICA_EXEC_002")
    page.get_by_label("Filter (optional)").fill("[?($.status == 'SUCCEEDED')")
    error = page.locator("#filter-error")
    error.wait_for()
    lines = error.inner_text().splitlines()
    assert lines[-2] == "[?($.status == 'SUCCEEDED')" and lines[-1].strip() == "^"
    shoot(page, "filter-caret")
    page.get_by_label("Filter (optional)").fill("[?($.status == 'SUCCEEDED')]")
    page.get_by_test_id("filter-ok").filter(has_text="matches the example payload").wait_for()
    assert not error.is_visible()


def test_a_custom_event_subscription_explains_the_code_rules(page: Any, herald: Herald) -> None:
    project = project_name("custom")
    with running_receiver() as receiver:
        sign_in(page, herald)
        page.goto(console_url(herald, f"#/p/{project}/notifications/new/custom"))
        page.get_by_label("Custom event code").fill("ICA_EXEC_002")
        page.get_by_text("is a system event code").wait_for()
        page.get_by_label("Custom event code").fill("QC_FAILED")
        page.get_by_label("Create a new channel").check()
        page.get_by_label("Webhook URL").fill(receiver.url)
        page.get_by_role("button", name="Create subscription").click()
        page.get_by_role("heading", name="Subscription created").wait_for()
        status, _ = herald.call(
            "POST",
            f"/api/projects/{project}/customEvents",
            {"code": "QC_FAILED", "content": {"metric": "Q30"}},
        )
        assert status == 204
        wait_until(lambda: receiver.requests, what="the custom event's delivery")


# --- failed deliveries ------------------------------------------------------------------------------
def test_failed_deliveries_are_reprocessed_then_the_subscription_deleted(page: Any, herald: Herald) -> None:
    project = project_name("failed")
    with running_receiver() as receiver:
        receiver.statuses = [500, 500, 500, 500, 500, 500]  # three attempts each for two events
        sign_in(page, herald)
        create_http_subscription(page, herald, project, receiver.url)
        first = post_event(herald, project, {"status": "SUCCEEDED", "n": 1})
        second = post_event(herald, project, {"status": "SUCCEEDED", "n": 2})
        herald.event_when(first, "failed")
        herald.event_when(second, "failed")
        page.goto(console_url(herald, f"#/p/{project}/notifications"))
        blocked = page.get_by_test_id("delete-blocked")
        blocked.filter(has_text="2 failed").wait_for()
        assert page.get_by_role("button", name="Delete").first.is_disabled()
        blocked.get_by_role("link", name=re.compile("Delivery failed")).click()
        page.get_by_role("tab", name=re.compile("Delivery failed")).wait_for()
        rows = page.get_by_role("row").filter(has_text="HTTP 500")
        wait_until(lambda: rows.count() == 2, what="two failed notifications")
        rows.first.get_by_role("button", name=re.compile("3 attempts")).click()
        page.locator("ol.timeline li.fail").first.wait_for()
        shoot(page, "delivery-failed", full_page=True)
        page.get_by_label("Select all on this page").check()
        page.get_by_role("button", name="Reprocess selected (2)").click()
        page.get_by_test_id("progress").filter(has_text="Reprocessed 2 of 2").wait_for()
        herald.event_when(first, "success")
        herald.event_when(second, "success")
        page.goto(console_url(herald, f"#/p/{project}/notifications"))
        delete = page.get_by_role("button", name="Delete", exact=True)

        def delete_available_after_reload() -> bool:
            # The button stays disabled until the page's counts have loaded: give each load time.
            page.reload()
            try:
                expect(delete).to_be_enabled(timeout=5_000)
            except AssertionError:
                return False
            return True

        wait_until(delete_available_after_reload, what="delete to become available")
        delete.click()
        page.get_by_role("button", name="Yes, delete it").click()
        page.get_by_text("No subscriptions yet").wait_for()


def test_reprocess_everything_since_a_time_reports_the_count(page: Any, herald: Herald) -> None:
    project = project_name("since")
    with running_receiver() as receiver:
        receiver.statuses = [500] * 3
        sign_in(page, herald)
        create_http_subscription(page, herald, project, receiver.url)
        herald.event_when(post_event(herald, project, {"status": "SUCCEEDED"}), "failed")
        sub = herald.call("GET", f"/api/projects/{project}/notificationSubscriptions")[1]["items"][0]
        page.goto(console_url(herald, f"#/p/{project}/notifications/{sub['id']}/failed"))
        page.get_by_role("row").filter(has_text="HTTP 500").wait_for()
        page.get_by_role("button", name="Reprocess all").click()
        page.get_by_test_id("progress").filter(has_text="Reprocessed 1 failed notification").wait_for()


# --- channels and keys ----------------------------------------------------------------------------------
def test_a_channel_page_charts_attempts_and_rotates_its_secret(page: Any, herald: Herald) -> None:
    project = project_name("chan")
    with running_receiver() as receiver:
        receiver.statuses = [500]
        sign_in(page, herald)
        old_secret = create_http_subscription(page, herald, project, receiver.url)
        event_id = post_event(herald, project, {"status": "SUCCEEDED"})
        herald.event_when(event_id, "success")
        page.goto(console_url(herald, "#/channels"))
        page.get_by_role("link", name=receiver.url).click()
        page.get_by_test_id("attempt-totals").filter(has_text="1 succeeded, 1 failed").wait_for()
        # uPlot draws its canvas in an effect, after the render that shows the totals.
        chart = page.locator("[data-testid=attempts-chart] canvas")
        chart.wait_for()
        assert chart.count() == 1
        shoot(page, "channel")
        page.get_by_role("button", name="Rotate secret").click()
        page.get_by_role("button", name="Yes, make a new secret").click()
        new_secret = page.get_by_test_id("secret").inner_text()
        assert new_secret.startswith("whsec_") and new_secret != old_secret
        page.get_by_text("For the next 24 hours every delivery is signed with both").wait_for()
        page.get_by_text("Previous secret", exact=True).wait_for()
        shoot(page, "channel-rotated")
        post_event(herald, project, {"status": "SUCCEEDED", "after": "rotation"})
        wait_until(lambda: len(receiver.requests) == 3, what="the delivery after rotation")


def test_keys_are_created_shown_once_and_revoked(page: Any, herald: Herald) -> None:
    sign_in(page, herald)
    page.get_by_role("link", name="Admin").click()
    page.get_by_label("Name").fill("browser-test-key")
    page.get_by_label("Projects").fill("demo, other")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("secret").inner_text()
    assert key.startswith("hrld_")
    assert herald.call("GET", "/api/projects/demo/notificationSubscriptions", key=key)[0] == 200
    row = page.get_by_role("row").filter(has_text="browser-test-key")
    row.wait_for()
    shoot(page, "admin")
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name=re.compile("Yes, revoke")).click()
    row.wait_for(state="detached")
    wait_until(
        lambda: herald.call("GET", "/api/projects/demo/notificationSubscriptions", key=key)[0] == 401,
        timeout=70,
        what="the revoked key to stop working",
    )


def test_the_catalog_lists_codes_with_example_payloads(page: Any, herald: Herald) -> None:
    sign_in(page, herald)
    page.get_by_role("link", name="Event catalog").click()
    row = page.get_by_role("row").filter(has_text="ICA_EXEC_002")
    row.get_by_role("button", name="Show example").click()
    page.get_by_label("Example payload of ICA_EXEC_002").filter(has_text="CopyToolDev").wait_for()
    shoot(page, "catalog")


def test_a_test_event_is_sent_from_the_subscription_page(page: Any, herald: Herald) -> None:
    project = project_name("test")
    with running_receiver() as receiver:
        sign_in(page, herald)
        create_http_subscription(page, herald, project, receiver.url)
        page.get_by_role("link", name="Open the subscription").click()
        page.get_by_role("button", name="Send a test event").click()
        page.get_by_text("delivered · HTTP 200").wait_for(timeout=30_000)
        assert receiver.bodies()[0]["description"].startswith("Test:")


def test_the_console_reads_on_a_narrow_window(page: Any, herald: Herald) -> None:
    page.set_viewport_size({"width": 420, "height": 800})
    sign_in(page, herald)
    page.goto(console_url(herald, "#/p/demo/notifications"))
    page.get_by_role("link", name="+ Create ICA event").wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 420, f"the page scrolls sideways ({width} px)"
    shoot(page, "narrow")


def test_every_page_is_usable_by_keyboard(page: Any, herald: Herald) -> None:
    page.goto(console_url(herald))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "api-key"
    page.keyboard.type(herald.key)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Sign out").wait_for()
    # Every form control on the create form has a label.
    page.goto(console_url(herald, "#/p/demo/notifications/new/ica"))
    page.get_by_label("Event").wait_for()
    unlabeled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea')].filter(el =>
            !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.outerHTML)"""
    )
    assert unlabeled == []


def test_events_are_paged_with_cursors_and_filtered(page: Any, herald: Herald) -> None:
    project = project_name("paging")
    for n in range(55):
        post_event(
            herald,
            project,
            {"n": n},
            code="ICA_SMP_002" if n % 5 == 0 else "ICA_DATA_108",
            description=f"event {n}",
        )
    sign_in(page, herald)
    page.goto(console_url(herald, f"#/p/{project}/events"))
    rows = page.locator("tbody tr")
    page.get_by_text("event 54", exact=True).wait_for()  # newest first
    assert rows.count() == 25
    page.get_by_role("button", name="Next →").click()
    page.get_by_text("Page 2").wait_for()
    page.get_by_text("event 29", exact=True).wait_for()
    page.get_by_role("button", name="Next →").click()
    page.get_by_text("event 0", exact=True).wait_for()
    assert rows.count() == 5 and page.get_by_role("button", name="Next →").is_disabled()
    page.get_by_role("button", name="← Previous").click()
    page.get_by_text("event 29", exact=True).wait_for()
    page.get_by_label("Type").fill("ICA_SMP_002")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("Page 1").wait_for()
    wait_until(lambda: rows.count() == 11, what="the 11 ICA_SMP_002 events")
    assert "type=ICA_SMP_002" in page.url
