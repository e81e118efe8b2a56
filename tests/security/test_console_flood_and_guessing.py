"""The console under a flood and under guessing, as a real `quaywatch console` process: a 50 MB
anonymous body is refused unread, and failed logins lock the user name (or the address) for a
while, even against the right password, on the login form and on /metrics basic auth alike;
every failure and lockout is logged and counted."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from quaywatch.console.users import Role
from streams.broker.embedded import EmbeddedBroker
from tests.fixtures.broker import fresh_topics
from tests.integration.quaywatch_processes import LOOPBACK
from tests.security.console_processes import (
    PASSWORD,
    Console,
    add_users,
    console_site,
    start_console,
)

pytestmark = pytest.mark.integration

USER_FAILURES, ADDRESS_FAILURES, LOCKOUT_SECONDS = 10, 15, 4
FIFTY_MB = 50 * 1024 * 1024
# What the console may grow by while refusing the floods: far below one body.
RSS_GROWTH_BOUND = 4 * 1024 * 1024


@pytest.fixture(scope="module")
def console(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    directory = tmp_path_factory.mktemp("console")
    login = {
        "user_failures": USER_FAILURES,
        "address_failures": ADDRESS_FAILURES,
        "window_seconds": 120,
        "lockout_seconds": LOCKOUT_SECONDS,
    }
    site_path = console_site(directory, fresh_topics(broker.bootstrap), {"login": login})
    running = start_console(directory, site_path)
    add_users(
        running.data_dir,
        {
            "olga": Role.operator,
            "otto": Role.operator,
            "prom": Role.engineer,
            "scraper": Role.engineer,
        },
    )
    try:
        yield running
    finally:
        running.process.stop()


def login_answer(console: Console, name: str, password: str, address: str) -> str:
    """Where the login form sends the browser: / on success, /login?failed=... otherwise."""
    with console.client(address) as client:
        response = client.post("/login", data={"name": name, "password": password})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def counters(console: Console) -> dict[str, float]:
    """The login counters on the console's /metrics, by `name{label=value,...}`."""
    with console.client() as client:
        response = client.get("/metrics", auth=("scraper", PASSWORD))
    assert response.status_code == 200, response.text
    return {
        f"{sample.name}{{{','.join(f'{k}={v}' for k, v in sorted(sample.labels.items()))}}}": (
            sample.value
        )
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("quaywatch_console_login_")
    }


def flood(console: Console, head: str, chunk: bytes, total: int, end: bytes = b"") -> int:
    """Send `head`, up to `total` bytes of `chunk`s and `end` while reading the answer; its status.

    The console answers and closes before the body is through, so the sender stops on a broken
    connection; the answer is read meanwhile, on this thread."""
    connection = socket.create_connection((LOOPBACK, int(console.url.rsplit(":", 1)[1])), 30)
    connection.sendall(head.encode())

    def send_body() -> None:
        sent = 0
        try:
            while sent < total:
                connection.sendall(chunk)
                sent += len(chunk)
            connection.sendall(end)
        except OSError:
            pass  # refused: the console closed the connection

    sender = threading.Thread(target=send_body)
    sender.start()
    answer = b""
    try:
        while b"\r\n" not in answer:
            received = connection.recv(4096)
            if not received:
                break
            answer += received
    finally:
        sender.join(60)
        connection.close()
    assert answer.startswith(b"HTTP/1.1 "), f"no answer to the flood: {answer!r}"
    return int(answer.split(b" ", 2)[1])


def test_a_50_mb_anonymous_body_is_refused_unread_and_the_console_does_not_grow(
    console: Console,
) -> None:
    # The console's own Origin, which anyone but a browser can claim: the size alone refuses.
    start = (
        f"POST /api/alerts/quay-north-7/actions HTTP/1.1\r\nHost: {console.url[7:]}\r\n"
        f"Origin: {console.url}\r\nContent-Type: application/json\r\n"
    )
    declared = f"{start}Content-Length: {FIFTY_MB}\r\n\r\n"
    # Chunked: no length to refuse up front, so the limit has to hold while the body streams.
    piece = b'{"reason": "' + b"x" * (1024 * 1024 - 20) + b'",'
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    streamed = f"{start}Transfer-Encoding: chunked\r\n\r\n"
    # Once, small, before measuring: what a first refusal allocates for good is in the baseline.
    assert flood(console, declared, b"x" * 65536, 1024 * 1024) == 413
    small = b"x" * 65536
    assert flood(console, streamed, b"10000\r\n" + small + b"\r\n", 2**17, b"0\r\n\r\n") == 413
    before = console.rss_bytes()

    assert flood(console, declared, b"x" * 1024 * 1024, FIFTY_MB) == 413
    statuses: list[int] = []
    floods = [
        threading.Thread(target=lambda: statuses.append(flood(console, streamed, chunk, FIFTY_MB)))
        for _ in range(4)
    ]
    for thread in floods:
        thread.start()
    for thread in floods:
        thread.join(120)
    growth = console.rss_bytes() - before

    assert statuses == [413] * 4
    print(f"console RSS before {before / 2**20:.1f} MiB, growth {growth / 2**20:.2f} MiB")
    assert growth < RSS_GROWTH_BOUND, f"the console grew by {growth / 2**20:.1f} MiB"
    assert console.answers(), "the console stopped answering after the flood"


