"""Filling the DCSA callback endpoint's memory: many large bodies at once, each to be checked
against its signature only once it is whole. Past a budget of a few bodies' worth the endpoint
answers 503 (the sender delivers again) instead of holding more, and it stays small."""

from __future__ import annotations

import time

from streams.terminal.callback import BODIES_AT_ONCE
from tests.security.conftest import (
    RSS_BOUND,
    Target,
    connect,
    discharge_batch,
    new_container_number,
    signed_head,
    status_of,
)

MAX_BODY_BYTES = 1024 * 1024
ENDPOINT_SETTINGS = {"callback_max_body_bytes": MAX_BODY_BYTES}
HELD = "quaywatch_terminal_callback_body_bytes"


def wait_until_held(target: Target, least: int, most: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if least <= target.metric(HELD)[()] <= most:
            return
        time.sleep(0.1)
    raise AssertionError(f"the endpoint holds {target.metric(HELD)[()]:.0f} bytes of bodies")


def test_bodies_past_the_memory_budget_are_refused_and_the_budget_is_given_back(
    target: Target,
) -> None:
    almost_whole = MAX_BODY_BYTES - 10
    head = signed_head(target, b"", f"Content-Length: {MAX_BODY_BYTES}")
    holders = [connect(target) for _ in range(BODIES_AT_ONCE)]
    before = target.refusals().get("busy", 0)
    try:
        for connection in holders:
            connection.sendall(head + b" " * almost_whole)
        wait_until_held(target, BODIES_AT_ONCE * almost_whole, BODIES_AT_ONCE * MAX_BODY_BYTES)
        with connect(target) as one_more:
            one_more.sendall(head + b" " * 65536)
            assert status_of(one_more) == 503
        assert target.refusals()["busy"] == before + 1
        assert target.rss_bytes() < RSS_BOUND
    finally:
        for connection in holders:
            connection.close()
    wait_until_held(target, 0, 0)
    assert target.endpoint.post_signed(discharge_batch(new_container_number())).status == 200
