"""The console's guards as pure logic: the console config section, the login throttle on a
clock of the test's own, and the session files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from config.console import Console
from config.console import LoginThrottle as ThrottleSettings
from config.loading import ConfigError, load_site
from quaywatch.console.guard import RequestGuard, csrf_matches, csrf_token
from quaywatch.console.metrics import ConsoleMetrics
from quaywatch.console.server import check_tls_files
from quaywatch.console.sessions import SessionStore, token_digest
from quaywatch.console.throttle import LoginThrottle, LoginVia
from quaywatch.console.users import Role, User
from tests.unit.test_config_loading import CAMERAS, SITE, marked_line, site_yaml, write_site
from tests.unit.test_console_routes import Clock

OLGA = User(name="olga", role=Role.operator, password_hash="$argon2id$not-checked-here")


def test_console_tls_files_resolve_against_the_config_file(tmp_path: Path) -> None:
    console = "console: {tls_certfile: tls/console.crt, tls_keyfile: tls/console.key}"
    site = load_site(write_site(tmp_path, site_yaml(SITE, CAMERAS, console)))
    assert site.console.tls
    assert site.console.tls_certfile == tmp_path.resolve() / "tls" / "console.crt"
    assert site.console.tls_keyfile == tmp_path.resolve() / "tls" / "console.key"
    assert site.console.max_body_bytes == 64 * 1024


@pytest.mark.parametrize(
    ("console", "field", "words"),
    [
        (
            "console: {tls_certfile: console.crt}  # <- error",
            "console",
            "tls_certfile and tls_keyfile go together",
        ),
        (
            "console:\n  allowed_origins: [evil.example/path]  # <- error",
            "console.allowed_origins[0]",
            "does not match the pattern",
        ),
        (
            "console:\n  login: {lockout_seconds: 0}  # <- error",
            "console.login.lockout_seconds",
            "greater than 0",
        ),
    ],
)
def test_a_bad_console_section_names_file_line_and_field(
    tmp_path: Path, console: str, field: str, words: str
) -> None:
    path = write_site(tmp_path, site_yaml(SITE, CAMERAS, console))
    with pytest.raises(ConfigError) as raised:
        load_site(path)
    [message] = raised.value.messages
    assert message.startswith(f"{path}:{marked_line(path)}:"), message
    assert f": {field}: " in message and words in message, message


def throttle(clock: Clock) -> LoginThrottle:
    settings = ThrottleSettings(
        user_failures=3, address_failures=5, window_seconds=60, lockout_seconds=120
    )
    return LoginThrottle(settings, ConsoleMetrics(), clock)


def test_failures_lock_a_user_for_the_lockout_and_then_let_it_try_again() -> None:
    clock = Clock()
    guard = throttle(clock)
    for _ in range(3):
        assert guard.seconds_locked("olga", "10.0.0.1", LoginVia.form) == 0
        guard.failed("olga", "10.0.0.1", LoginVia.form)
    assert guard.seconds_locked("olga", "10.0.0.2", LoginVia.basic) == 120
    clock.now += 119
    assert guard.seconds_locked("olga", "10.0.0.1", LoginVia.form) == 1
    clock.now += 1
    assert guard.seconds_locked("olga", "10.0.0.1", LoginVia.form) == 0


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    guard = throttle(clock)
    for _ in range(10):
        guard.failed("olga", f"10.0.0.{clock.now % 250:.0f}", LoginVia.form)
        clock.now += 31  # never three within 60 s
    assert guard.seconds_locked("olga", "10.0.0.9", LoginVia.form) == 0


def test_an_address_is_locked_for_every_name_and_a_name_from_every_address() -> None:
    clock = Clock()
    guard = throttle(clock)
    for name in ("olga", "olga", "otto", "otto", "ruth"):  # the address's fifth failure
        guard.failed(name, "10.0.0.1", LoginVia.form)
    assert guard.seconds_locked("anyone", "10.0.0.1", LoginVia.form) == 120
    assert guard.seconds_locked("otto", "10.0.0.8", LoginVia.form) == 0
    # Counts are not cleared by a good login in between: only the window ends them.
    guard.failed("otto", "10.0.0.7", LoginVia.basic)
    assert guard.seconds_locked("otto", "10.0.0.8", LoginVia.form) == 120


def test_the_csrf_token_is_bound_to_its_session() -> None:
    assert csrf_matches("session-a", csrf_token("session-a"))
    assert not csrf_matches("session-b", csrf_token("session-a"))
    assert not csrf_matches("", csrf_token(""))
    assert not csrf_matches("session-a", None)


def test_a_new_store_on_the_same_directory_keeps_open_sessions_and_drops_expired_ones(
    tmp_path: Path,
) -> None:
    clock = Clock()
    store = SessionStore(tmp_path, ttl_seconds=600, clock=clock)
    early = store.open(OLGA)
    clock.now += 300
    late = store.open(OLGA)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        token_digest(s.token) for s in (early, late)
    )
    clock.now += 301
    restarted = SessionStore(tmp_path, ttl_seconds=600, clock=clock)
    assert restarted.get(early.token) is None
    assert restarted.get(late.token) == late
    assert [p.name for p in tmp_path.iterdir()] == [token_digest(late.token)]


def test_a_damaged_session_file_opens_nothing_and_is_dropped(tmp_path: Path) -> None:
    store = SessionStore(tmp_path, ttl_seconds=600, clock=Clock())
    session = store.open(OLGA)
    (tmp_path / token_digest(session.token)).write_text('{"user_name": "olga", "role": "root"')
    assert store.get(session.token) is None
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_tls_certificate_is_one_error_naming_both_files(tmp_path: Path) -> None:
    (tmp_path / "console.crt").write_text("not a certificate")
    console = Console(tls_certfile=tmp_path / "console.crt", tls_keyfile=tmp_path / "none.key")
    with pytest.raises(OSError) as raised:
        check_tls_files(console)
    message = str(raised.value)
    assert f"certificate {tmp_path / 'console.crt'} and key {tmp_path / 'none.key'}" in message
    assert "console.tls_certfile" in message


@pytest.mark.parametrize(
    ("length", "status"),
    [("65537", 413), ("9" * 5000, 413), ("\u00b2", 400), ("-1", 400), ("1e9", 400)],
)
def test_a_declared_length_over_the_limit_or_not_a_number_is_refused_unread(
    length: str, status: int
) -> None:
    reached: list[str] = []

    async def app(scope: dict, receive: object, send: object) -> None:
        reached.append(scope["path"])

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        raise AssertionError("the body was read")

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/me",
        "headers": [(b"content-length", length.encode("latin-1"))],
    }
    asyncio.run(RequestGuard(app, max_body_bytes=65536, tls=False)(scope, receive, send))
    assert reached == []
    assert sent[0]["status"] == status
