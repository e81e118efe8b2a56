"""The audit report of a recorded night, opened from disk in headless Chromium: the timelines
and the alert table are drawn (checked in the page and in the screenshot's pixels)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from config.clock import zone_of
from streams.audit.report import write_report
from streams.audit.verify import verify
from streams.signing import KeyRing
from tests.integration.audit_run import INCIDENTS, NIGHT, RecordedRun

AMSTERDAM = zone_of("Europe/Amsterdam")  # the story site's zone

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def colour_share(png: bytes, rgb: tuple[int, int, int], tolerance: int = 12) -> float:
    """Share of the image's pixels within `tolerance` of a colour."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = list(image.getdata())
    near = sum(
        1
        for pixel in pixels
        if all(abs(c - w) <= tolerance for c, w in zip(pixel, rgb, strict=True))
    )
    return near / len(pixels)


def test_report_shows_timelines_and_alert_table_in_chromium(
    recorded: RecordedRun, tmp_path: Path
) -> None:
    keys = KeyRing.from_config(recorded.site.signing)
    verdict = verify(recorded.log, recorded.window, recorded.snapshot_dir, keys)
    html = write_report(
        recorded.site, recorded.log, recorded.window, verdict, recorded.snapshot_dir, tmp_path
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(html.as_uri())
        # The whole range, then every alert over its own episode.
        assert page.locator("svg.timeline.overview").count() == 1
        episodes = page.locator("svg.timeline.episode")
        assert episodes.count() == len(INCIDENTS)
        # start, the update naming its clip, end: every sighting of every incident
        assert page.locator("svg.episode circle.access").count() == 3 * len(INCIDENTS)
        assert page.locator("svg.episode rect.window").count() >= 6
        assert page.locator("svg.episode circle.alert").count() == len(INCIDENTS) + 1
        assert page.locator("svg.episode polygon.action").count() == 2
        assert page.locator("table#alerts tbody tr").count() == len(INCIDENTS)
        assert (
            "olga (operator) on r1: escalated: guards sent"
            in page.locator("table#alerts").inner_text()
        )
        loaded = page.evaluate(
            "Array.from(document.querySelectorAll('img.thumb')).every(i => i.naturalWidth > 0)"
        )
        assert loaded and page.locator("img.thumb").count() == len(INCIDENTS)
        assert "INTACT" in page.locator("#verdict").inner_text()
        # zone-B0's alert, over its episode: the person's start and end, 40 s apart, lie far
        # apart on the page; hovering names them in the site's time.
        zone_b0 = page.locator('svg.timeline.episode[data-zone="zone-B0"]')
        sightings = zone_b0.locator("circle.access")
        first, last = (sightings.nth(i).bounding_box() for i in (0, sightings.count() - 1))
        assert first and last and last["x"] - first["x"] > 300
        hover = sightings.nth(0).locator("title").text_content() or ""
        seen = NIGHT.astimezone(AMSTERDAM)
        assert hover.startswith(f"{seen:%Y-%m-%d %H:%M:%S} +01:00 "), hover
        shot = zone_b0.screenshot()
        table = page.locator("table#alerts").screenshot()
        full = page.screenshot(full_page=True)
        browser.close()

    zone_b0 = shot
    assert colour_share(zone_b0, (0x15, 0x65, 0xC0)) > 0.0003  # people seen (blue dots)
    assert colour_share(zone_b0, (0xD3, 0x2F, 0x2F)) > 0.01  # selected-for-inspection window
    assert colour_share(zone_b0, (0xC6, 0x28, 0x28)) > 0.0003  # the critical alert
    assert colour_share(table, (0xFF, 0xCD, 0xD2)) > 0.01  # the critical row
    assert colour_share(table, (0xFF, 0xF9, 0xC4)) > 0.01  # medium rows
    (tmp_path / "report.png").write_bytes(full)
