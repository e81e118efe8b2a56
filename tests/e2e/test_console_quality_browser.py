"""The engineer's alarm-quality panel in a real browser: the figures of the board, updated
without reloading when an operator closes an alert; operators and auditors do not see it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Locator, expect

from config.kafka import Kafka
from quaywatch.console.server import ConsoleServer
from quaywatch.console.users import Role, UserStore, users_path
from streams.alerts import Severity
from streams.topics import ALERTS
from tests.e2e.test_console_browser import (  # noqa: F401 - fixtures
    PASSWORD,
    browser,
    console,
    log_in,
)
from tests.integration.test_console_topics import publish
from tests.unit.test_console_board import make_alert

pytestmark = pytest.mark.e2e


def cells(row: Locator) -> list[str]:
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def test_the_engineer_sees_closes_per_zone_and_rule_and_an_operator_does_not(
    browser: Browser,  # noqa: F811
    console: ConsoleServer,  # noqa: F811
    kafka_settings: Kafka,
    tmp_path: Path,
) -> None:
    users = UserStore(users_path(tmp_path), PasswordHasher(time_cost=1, memory_cost=1024))
    users.add("erik", Role.engineer, PASSWORD)
    publish(kafka_settings, ALERTS, make_alert("a-1", Severity.high))
    publish(kafka_settings, ALERTS, make_alert("a-2", Severity.medium))

    engineer = log_in(browser, console, "erik")
    row = engineer.locator('#quality-rows tr[data-zone="quay_north"]')
    expect(row).to_have_count(1, timeout=20000)
    expect(row.locator("td").nth(2)).to_have_text("2", timeout=20000)
    assert cells(row) == ["quay_north", "intrusion", "2", "2", "0", "0", "0", "0", "—"]

    operator = log_in(browser, console, "olga")
    assert operator.locator("#quality").is_hidden()
    expect(operator.locator("#alert-list li")).to_have_count(2, timeout=20000)
    response = operator.evaluate(
        """async () => (await sendJson("/api/alerts/a-1/actions", {
            action: "close", outcome: "false_alarm", reason: "a cloth on the lawn", revision: 1,
        })).status"""
    )
    assert response == 201

    # Pushed to the engineer's page: no reload.
    expect(row.locator("td.rate")).to_have_text("100.0 %", timeout=20000)
    assert cells(row) == ["quay_north", "intrusion", "2", "1", "1", "0", "1", "0", "100.0 %"]
    total = engineer.locator("#quality-rows tr.quality-total")
    assert cells(total) == ["all zones", "all rules", "2", "1", "1", "0", "1", "0", "100.0 %"]
    assert engineer.locator("#quality-since").inner_text().startswith("alerts since ")
    # The panel fits a 1280 px screen: no sideways scroll, the rate in sight.
    engineer.set_viewport_size({"width": 1280, "height": 800})
    assert engineer.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    rate = row.locator("td.rate").bounding_box()
    assert rate and rate["x"] + rate["width"] <= 1280, rate  # not scrolled out of its panel
    if shot := os.environ.get("QUALITY_SCREENSHOT"):
        engineer.screenshot(path=shot, full_page=True)
    # The auditor's page has no such panel either.
    assert log_in(browser, console, "arie").locator("#quality").is_hidden()
