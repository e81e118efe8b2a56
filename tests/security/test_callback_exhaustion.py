"""Wearing the DCSA callback endpoint down: lying about lengths, bodies over the limit, many
large bodies at once, senders that trickle a byte a second, a crowd of connections. The
endpoint refuses each early and stays small, and the genuine publisher is answered in time
throughout."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

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

READ_TIMEOUT_S = 4
MAX_BODY_BYTES = 1024 * 1024
ENDPOINT_SETTINGS = {
    "read_timeout_seconds": READ_TIMEOUT_S,
    "max_body_bytes": MAX_BODY_BYTES,
}
HELD = "quaywatch_terminal_callback_body_bytes"
PUBLISHER_ANSWER_S = 2.0


def test_a_negative_content_length_is_refused(target: Target) -> None:
    with connect(target) as connection:
        connection.sendall(signed_head(target, b"", "Content-Length: -1"))
        assert status_of(connection) == 400


def test_a_content_length_that_is_no_number_is_refused(target: Target) -> None:
    for length in ("twelve", "12abc", "0x10", "1e3"):
        with connect(target) as connection:
            connection.sendall(signed_head(target, b"", f"Content-Length: {length}"))
            assert status_of(connection) == 400, length


def test_a_20_mb_content_length_is_refused_before_its_body_is_sent(target: Target) -> None:
    before = target.refusals().get("too_large", 0)
    with connect(target) as connection:
        connection.sendall(signed_head(target, b"", f"Content-Length: {20 * 1000 * 1000}"))
        assert status_of(connection) == 413
    assert target.refusals()["too_large"] == before + 1


def test_a_chunked_body_over_the_limit_is_refused_while_it_is_read(target: Target) -> None:
    chunk = b"[" + b" " * (64 * 1024 - 2) + b"]"
    with connect(target) as connection:
        connection.sendall(signed_head(target, b"", "Transfer-Encoding: chunked"))

        def send_chunks() -> None:
            try:
                for _ in range(MAX_BODY_BYTES // len(chunk) + 4):
                    connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                connection.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the endpoint stopped reading: what this test wants

        sender = threading.Thread(target=send_chunks, daemon=True)
        sender.start()
        assert status_of(connection) == 413
        sender.join(30)
    assert target.rss_bytes() < RSS_BOUND


def test_a_chunked_signed_body_within_the_limit_is_published(target: Target) -> None:
    container = new_container_number()
    body = discharge_batch(container)
    parts = iter([body[:10], body[10:]])
    answer = target.endpoint.request("POST", parts, target.endpoint.signed_headers(body))
    assert answer.status == 200, answer.body
    assert container in target.published_until(container)


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


def trickle(connections: list[socket.socket], request: bytes, stop: threading.Event) -> None:
    """Send `request` a byte a second on every connection, as a slowloris does."""
    for byte in request:
        for connection in connections:
            with contextlib.suppress(OSError):  # cut off already: what the test expects
                connection.send(bytes([byte]))
        if stop.wait(1.0):
            return


def publisher_answer_times(target: Target, seconds: float) -> Iterator[tuple[int, float]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        answer = target.endpoint.post_signed(discharge_batch(new_container_number()), timeout=10)
        yield answer.status, time.monotonic() - started
        time.sleep(0.2)


def test_slow_senders_and_a_crowd_of_connections_do_not_hold_up_the_publisher(
    target: Target,
) -> None:
    before = target.refusals().get("slow", 0)
    body = discharge_batch(new_container_number())
    head = signed_head(target, body, f"Content-Length: {len(body)}")
    slow_heads = [connect(target) for _ in range(10)]
    slow_bodies = [connect(target) for _ in range(10)]
    slow = slow_heads + slow_bodies
    crowd = [connect(target) for _ in range(500)]
    stop = threading.Event()
    tricklers = [
        threading.Thread(target=trickle, args=(slow_heads, head + body, stop), daemon=True),
        threading.Thread(target=trickle, args=(slow_bodies, body, stop), daemon=True),
    ]
    try:
        for connection in slow_bodies:
            connection.sendall(head)
        for connection in crowd:
            connection.sendall(f"POST {target.endpoint.path} HTTP/1.1\r\n".encode())
        for trickler in tricklers:
            trickler.start()
        rss = [target.rss_bytes()]
        for status, seconds in publisher_answer_times(target, READ_TIMEOUT_S + 2):
            assert status == 200 and seconds < PUBLISHER_ANSWER_S, (status, seconds)
            rss.append(target.rss_bytes())
        assert max(rss) < RSS_BOUND, f"the endpoint grew to {max(rss) / 2**20:.0f} MiB"
        # Each of them had READ_TIMEOUT_S to send a whole request, and is cut off after it.
        for connection in slow + crowd:
            assert status_of(connection) == 408
        assert target.refusals()["slow"] >= before + len(slow) + len(crowd)
    finally:
        stop.set()
        for trickler in tricklers:
            trickler.join(5)
        for connection in slow + crowd:
            connection.close()
