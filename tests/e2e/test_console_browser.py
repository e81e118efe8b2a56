"""The console in a real browser (Debian's Chromium) against the real broker: an operator sees
an alert arrive without reloading, opens it with its snapshot and acknowledges it; an auditor
cannot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, expect, sync_playwright

from config.cameras import Camera
from config.kafka import Kafka
from config.signing import Signing
from config.site import SiteConfig, SiteInfo
from detectors.evidence import EvidenceStore
from quaywatch.console.guard import CSRF_COOKIE, CSRF_HEADER
from quaywatch.console.server import ConsoleServer
from quaywatch.console.users import Role, UserStore, users_path
from streams.alerts import Severity
from streams.topics import ALERTS, OPERATOR_ACTIONS
from tests.integration.test_console_topics import publish, read_topic
from tests.unit.test_console_board import make_alert

pytestmark = pytest.mark.e2e

PASSWORD = "long enough password"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def console(kafka_settings: Kafka, tmp_path: Path, role_keys: Signing) -> Iterator[ConsoleServer]:
    users = UserStore(users_path(tmp_path), PasswordHasher(time_cost=1, memory_cost=1024))
    users.add("olga", Role.operator, PASSWORD)
    users.add("arie", Role.auditor, PASSWORD)
    site = SiteConfig(
        site=SiteInfo(id="rtm-test", name="Rotterdam test terminal"),
        data_dir=tmp_path,
        cameras=[Camera(id="cam-quay", source="vtest.avi")],
        kafka=kafka_settings,
        signing=role_keys,
    )
    with ConsoleServer(site, port=0) as server:
        yield server


@pytest.fixture
def snapshot_sha256(footage_path: Path, tmp_path: Path) -> str:
    """A real frame of the footage, kept where and how the camera worker keeps evidence."""
    capture = cv2.VideoCapture(str(footage_path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 120)
    ok, frame = capture.read()
    capture.release()
    assert ok, f"cannot read a frame of {footage_path}"
    return EvidenceStore(tmp_path / "snapshots").keep(frame)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def log_in(browser: Browser, console: ConsoleServer, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    page.goto(f"{console.url}/")
    page.wait_for_url("**/login")  # the 401 sends the browser to the login
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{console.url}/")
    expect(page.locator("#link-state")).to_have_text("LIVE", timeout=15000)
    return page


def test_operator_acknowledges_a_live_alert_and_an_auditor_cannot(
    browser: Browser,
    console: ConsoleServer,
    kafka_settings: Kafka,
    snapshot_sha256: str,
    tmp_path: Path,
) -> None:
    operator = log_in(browser, console, "olga")
    expect(operator.locator("#no-alerts")).to_be_visible()

    # Published after the page is up: it has to arrive over the live stream.
    alert = make_alert(
        "quay-north-7",
        Severity.critical,
        reason="person next to MSCU1234565: selected by customs, not yet inspected",
        snapshot_sha256=snapshot_sha256,
    )
    publish(kafka_settings, ALERTS, alert)
    row = operator.locator('li[data-alert-id="quay-north-7"]')
    expect(row).to_be_visible(timeout=20000)
    expect(row).to_have_attribute("data-state", "unacknowledged")

    row.click()
    expect(operator.locator("#detail-reason")).to_contain_text("selected by customs")
    expect(operator.locator("#containers")).to_contain_text("MSCU1234565")
    expect(operator.locator("#access-events")).to_contain_text("access-quay-north-7-start")
    snapshot = operator.locator("#snapshot")
    expect(snapshot).to_be_visible()
    operator.wait_for_function(
        "() => { const i = document.getElementById('snapshot');"
        " return i.complete && i.naturalWidth === 768 && i.naturalHeight === 576; }",
        timeout=10000,
    )
    operator.screenshot(path=str(tmp_path / "operator-console.png"))

    operator.fill("#action-reason", "guard sent to block Q3")
    operator.click('button[data-action="acknowledge"]')
    expect(operator.locator("#action-result")).to_have_text("Recorded: acknowledged.")
    expect(row).to_have_attribute("data-state", "acknowledged", timeout=10000)

    actions = read_topic(kafka_settings, OPERATOR_ACTIONS)
    assert [(a.alert_id, a.action, a.operator, a.reason) for a in actions] == [
        ("quay-north-7", "acknowledge", "olga", "guard sent to block Q3")
    ]

    auditor = log_in(browser, console, "arie")
    auditor_row = auditor.locator('li[data-alert-id="quay-north-7"]')
    expect(auditor_row).to_be_visible(timeout=20000)
    auditor_row.click()
    expect(auditor.locator("#detail-reason")).to_contain_text("selected by customs")
    expect(auditor.locator("#action-log")).to_contain_text("olga acknowledged quay-north-7")
    expect(auditor.locator('button[data-action="acknowledge"]')).to_be_hidden()
    # With everything the page would send (its Origin, the session's CSRF token): the role
    # is what refuses it.
    [csrf] = [c["value"] for c in auditor.context.cookies() if c["name"] == CSRF_COOKIE]
    refused = auditor.request.post(
        f"{console.url}/api/alerts/quay-north-7/actions",
        data=json.dumps({"action": "acknowledge", "reason": "trying", "revision": 1}),
        headers={"content-type": "application/json", "origin": console.url, CSRF_HEADER: csrf},
    )
    assert refused.status == 403
    assert "role auditor may not use" in refused.text()
    assert len(read_topic(kafka_settings, OPERATOR_ACTIONS)) == 1

    # The logout form goes through the same CSRF-carrying path, and the session is gone after.
    auditor.click("#logout")
    auditor.wait_for_url("**/login")
    assert auditor.request.get(f"{console.url}/api/me").status == 401
