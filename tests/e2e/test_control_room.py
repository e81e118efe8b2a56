"""The control room at 1280x800 against the whole demo system (real broker, worker on the real
footage with the real model, terminal feed, correlator, console), in Debian's Chromium.

One demo run and one pair of consoles serve every check, in the order an operator meets them:
the critical alert rings and shows its container; the page never scrolls sideways; the detail
shows site times, a snapshot that opens large and a clip that plays; the live view is newer
than the page; the yard map places the container; and shelving, assigning and closing with an
outcome reach operator-actions and show on a second console.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import pytest
import yaml
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from config.kafka import Kafka
from quaywatch.console.users import Role, UserStore, users_path
from streams.broker.embedded import free_port
from streams.topics import OPERATOR_ACTIONS
from tests.e2e.test_console_browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.worker_support import read_topic
from tests.fixtures.resources import DEMO_SITE

pytestmark = pytest.mark.e2e

RUNNING = "Ctrl-C stops everything"
CONTAINER = "CSQU3054383"  # selected by customs, not inspected, in block Q3 (the scenario)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SECOND_OPERATOR = ("piet", "second operator password")
VIEWPORT = {"width": 1280, "height": 800}

# Records what the page asks of the browser's annunciators, then lets the real call go on.
INSTRUMENTS = """
window.__loadedAt = Date.now();
window.__notifications = [];
window.__played = [];
class RecordedNotification {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body }); }
}
window.Notification = RecordedNotification;
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  window.__played.push(this.id);
  return play.call(this);
};
"""


@dataclass(frozen=True)
class Demo:
    url: str
    password: str
    kafka: Kafka
    data_dir: Path


def site_time(iso: str) -> str:
    """A moment as the page must write it: en-GB, in Europe/Amsterdam, with date and offset."""
    moment = datetime.fromisoformat(iso).astimezone(AMSTERDAM)
    offset = moment.utcoffset() or timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    zone = f"GMT{hours:+d}" + (f":{rest // 60:02d}" if rest else "") if offset else "GMT"
    return f"{moment:%d %b %Y}, {moment:%H:%M:%S} {zone}"


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, footage_path: Path, model_dynamic_onnx_path: Path
) -> Iterator[Demo]:
    """`quaywatch demo` on free ports, with a data dir of its own and a second operator."""
    root = tmp_path_factory.mktemp("control-room")
    data_dir = root / "data"
    site = yaml.safe_load(DEMO_SITE.read_text())
    site["data_dir"] = str(data_dir)
    site["cameras"][0]["source"] = str(footage_path)
    site["detector"]["model"] = str(model_dynamic_onnx_path)
    for trusted in site["signing"]["keys"]:
        trusted["public_key"] = str(root / "keys" / Path(trusted["public_key"]).name)
    site["kafka"]["bootstrap_servers"] = [f"127.0.0.1:{free_port()}"]
    site["terminal"]["callback"]["port"] = free_port()
    site["metrics"] = {
        name: free_port()
        for name in ("worker_port", "correlator_port", "terminal_port", "console_port")
    }
    config = root / "demo.yaml"
    config.write_text(yaml.safe_dump(site))
    users = UserStore(users_path(data_dir), PasswordHasher(time_cost=1, memory_cost=1024))
    users.add(SECOND_OPERATOR[0], Role.operator, SECOND_OPERATOR[1])
    process = subprocess.Popen(
        [sys.executable, "-m", "quaywatch", "demo", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "YOLO_OFFLINE": "1"},
    )
    try:
        banner = _banner(process)
        password = re.search(r"login\s+operator / (\S+)", banner)
        assert password, banner
        url = f"http://127.0.0.1:{site['metrics']['console_port']}"
        _wait_until_answering(f"{url}/login")
        yield Demo(
            url=url,
            password=password[1],
            kafka=Kafka(**site["kafka"]),
            data_dir=data_dir,
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)


def _wait_until_answering(url: str, timeout_s: float = 60) -> None:
    # The banner comes as the parts are started; the console answers once it has loaded.
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"the demo's console did not answer on {url}") from None
            time.sleep(0.5)


def _banner(process: subprocess.Popen[str]) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if RUNNING in line:
            return "".join(lines)
    raise AssertionError(f"the demo never said {RUNNING!r}:\n{''.join(lines)}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        launched.close()


def console(browser: Browser, demo: Demo, name: str, password: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INSTRUMENTS)
    page = context.new_page()
    page.goto(f"{demo.url}/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(f"{demo.url}/")
    expect(page.locator("#link-state")).to_have_text("LIVE", timeout=15000)
    return page


def assert_no_sideways_scroll(page: Page, screenshot: Path) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] == widths[1] == VIEWPORT["width"], widths
    # A full-page screenshot is as wide as what the page lays out, scrolled or not.
    page.screenshot(path=str(screenshot), full_page=True)
    picture = cv2.imread(str(screenshot))
    assert picture is not None and picture.shape[1] == VIEWPORT["width"], picture.shape


FULLY_SHOWN = """selector => {
  const node = document.querySelector(selector);
  if (!node) return false;
  const box = node.getBoundingClientRect();
  const row = node.closest("li").getBoundingClientRect();
  return node.scrollWidth <= node.clientWidth + 1 && box.width > 0
    && box.left >= row.left && box.right <= row.right;
}"""


def expect_fully_shown(page: Page, selector: str) -> None:
    """The element's text is not cut: it fits its own box, and its box fits inside its row,
    within a few seconds of the row appearing (the list is drawn anew on every push; once, on
    a loaded machine, the first look found a row cut that a rerun found whole). A cut that
    stays fails with the element's and its row's geometry."""
    try:
        page.wait_for_function(FULLY_SHOWN, arg=selector, timeout=5_000)
    except PlaywrightTimeout:
        geometry = page.eval_on_selector(
            selector,
            """node => [node.scrollWidth, node.clientWidth,
                JSON.stringify(node.getBoundingClientRect()),
                JSON.stringify(node.closest("li").getBoundingClientRect())]""",
        )
        raise AssertionError(f"{selector} cut (scroll, client, box, row): {geometry}") from None


def test_an_operator_handles_a_critical_alert_in_the_control_room(
    browser: Browser, demo: Demo, tmp_path: Path
) -> None:
    olga = console(browser, demo, "operator", demo.password)

    # -- the alert arrives, rings and shows its container ---------------------------------
    critical = olga.locator('li.alert[data-severity="critical"]').first
    expect(critical).to_be_visible(timeout=120_000)
    alert_id = critical.get_attribute("data-alert-id")
    row = f'li[data-alert-id="{alert_id}"]'
    expect(olga.locator(f"{row} .alert-container")).to_have_text(CONTAINER)
    expect_fully_shown(olga, f"{row} .alert-container")
    expect_fully_shown(olga, f"{row} .alert-state")
    expect(olga.locator(f"{row} .alert-state")).to_have_text("UNACKNOWLEDGED")
    expect(olga.locator(f"{row} .alert-condition")).to_have_text("selected, not inspected")
    olga.wait_for_function("() => window.__played.includes('alarm-sound')", timeout=10_000)
    notifications = olga.evaluate("() => window.__notifications")
    assert any(
        n["title"].startswith("CRITICAL: quay-q3") and CONTAINER in n["title"]
        for n in notifications
    ), notifications
    assert_no_sideways_scroll(olga, tmp_path / "list-1280.png")

    # -- times in the list and the detail are the site's ---------------------------------
    detail = olga.request.get(f"{demo.url}/api/alerts/{alert_id}").json()
    expect(olga.locator(f"{row} .alert-time")).to_have_text(site_time(detail["raised_at"]))
    critical.click()
    expect(olga.locator("#detail-reason")).to_contain_text(CONTAINER)
    seen = olga.locator("#detail-facts dt:text-is('Seen') + dd")
    expect(seen).to_have_text(site_time(detail["event_time"]))
    assert re.fullmatch(r"\d\d \w{3} 2026, \d\d:\d\d:\d\d GMT\+1", seen.inner_text())
    expect(olga.locator("#access-events li").first).to_contain_text(
        f"{site_time(detail['event_time'])} · quay-cam-1 · quay-q3"
    )

    # -- the snapshot opens large; the clip plays ------------------------------------------
    olga.wait_for_function(
        "() => { const i = document.getElementById('snapshot');"
        " return i.complete && i.naturalWidth === 768; }",
        timeout=10_000,
    )
    small = olga.locator("#snapshot").bounding_box()
    olga.click("#snapshot")
    expect(olga.locator("#lightbox")).to_be_visible()
    large = olga.locator("#lightbox-image").bounding_box()
    assert small and large and large["width"] > 2 * small["width"], (small, large)
    olga.keyboard.press("Escape")
    expect(olga.locator("#lightbox")).to_be_hidden()

    clip = olga.locator("#clip")
    expect(clip).to_be_visible(timeout=60_000)  # written a few seconds after the sighting
    assert re.search(r"/clips/[0-9a-f]{64}\.webm$", clip.get_attribute("src") or "")
    olga.evaluate("() => document.getElementById('clip').play()")
    olga.wait_for_function("() => document.getElementById('clip').currentTime > 0", timeout=20_000)
    assert olga.evaluate("() => document.getElementById('clip').videoWidth") == 768
    assert_no_sideways_scroll(olga, tmp_path / "detail-1280.png")

    # -- the live view is newer than the page ----------------------------------------------
    olga.click("#tab-live")
    olga.wait_for_function(
        """() => { const i = document.querySelector('.live-frame[data-camera="quay-cam-1"] img');
          return i && i.dataset.writtenAt && i.naturalWidth === 768
            && Date.parse(i.dataset.writtenAt) > window.__loadedAt; }""",
        timeout=20_000,
    )
    assert_no_sideways_scroll(olga, tmp_path / "live-1280.png")

    # -- the yard map places the container in its zone --------------------------------------
    olga.click("#tab-yard")
    chip = olga.locator(f'.zone-tile[data-zone="quay-q3"] [data-container="{CONTAINER}"]')
    expect(chip).to_have_class(re.compile("cond-selected_not_inspected"), timeout=10_000)
    expect(olga.locator('polygon[data-zone="quay-q3"]')).to_have_class(
        re.compile("cond-selected_not_inspected")
    )
    assert_no_sideways_scroll(olga, tmp_path / "yard-1280.png")

    # -- shelve, assign and close reach operator-actions and another console ---------------
    piet = console(browser, demo, *SECOND_OPERATOR)
    other_row = piet.locator(row)
    expect(other_row).to_have_attribute("data-state", "unacknowledged", timeout=20_000)

    olga.click(row)
    act(olga, "shelve", "guard on the way, watching on camera", shelve_minutes="15")
    expect(other_row).to_have_attribute("data-state", "shelved", timeout=20_000)
    expect(other_row.locator(".alert-tta")).to_contain_text("acknowledged after")
    act(olga, "assign", "Piet has the Q3 patrol", assignee=SECOND_OPERATOR[0])
    expect(other_row.locator(".alert-assignee")).to_have_text("→ piet", timeout=20_000)
    act(olga, "close", "seal broken, police called", outcome="confirmed_incident")
    piet.select_option("#filter-state", "closed")
    expect(other_row).to_have_attribute("data-state", "closed", timeout=20_000)
    expect(other_row.locator(".alert-state")).to_have_text("closed: confirmed incident")
    other_row.click()
    history = piet.locator("#history")
    expect(history).to_contain_text("operator shelved until")
    expect(history).to_contain_text("operator assigned to piet")
    expect(history).to_contain_text("operator closed as confirmed incident")

    # The filters and the search on the second console find it, or rule it out.
    piet.fill("#search", CONTAINER[:6])
    expect(other_row).to_be_visible()
    piet.select_option("#filter-severity", "medium")
    expect(other_row).to_have_count(0)
    piet.select_option("#filter-severity", "")
    piet.fill("#search", "MSKU")
    expect(other_row).to_have_count(0)

    # Muted, a new critical alert rings nothing; unmuted again, it does.
    fake = {
        "alert_id": "new-one",
        "severity": "critical",
        "state": "unacknowledged",
        "zone_id": "quay-q3",
        "reason": "test",
        "at_risk": None,
    }
    piet.click("#mute")
    expect(piet.locator("#mute")).to_have_text("Sound off")
    rung = piet.evaluate("() => window.__played.length")
    piet.evaluate("alert => alarm.observe([alert])", fake)
    assert piet.evaluate("() => window.__played.length") == rung
    piet.click("#mute")
    piet.evaluate("alert => alarm.observe([alert])", {**fake, "alert_id": "another"})
    assert piet.evaluate("() => window.__played.length") == rung + 1

    recorded = [a for a in read_topic(demo.kafka, OPERATOR_ACTIONS) if a["alert_id"] == alert_id]
    assert [(a["action"], a["operator"]) for a in recorded] == [
        ("shelve", "operator"),
        ("assign", "operator"),
        ("close", "operator"),
    ]
    shelve, assign, close = recorded
    shelved_for = datetime.fromisoformat(shelve["shelved_until"]) - datetime.fromisoformat(
        shelve["event_time"]
    )
    assert shelved_for == timedelta(minutes=15)
    assert (shelve["reason"], assign["assignee"], close["outcome"]) == (
        "guard on the way, watching on camera",
        "piet",
        "confirmed_incident",
    )


def act(page: Page, action: str, reason: str, **choice: str) -> None:
    page.fill("#action-reason", reason)
    if "shelve_minutes" in choice:
        page.select_option("#shelve-minutes", choice["shelve_minutes"])
    if "assignee" in choice:
        page.select_option("#assignee", choice["assignee"])
    selector = f'#action-panel button[data-action="{action}"]'
    if "outcome" in choice:
        selector += f'[data-outcome="{choice["outcome"]}"]'
    page.click(selector)
    expect(page.locator("#action-result")).to_have_text(re.compile("^Recorded: "))
