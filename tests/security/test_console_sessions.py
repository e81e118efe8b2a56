"""Sessions of a real `quaywatch console` process under attack: a state-changing request from a
foreign origin or without the session's CSRF token is refused; over TLS the cookies are Secure
and HSTS is sent; a removed user's or a logged-out session's live stream ends; a restart keeps
a logged-in session, which is stored only as the hash of its token."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from config.kafka import Kafka
from quaywatch.console.auth import SESSION_COOKIE
from quaywatch.console.guard import CSRF_COOKIE, CSRF_HEADER
from quaywatch.console.sessions import sessions_path
from quaywatch.console.users import Role
from streams.broker.embedded import EmbeddedBroker
from tests.fixtures.broker import fresh_topics
from tests.integration.quaywatch_processes import start, wait_for
from tests.security.console_processes import (
    PASSWORD,
    Console,
    add_users,
    console_site,
    self_signed_certificate,
    start_console,
)

pytestmark = pytest.mark.integration

ACTION = {"action": "acknowledge", "reason": "guard sent", "revision": 1}
USERS = {"olga": Role.operator, "otto": Role.operator, "ruth": Role.operator}


@pytest.fixture(scope="module")
def kafka(broker: EmbeddedBroker) -> Kafka:
    return fresh_topics(broker.bootstrap)


@pytest.fixture(scope="module")
def console(kafka: Kafka, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    directory = tmp_path_factory.mktemp("console")
    running = start_console(directory, console_site(directory, kafka, {}))
    add_users(running.data_dir, USERS)
    try:
        yield running
    finally:
        running.process.stop()


def act(client: httpx.Client, **headers: str) -> httpx.Response:
    """An acknowledgement of an alert no topic holds: 404 once past every guard."""
    return client.post("/api/alerts/no-such-alert/actions", json=ACTION, headers=headers)


def test_a_cross_origin_post_and_a_post_without_the_csrf_token_are_refused(
    console: Console,
) -> None:
    with closing(console.log_in("olga")) as olga, closing(console.log_in("otto")) as otto:
        # The page's way: its own Origin and the session's token; it reaches the handler.
        reached = act(olga)
        assert reached.status_code == 404, reached.text
        assert "no alert 'no-such-alert'" in reached.text

        foreign = act(olga, origin="https://evil.example")
        assert foreign.status_code == 403
        assert "cross-origin request from 'https://evil.example' refused" in foreign.text
        assert act(olga, origin="null").status_code == 403
        olga.headers.pop("origin")
        from_page = act(olga, referer=f"{console.url}/")
        assert from_page.status_code == 404, from_page.text
        assert act(olga, referer="https://evil.example/page").status_code == 403
        nameless = act(olga)
        assert nameless.status_code == 403
        assert "must name its Origin (or Referer)" in nameless.text
        olga.headers["origin"] = console.url

        token = olga.headers.pop(CSRF_HEADER)
        untokened = act(olga)
        assert untokened.status_code == 403
        assert "needs the session's CSRF token" in untokened.text
        # Another session's token does not do either: it is bound to the session.
        assert act(olga, **{CSRF_HEADER: otto.headers[CSRF_HEADER]}).status_code == 403
        altered = token[:-1] + ("1" if token.endswith("0") else "0")  # one digit other
        assert act(olga, **{CSRF_HEADER: altered}).status_code == 403
        # The logout is state-changing too: refused without the token, the session lives on.
        assert olga.post("/logout").status_code == 403
        assert olga.get("/api/me").status_code == 200
        olga.headers[CSRF_HEADER] = token
        assert act(olga).status_code == 404

    # Nor may a foreign page log a browser in under the attacker's name.
    with console.client() as client:
        response = client.post(
            "/login",
            data={"name": "otto", "password": PASSWORD},
            headers={"origin": "https://evil.example"},
        )
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


def test_over_tls_the_cookies_are_secure_and_hsts_is_sent(
    console: Console, kafka: Kafka, tmp_path: Path
) -> None:
    certificate, key, trusted = self_signed_certificate(tmp_path)
    tls_section = {"tls_certfile": str(certificate), "tls_keyfile": str(key)}
    site_path = console_site(tmp_path, kafka, tls_section)
    secure = start_console(tmp_path, site_path, "tls-console", tls=trusted)
    try:
        add_users(secure.data_dir, USERS)
        assert secure.url.startswith("https://")
        with secure.client() as client:
            response = client.post("/login", data={"name": "olga", "password": PASSWORD})
            assert response.status_code == 303, response.text
            assert response.headers["strict-transport-security"] == "max-age=31536000"
            cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
            for name in (SESSION_COOKIE, CSRF_COOKIE):
                attributes = [a.strip().lower() for a in cookies[name].split(";")]
                assert "secure" in attributes and "samesite=strict" in attributes, cookies[name]
            assert "httponly" in cookies[SESSION_COOKIE].lower()
            client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
            me = client.get("/api/me")
            assert me.status_code == 200 and me.json()["name"] == "olga"
            assert "strict-transport-security" in me.headers
            assert act(client).status_code == 404
    finally:
        secure.process.stop()

    # The same login over plain HTTP: neither Secure cookies nor HSTS, which would be a lie.
    with console.client() as client:
        plain = client.post("/login", data={"name": "olga", "password": PASSWORD})
    assert plain.status_code == 303
    assert "strict-transport-security" not in plain.headers
    assert all("secure" not in c.lower() for c in plain.headers.get_list("set-cookie"))


def stream_until_it_ends(client: httpx.Client, events: list[str], ended: threading.Event) -> None:
    with client.stream("GET", "/api/stream", timeout=httpx.Timeout(15, read=60)) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
    ended.set()


def open_stream(client: httpx.Client) -> tuple[list[str], threading.Event]:
    events: list[str] = []
    ended = threading.Event()
    threading.Thread(target=stream_until_it_ends, args=(client, events, ended), daemon=True).start()
    wait_for("the first state on the stream", lambda: "state" in events, 30)
    return events, ended


def test_a_removed_users_open_stream_ends_and_so_does_a_logged_out_sessions(
    console: Console, tmp_path: Path
) -> None:
    with closing(console.log_in("ruth")) as ruth, closing(console.log_in("otto")) as otto:
        ruths, ruth_ended = open_stream(ruth)
        ottos, otto_ended = open_stream(otto)

        removal = start(
            "users-remove",
            ["users", "remove", "ruth", "--config", str(console.site_path)],
            0,
            tmp_path,
        )
        assert removal.popen.wait(60) == 0, removal.output()
        assert ruth_ended.wait(30), f"ruth's stream is still open after her removal: {ruths}"
        assert ruths[-1] == "expired"
        assert ruth.get("/api/me").status_code == 401
        assert not otto_ended.is_set(), "another user's stream ended with ruth's"

        # The same session in a second tab logs out: the first tab's stream ends.
        with console.client() as second_tab:
            second_tab.cookies.update(otto.cookies)
            response = second_tab.post("/logout", headers={CSRF_HEADER: otto.cookies[CSRF_COOKIE]})
            assert response.status_code == 303, response.text
        assert otto_ended.wait(30), f"otto's stream is still open after his logout: {ottos}"
        assert ottos[-1] == "expired"


def test_a_console_restart_keeps_a_logged_in_session_stored_only_hashed(
    kafka: Kafka, tmp_path: Path
) -> None:
    site_path = console_site(tmp_path, kafka, {})
    first = start_console(tmp_path, site_path, "console-before")
    add_users(first.data_dir, USERS)
    client = first.log_in("olga")
    try:
        assert client.get("/api/me").status_code == 200
    finally:
        first.process.stop()
    assert first.process.popen.returncode is not None

    token = client.cookies[SESSION_COOKIE]
    stored = sessions_path(first.data_dir)
    [session_file] = list(stored.iterdir())
    assert session_file.name == hashlib.sha256(token.encode()).hexdigest()
    assert session_file.stat().st_mode & 0o077 == 0
    assert token not in session_file.read_text()

    second = start_console(tmp_path, site_path, "console-after")
    try:
        with second.client() as restarted:
            restarted.cookies.update(client.cookies)
            restarted.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
            me = restarted.get("/api/me")
            assert me.status_code == 200, me.text
            assert me.json()["name"] == "olga"
            assert act(restarted).status_code == 404
            # A made-up token opens nothing, restart or not.
            restarted.cookies.set(SESSION_COOKIE, "x" * 43)
            assert restarted.get("/api/me").status_code == 401
    finally:
        second.process.stop()
        client.close()
