"""The console's web app: pages, the live stream, alert actions, snapshots and metrics.

Every route is either in PUBLIC_ROUTES or depends on a RoleGuard; tests enumerate the routes
and fail on one that is neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import StreamingResponse

from config.site import SiteConfig
from quaywatch.console import present
from quaywatch.console.actions import ActionNotRecorded, ActionPublisher
from quaywatch.console.auth import (
    RoleGuard,
    Session,
    SessionStore,
    clear_session_cookies,
    client_address,
    live_session,
    set_session_cookies,
)
from quaywatch.console.board import AlertEntry, Board, handles
from quaywatch.console.evidence import add_evidence_routes
from quaywatch.console.guard import RequestGuard
from quaywatch.console.handling import ActionRefused, ActionRequest
from quaywatch.console.login_page import login_html
from quaywatch.console.metrics import ConsoleMetrics
from quaywatch.console.quality import add_quality_routes, rule_of
from quaywatch.console.snapshots import ClipStore, SnapshotRefused, SnapshotStore
from quaywatch.console.throttle import LoginThrottle, LoginVia
from quaywatch.console.users import Role, UserStore
from streams.camera_health import CameraHealth
from streams.health import Problem, health_answer
from streams.messages import utc_now

STATIC_DIR = Path(__file__).parent / "static"

# Paths anyone may reach: the login page and form, the page assets (no data in them), and a
# liveness probe that says nothing about alerts.
PUBLIC_ROUTES = frozenset({"/login", "/static", "/healthz"})

# A live page is sent at most this often; a replay of many messages becomes one push.
PUSH_INTERVAL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0


@dataclass
class ConsoleParts:
    """What the app works with; built by the server, or by tests with their own pieces."""

    site: SiteConfig
    board: Board
    users: UserStore
    sessions: SessionStore
    publisher: ActionPublisher
    snapshots: SnapshotStore
    clips: ClipStore | None = None  # None: the data dir's clips/
    metrics: ConsoleMetrics = field(default_factory=ConsoleMetrics)
    console_id: str = field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    )
    stopping: threading.Event = field(default_factory=threading.Event)
    # The server's Kafka probe: None when healthy, else why not. Tests leave it out.
    broker_problem: Problem | None = None
    # Failed logins per user and address; made from the site's console.login when left out.
    throttle: LoginThrottle | None = None

    def __post_init__(self) -> None:
        if self.throttle is None:
            self.throttle = LoginThrottle(self.site.console.login, self.metrics)


def create_app(parts: ConsoleParts) -> FastAPI:
    app = FastAPI(title="quaywatch console", docs_url=None, redoc_url=None, openapi_url=None)
    config_hash = parts.site.config_hash()

    settings = parts.site.console
    throttle = parts.throttle
    assert throttle is not None

    def guard(*roles: Role, basic_auth: bool = False) -> RoleGuard:
        return RoleGuard(
            parts.sessions, parts.users, *roles, throttle=throttle, basic_auth=basic_auth
        )

    anyone = Depends(guard(*Role))
    alert_readers = Depends(guard(*present.ALERT_ROLES))
    operators = Depends(guard(Role.operator))
    action_log_readers = Depends(guard(*present.ACTION_LOG_ROLES))
    config_readers = Depends(guard(*present.CONFIG_ROLES))
    engineers = Depends(guard(Role.engineer))
    scrapers = Depends(guard(Role.engineer, Role.auditor, basic_auth=True))

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Before routing and body parsing. FastAPI's own max_body_size would run a handler that
    # does not read its body before answering 413; this refuses a declared length unread.
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        tls=settings.tls,
        allowed_origins=settings.origins(),
        hsts_seconds=settings.hsts_seconds,
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        # A browser sent to a page without a session gets the 401 with a way to the login.
        if error.status_code == 401 and "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(
                '<!doctype html><meta http-equiv="refresh" content="0; url=/login">'
                '<title>Log in</title><a href="/login">Log in</a>',
                status_code=401,
            )
        return JSONResponse(
            {"detail": error.detail}, status_code=error.status_code, headers=error.headers
        )

    # -- public ------------------------------------------------------------------------------

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        # The answer every quaywatch process gives: 503 with the reason while Kafka is away.
        status_code, body = health_answer(parts.broker_problem() if parts.broker_problem else None)
        return JSONResponse(body, status_code=status_code)

    @app.get("/login")
    def login_page(failed: bool = False, locked: bool = False) -> HTMLResponse:
        return HTMLResponse(login_html(failed, locked, settings.login.lockout_seconds))

    @app.post("/login")
    def login(
        request: Request,
        name: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
    ) -> RedirectResponse:
        address = client_address(request)
        if throttle.seconds_locked(name, address, LoginVia.form) > 0:
            return RedirectResponse(
                "/login?failed=1&locked=1", status_code=status.HTTP_303_SEE_OTHER
            )
        user = parts.users.authenticate(name, password)
        if user is None:
            throttle.failed(name, address, LoginVia.form)
            return RedirectResponse("/login?failed=1", status_code=status.HTTP_303_SEE_OTHER)
        session = parts.sessions.open(user)
        response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
        set_session_cookies(response, session, parts.sessions.ttl_seconds, secure=settings.tls)
        return response

    # -- any role ----------------------------------------------------------------------------

    @app.get("/")
    def index(session: Session = anyone) -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.post("/logout")
    def logout(session: Session = anyone) -> RedirectResponse:
        parts.sessions.close(session.token)
        response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
        clear_session_cookies(response, secure=settings.tls)
        return response

    @app.get("/api/me")
    def me(session: Session = anyone) -> present.Viewer:
        return present.Viewer(
            name=session.user_name,
            role=session.role,
            expires_at=session.expires_at,
            site=parts.site.site.name or parts.site.site.id,
            time_zone=parts.site.site.timezone,
            may_act=session.role is Role.operator,
        )

    @app.get("/api/cameras")
    def cameras(session: Session = anyone) -> list[CameraHealth]:
        return parts.board.cameras()

    @app.get("/api/stream")
    async def stream(request: Request, session: Session = anyone) -> StreamingResponse:
        return StreamingResponse(
            _live_events(parts, session, config_hash),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # -- alerts ------------------------------------------------------------------------------

    @app.get("/api/alerts")
    def alerts(session: Session = alert_readers) -> list[present.AlertSummary]:
        return [present.AlertSummary.model_validate(entry) for entry in parts.board.entries()]

    @app.get("/api/alerts/{alert_id}")
    def alert(alert_id: str, session: Session = alert_readers) -> present.AlertDetail:
        return present.AlertDetail.model_validate(_entry(parts.board, alert_id))

    @app.post("/api/alerts/{alert_id}/actions", status_code=201)
    def act(
        alert_id: str, request: Request, body: ActionRequest, session: Session = operators
    ) -> present.ActionView:
        return _act(parts, alert_id, body, session, request)

    @app.get("/api/actions")
    def actions(session: Session = action_log_readers) -> list[present.ActionView]:
        return [present.ActionView.model_validate(action) for action in parts.board.actions()]

    @app.get("/snapshots/{name:path}")
    def snapshot(name: str, session: Session = alert_readers) -> FileResponse:
        try:
            path = parts.snapshots.path_of(name)
        except SnapshotRefused as error:
            raise HTTPException(400, detail=str(error)) from None
        if path is None:
            raise HTTPException(404, detail=f"no snapshot {name} in the snapshot store")
        # Named by content, so a browser may keep it for good.
        return FileResponse(
            path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
        )

    add_evidence_routes(app, parts, alert_readers, operators)
    add_quality_routes(app, parts, engineers)

    # -- engineers and auditors --------------------------------------------------------------

    @app.get("/api/config")
    def site_config(session: Session = config_readers) -> present.SiteView:
        return present.SiteView(
            site_id=parts.site.site.id,
            site_name=parts.site.site.name,
            config_hash=config_hash,
            cameras=[camera.id for camera in parts.site.cameras],
            zones=[present.ZoneView.model_validate(zone) for zone in parts.site.zones],
        )

    @app.get("/metrics")
    def metrics(session: Session = scrapers) -> Response:
        return Response(generate_latest(parts.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _act(
    parts: ConsoleParts, alert_id: str, body: ActionRequest, session: Session, request: Request
) -> present.ActionView:
    # JSON only: a cross-site form cannot send it without the browser asking first.
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, detail="send the action as application/json")
    entry = _entry(parts.board, alert_id)
    if body.revision > entry.alert.revision:
        raise HTTPException(
            409,
            detail=f"alert {alert_id} has no revision {body.revision} "
            f"(latest is {entry.alert.revision})",
        )
    if not entry.state.open:
        raise HTTPException(409, detail=f"alert {alert_id} is already {entry.state.value}")
    now = utc_now()
    try:
        action = body.to_action(
            alert_id=alert_id,
            now=now,
            operator=session.user_name,
            role=session.role,
            console_id=parts.console_id,
            users=parts.users,
        )
    except ActionRefused as error:
        raise HTTPException(422, detail=str(error)) from None
    try:
        published = parts.publisher.publish(action)
    except ActionNotRecorded as error:
        raise HTTPException(503, detail=str(error)) from None
    parts.metrics.record_action(
        published.action,
        outcome=published.close_outcome,
        alert_age_seconds=(now - entry.raised_at).total_seconds(),
        zone=entry.alert.zone_id,
        rule=rule_of(entry.alert),
    )
    if handles(published) and entry.time_to_acknowledge_seconds is None:
        parts.metrics.first_response(
            entry.alert.severity, (now - entry.first_published_at).total_seconds()
        )
    return present.ActionView.model_validate(published)


def _entry(board: Board, alert_id: str) -> AlertEntry:
    entry = board.entry(alert_id)
    if entry is None:
        raise HTTPException(404, detail=f"no alert {alert_id!r} on the alerts topic")
    return entry


async def _live_events(
    parts: ConsoleParts, session: Session, config_hash: str
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def on_change() -> None:
        # The loop may have closed under a late change; nobody is listening then.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wake.set)

    unsubscribe = parts.board.subscribe(on_change)
    parts.metrics.connected_clients.inc()
    try:
        sent_version = -1
        shelf_end = None
        quiet = 0.0
        while not parts.stopping.is_set():
            # Checked on every push and every second of quiet: a logout, an expiry or a user
            # removed with `quaywatch users remove` ends the stream within about a second.
            if live_session(parts.sessions, parts.users, session.token) is None:
                yield "event: expired\ndata: {}\n\n"
                return
            # Cleared before reading the version, so a change in between still wakes us.
            wake.clear()
            if parts.board.version != sent_version:
                sent_version = parts.board.version
                state = present.LiveState.of(parts.board, session.role, config_hash)
                # The board does not change when a shelf runs out; the clock does.
                shelf_end = parts.board.next_shelf_end()
                yield f"event: state\ndata: {state.model_dump_json()}\n\n"
                quiet = 0.0
                await asyncio.sleep(PUSH_INTERVAL_SECONDS)
                continue
            if shelf_end is not None and shelf_end <= utc_now():
                sent_version = -1  # a shelved alert is back: every page must show it
                continue
            try:
                await asyncio.wait_for(wake.wait(), timeout=1.0)
            except TimeoutError:
                quiet += 1.0
                if quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
    finally:
        unsubscribe()
        parts.metrics.connected_clients.dec()
