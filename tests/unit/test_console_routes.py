"""Access to the console, checked over every route the app has: a route added later is covered
without touching this file, and one that is neither public nor guarded fails the test."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from config.cameras import Camera
from config.kafka import Kafka
from config.site import SiteConfig, SiteInfo
from quaywatch.console.actions import ActionPublisher
from quaywatch.console.app import PUBLIC_ROUTES, ConsoleParts, create_app
from quaywatch.console.auth import SESSION_COOKIE, RoleGuard, SessionStore
from quaywatch.console.board import Board
from quaywatch.console.guard import CSRF_HEADER, csrf_token
from quaywatch.console.login_page import STATIC_DIR
from quaywatch.console.sessions import sessions_path
from quaywatch.console.snapshots import SnapshotStore
from quaywatch.console.users import Role, UserStore, users_path
from streams.alerts import Severity
from tests.unit.test_console_board import T0, make_alert

PASSWORD = "long enough password"
SNAPSHOT = b"\xff\xd8\xff\xe0 evidence \xff\xd9"
SNAPSHOT_SHA = hashlib.sha256(SNAPSHOT).hexdigest()
SECRET = "secret outside the snapshot store"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def parts(tmp_path: Path, clock: Clock) -> ConsoleParts:
    # Real argon2, with cheap parameters: this file logs in some fifty times.
    users = UserStore(users_path(tmp_path), PasswordHasher(time_cost=1, memory_cost=1024))
    for role in Role:
        users.add(role.value, role, PASSWORD)
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    (snapshots / f"{SNAPSHOT_SHA}.jpg").write_bytes(SNAPSHOT)
    (tmp_path / "secret.txt").write_text(SECRET)
    board = Board()
    board.apply_alert(make_alert("a", Severity.critical, snapshot_sha256=SNAPSHOT_SHA))
    site = SiteConfig(
        site=SiteInfo(id="test"), data_dir=tmp_path, cameras=[Camera(id="cam", source="x.avi")]
    )
    parts = ConsoleParts(
        site=site,
        board=board,
        users=users,
        sessions=SessionStore(sessions_path(tmp_path), ttl_seconds=600, clock=clock),
        # Nothing listens there: no test here may reach the broker.
        publisher=ActionPublisher(Kafka(bootstrap_servers=["127.0.0.1:9"]), timeout_seconds=1),
        snapshots=SnapshotStore(snapshots),
    )
    # Live streams end at once, so a test can open one and read its status.
    parts.stopping.set()
    return parts


@pytest.fixture
def client(parts: ConsoleParts) -> Iterator[TestClient]:
    # As the page does: its own Origin on every request, the session's CSRF token with it.
    with TestClient(
        create_app(parts), base_url="http://127.0.0.1", headers={"Origin": "http://127.0.0.1"}
    ) as test_client:
        test_client.event_hooks = {"request": [send_csrf_token]}
        yield test_client


def send_csrf_token(request: httpx.Request) -> None:
    """What the page's csrf.js does: the token of the session the request carries, unless the
    test sent one of its own."""
    cookies = SimpleCookie(request.headers.get("cookie", ""))
    if SESSION_COOKIE in cookies and CSRF_HEADER not in request.headers:
        request.headers[CSRF_HEADER] = csrf_token(cookies[SESSION_COOKIE].value)


def session_cookie(client: TestClient, name: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/login", data={"name": name, "password": password}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    client.cookies.clear()
    return response.cookies.get(SESSION_COOKIE) or ""


def guards_of(route: APIRoute) -> list[RoleGuard]:
    found: list[RoleGuard] = []
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, RoleGuard):
            found.append(dependant.call)
        pending.extend(dependant.dependencies)
    return found


def concrete_path(path: str) -> str:
    values = {"alert_id": "a", "name": SNAPSHOT_SHA, "camera_id": "cam"}
    return re.sub(r"{(\w+)(:\w+)?}", lambda match: values[match.group(1)], path)


class GuardedRequest(NamedTuple):
    method: str
    path: str
    roles: frozenset[Role]  # the roles it admits


def guarded_requests(app_routes: list) -> list[GuardedRequest]:
    """Every route outside the public list, once per method; fails on an unguarded one."""
    requests: list[GuardedRequest] = []
    for route in app_routes:
        if isinstance(route, Mount):
            assert route.path in PUBLIC_ROUTES, f"mount {route.path} is not in the public list"
            continue
        assert isinstance(route, APIRoute), f"unexpected route type {route!r}"
        if route.path in PUBLIC_ROUTES:
            continue
        guards = guards_of(route)
        assert guards, f"{route.path} is neither public nor guarded by a role"
        roles = frozenset.intersection(*(guard.roles for guard in guards))
        for method in sorted(route.methods - {"HEAD"}):
            requests.append(GuardedRequest(method, concrete_path(route.path), roles))
    return requests


def test_every_route_is_public_or_refuses_no_session_and_the_wrong_role(
    client: TestClient,
) -> None:
    requests = guarded_requests(client.app.routes)  # type: ignore[attr-defined]
    assert len(requests) >= 10, "the route enumeration found too few routes to be trusted"
    refused_somewhere = 0
    for method, path, roles in requests:
        response = client.request(method, path, json={})
        assert response.status_code == 401, f"{method} {path} without a session: {response}"
        for role in Role:
            # A session of its own per request: one of the routes is the logout.
            cookie = {SESSION_COOKIE: session_cookie(client, role.value)}
            response = client.request(method, path, json={}, cookies=cookie)
            if role in roles:
                assert response.status_code not in (401, 403), f"{method} {path} as {role}"
            else:
                refused_somewhere += 1
                assert response.status_code == 403, f"{method} {path} as {role}: {response}"
    assert refused_somewhere >= 8, "too few role refusals checked to be trusted"


def test_every_json_route_declares_the_shape_of_its_answer_in_the_openapi_schema(
    client: TestClient,
) -> None:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    answers = {
        f"{method} {path}": next(
            response for code, response in operation["responses"].items() if code.startswith("2")
        )
        for path, operations in paths.items()
        if path.startswith("/api/") and path != "/api/stream"  # the stream pushes LiveState
        for method, operation in operations.items()
    }
    assert len(answers) >= 6, "the schema lists too few JSON routes to be trusted"
    for route, answer in answers.items():
        body = answer["content"]["application/json"]["schema"]
        assert "$ref" in body.get("items", body), f"{route} answers an undeclared shape: {body}"


def test_an_alert_reads_with_the_keys_and_times_the_browser_has_always_had(
    client: TestClient,
) -> None:
    cookie = {SESSION_COOKIE: session_cookie(client, "operator")}
    summary = client.get("/api/alerts", cookies=cookie).json()[0]
    detail = client.get("/api/alerts/a", cookies=cookie).json()
    assert list(summary) == [
        "alert_id",
        "revision",
        "severity",
        "state",
        "open",
        "reason",
        "upgraded_from",
        "raised_at",
        "zone_id",
        "camera_id",
        "yard_blocks",
        "containers_in_zone",
        "snapshot_sha256",
        "last_action",
        "first_published_at",
        "at_risk",
        "container_numbers",
        "assignee",
        "shelved_until",
        "outcome",
        "time_to_acknowledge_seconds",
    ]
    assert list(detail)[len(summary) :] == [
        "event_time",
        "as_of",
        "incident_id",
        "access_event_ids",
        "containers",
        "config_hash",
        "access_config_hash",
        "revisions",
        "actions",
        "sightings",
        "clip_sha256",
    ]
    assert {key: detail[key] for key in summary} == summary
    assert (summary["raised_at"], detail["as_of"]) == (T0.isoformat(), T0.isoformat())
    assert summary["raised_at"].endswith("+00:00")
    assert detail["revisions"] == [{"revision": 1, "severity": "critical"}]
    assert detail["containers"][0]["discharged_at"] == "2026-03-01T00:00:00Z"
    assert (summary["last_action"], detail["actions"]) == (None, [])


def test_public_routes_answer_without_a_session(client: TestClient) -> None:
    assert client.get("/login").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/console.js").status_code == 200
    assert client.get("/static/console.css").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/snapshots/..%2Fsecret.txt",
        "/snapshots/%2e%2e/secret.txt",
        "/snapshots/..%2f..%2f..%2fetc%2fpasswd",
        "/snapshots/../secret.txt",
        f"/snapshots/{SNAPSHOT_SHA}%2F..%2F..%2Fsecret.txt",
        "/snapshots/%2Fetc%2Fpasswd",
    ],
)
def test_a_snapshot_path_leaving_the_store_is_refused(client: TestClient, path: str) -> None:
    operator = session_cookie(client, "operator")
    response = client.get(path, cookies={SESSION_COOKIE: operator})
    assert response.status_code in (400, 404), f"{path}: {response.status_code}"
    assert SECRET not in response.text and "root:" not in response.text


def test_a_stored_snapshot_is_served_as_jpeg(client: TestClient) -> None:
    operator = session_cookie(client, "operator")
    response = client.get(f"/snapshots/{SNAPSHOT_SHA}", cookies={SESSION_COOKIE: operator})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == SNAPSHOT


def test_a_session_expires_after_its_lifetime(client: TestClient, clock: Clock) -> None:
    cookie = {SESSION_COOKIE: session_cookie(client, "operator")}
    assert client.get("/api/me", cookies=cookie).status_code == 200
    clock.now += 599
    assert client.get("/api/me", cookies=cookie).status_code == 200
    clock.now += 2
    assert client.get("/api/me", cookies=cookie).status_code == 401


def test_a_wrong_password_gets_no_session(client: TestClient) -> None:
    response = client.post(
        "/login", data={"name": "operator", "password": "wrong"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?failed=1"
    assert SESSION_COOKIE not in response.cookies


def test_a_removed_user_loses_their_session(client: TestClient, parts: ConsoleParts) -> None:
    cookie = {SESSION_COOKIE: session_cookie(client, "auditor")}
    assert client.get("/api/me", cookies=cookie).status_code == 200
    parts.users.remove("auditor")
    assert client.get("/api/me", cookies=cookie).status_code == 401


def test_a_user_added_again_with_a_new_password_loses_the_old_session_only(
    client: TestClient, parts: ConsoleParts
) -> None:
    old = {SESSION_COOKIE: session_cookie(client, "operator")}
    parts.users.remove("operator")
    parts.users.add("operator", Role.operator, "a new long password")
    new = {SESSION_COOKIE: session_cookie(client, "operator", "a new long password")}
    assert client.get("/api/me", cookies=old).status_code == 401
    assert client.get("/api/me", cookies=new).status_code == 200


def test_a_post_without_the_sessions_csrf_token_or_from_another_origin_is_refused(
    client: TestClient,
) -> None:
    cookie = {SESSION_COOKIE: session_cookie(client, "operator")}
    action = {"action": "acknowledge", "reason": "x", "revision": 1}
    for headers, refusal in [
        ({CSRF_HEADER: ""}, "needs the session's CSRF token"),
        ({CSRF_HEADER: csrf_token("another session")}, "needs the session's CSRF token"),
        ({"Origin": "http://evil.example"}, "cross-origin request"),
    ]:
        response = client.post(
            "/api/alerts/a/actions", json=action, cookies=cookie, headers=headers
        )
        assert response.status_code == 403 and refusal in response.text, (headers, response.text)
    assert client.post("/logout", cookies=cookie, headers={CSRF_HEADER: ""}).status_code == 403
    assert client.get("/api/me", cookies=cookie).status_code == 200


def test_a_browser_without_a_session_is_sent_to_the_login(client: TestClient) -> None:
    response = client.get("/", headers={"accept": "text/html"})
    assert response.status_code == 401
    assert 'url=/login"' in response.text


def test_metrics_take_basic_auth_for_scrapers_but_actions_do_not(client: TestClient) -> None:
    assert client.get("/metrics", auth=("engineer", PASSWORD)).status_code == 200
    assert client.get("/metrics", auth=("engineer", "wrong")).status_code == 401
    assert client.get("/metrics", auth=("operator", PASSWORD)).status_code == 403
    response = client.post(
        "/api/alerts/a/actions",
        json={"action": "acknowledge", "reason": "x", "revision": 1},
        auth=("operator", PASSWORD),
    )
    assert response.status_code == 401


def test_a_locked_out_login_is_told_so_rather_than_wrong_password(client: TestClient) -> None:
    def refused(password: str) -> str:
        response = client.post(
            "/login", data={"name": "operator", "password": password}, follow_redirects=False
        )
        assert response.status_code == 303 and SESSION_COOKIE not in response.cookies
        return response.headers["location"]

    template = (STATIC_DIR / "login.html").read_text()
    note = '<p id="login-{}" class="login-error" role="alert">{}</p>'
    wrong = note.format("failed", "Wrong name or password.")
    locked = note.format(
        "locked",
        "Too many failed logins: this name or this address is locked for up to 15 minutes. "
        "Try again later, or ask a supervisor.",
    )
    assert client.get("/login").text == template.replace("<!-- login note -->", "")
    # The default locks a user name after 10 failures: the 11th, right password or not, is
    # refused as locked, and the page says so instead of "wrong password".
    answers = [refused(f"guess {n}") for n in range(10)] + [refused(PASSWORD)]
    assert answers == ["/login?failed=1"] * 10 + ["/login?failed=1&locked=1"]
    assert client.get(answers[0]).text == template.replace("<!-- login note -->", wrong)
    assert client.get(answers[-1]).text == template.replace("<!-- login note -->", locked)