def test_20_wrong_passwords_lock_the_user_until_the_lock_ends_even_for_the_right_password(
    console: Console,
) -> None:
    guesser = "127.0.0.2"
    before = counters(console)
    answers = []
    for attempt in range(20):
        if attempt == USER_FAILURES - 1:
            before_locking = time.monotonic()
        answers.append(login_answer(console, "olga", f"guess number {attempt}", guesser))
    assert answers == ["/login?failed=1"] * USER_FAILURES + ["/login?failed=1&locked=1"] * (
        20 - USER_FAILURES
    )
    # Locked for the user, from any address, with the right password too; not the address:
    # another user logs in from it.
    assert login_answer(console, "olga", PASSWORD, guesser) == "/login?failed=1&locked=1"
    assert login_answer(console, "olga", PASSWORD, "127.0.0.5") == "/login?failed=1&locked=1"
    assert login_answer(console, "otto", PASSWORD, guesser) == "/"

    deadline = time.monotonic() + LOCKOUT_SECONDS + 30
    while (answer := login_answer(console, "olga", PASSWORD, guesser)) != "/":
        assert answer == "/login?failed=1&locked=1"
        assert time.monotonic() < deadline, "the lock never ended"
        time.sleep(0.25)
    assert time.monotonic() - before_locking >= LOCKOUT_SECONDS
    after = counters(console)
    grown = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    refused_while_locked = grown.pop(
        "quaywatch_console_login_failures_total{reason=locked,via=form}"
    )
    assert refused_while_locked >= 20 - USER_FAILURES + 2
    assert grown == {
        "quaywatch_console_login_failures_total{reason=wrong_password,via=form}": USER_FAILURES,
        "quaywatch_console_login_lockouts_total{scope=user}": 1,
    }

    log = console.log()
    failures = [line for line in log.splitlines() if "failed login of user 'olga'" in line]
    assert len(failures) == USER_FAILURES
    assert all(f"from {guesser} via form" in line for line in failures)
    assert (
        f"user 'olga' locked out for {LOCKOUT_SECONDS} s after {USER_FAILURES} failed logins" in log
    )
    assert "login of user 'olga' from 127.0.0.5 via form refused: locked" in log


def test_an_address_guessing_many_names_is_locked_for_every_name(console: Console) -> None:
    guesser = "127.0.0.3"
    answers = [
        login_answer(console, f"made-up-{n}", "guess", guesser) for n in range(ADDRESS_FAILURES)
    ]
    assert answers == ["/login?failed=1"] * ADDRESS_FAILURES
    assert login_answer(console, "otto", PASSWORD, guesser) == "/login?failed=1&locked=1"
    assert login_answer(console, "otto", PASSWORD, "127.0.0.6") == "/"
    assert f"address {guesser} locked out" in console.log()


def test_metrics_basic_auth_is_throttled_like_the_login_and_both_are_counted(
    console: Console,
) -> None:
    before = counters(console)
    with console.client("127.0.0.4") as client:
        refused = [
            client.get("/metrics", auth=("prom", f"guess {n}")).status_code
            for n in range(USER_FAILURES)
        ]
        locked = client.get("/metrics", auth=("prom", PASSWORD))
    assert refused == [401] * USER_FAILURES
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["retry-after"]) <= LOCKOUT_SECONDS + 1
    assert "failed login of user 'prom' from 127.0.0.4 via basic" in console.log()

    after = counters(console)
    grown = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    assert grown == {
        "quaywatch_console_login_failures_total{reason=wrong_password,via=basic}": USER_FAILURES,
        "quaywatch_console_login_failures_total{reason=locked,via=basic}": 1,
        "quaywatch_console_login_lockouts_total{scope=user}": 1,
    }
