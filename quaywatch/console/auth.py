"""The role guard every non-public endpoint depends on: the session, its user, its role, and
for state-changing requests the session's CSRF token."""

from __future__ import annotations

import base64
import binascii

from fastapi import HTTPException, Request, Response, status

from quaywatch.console.guard import (
    CSRF_COOKIE,
    CSRF_HEADER,
    STATE_CHANGING_METHODS,
    csrf_matches,
    csrf_token,
)
from quaywatch.console.sessions import Session, SessionStore, credential_of
from quaywatch.console.throttle import LoginThrottle, LoginVia
from quaywatch.console.users import Role, UserStore

SESSION_COOKIE = "quaywatch_session"

__all__ = ["SESSION_COOKIE", "RoleGuard", "Session", "SessionStore", "live_session"]


def live_session(sessions: SessionStore, users: UserStore, token: str | None) -> Session | None:
    """The session of `token` while it is open and its user still exists with the same role
    and password; a session whose user was removed (or changed) is closed on the spot."""
    session = sessions.get(token)
    if session is None:
        return None
    user = users.users().get(session.user_name)
    if user is None or user.role is not session.role or credential_of(user) != session.credential:
        # Removed, or removed and added again (another role or password), while logged in.
        # Only this session: one opened since with the new password is the user's own.
        sessions.close(session.token)
        return None
    return session


def set_session_cookies(
    response: Response, session: Session, ttl_seconds: float, secure: bool
) -> None:
    """The session cookie (for the server only) and its CSRF token (for the page's script)."""
    cookie = {
        "max_age": int(ttl_seconds),
        # Strict keeps the cookies off every cross-site request, which is what stops a
        # foreign page from posting actions in an operator's name.
        "samesite": "strict",
        "secure": secure,
        "path": "/",
    }
    response.set_cookie(SESSION_COOKIE, session.token, httponly=True, **cookie)
    response.set_cookie(CSRF_COOKIE, csrf_token(session.token), httponly=False, **cookie)


def clear_session_cookies(response: Response, secure: bool) -> None:
    for cookie in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(cookie, path="/", secure=secure, samesite="strict")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class RoleGuard:
    """A FastAPI dependency that admits a session holding one of `roles`.

    No session (or an expired one) is 401, a session with another role is 403, and so is a
    POST, PUT, PATCH or DELETE without the session's CSRF token. The roles are kept on the
    object so that tests can enumerate the app's routes and check each one refuses exactly the
    roles it does not name.
    """

    def __init__(
        self,
        sessions: SessionStore,
        users: UserStore,
        *roles: Role,
        throttle: LoginThrottle | None = None,
        basic_auth: bool = False,
    ) -> None:
        if not roles:
            raise ValueError("a guard needs at least one role; use the public list for none")
        if basic_auth and throttle is None:
            raise ValueError("basic auth takes passwords, so it needs the login throttle")
        self.roles = frozenset(roles)
        self.basic_auth = basic_auth
        self._sessions = sessions
        self._users = users
        self._throttle = throttle

    def __call__(self, request: Request) -> Session:
        session = live_session(self._sessions, self._users, request.cookies.get(SESSION_COOKIE))
        if session is None and self.basic_auth:
            session = self._basic_session(request)
        if session is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="not logged in or the session expired: log in at /login",
            )
        if session.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {session.role} may not use {request.url.path}; needs {allowed}",
            )
        if request.method in STATE_CHANGING_METHODS and not csrf_matches(
            session.token, request.headers.get(CSRF_HEADER)
        ):
            # SameSite already keeps the cookie off foreign requests; the token is the second
            # lock, for a browser or a proxy that does not honour SameSite.
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"{request.method} {request.url.path} needs the session's CSRF token "
                f"in the {CSRF_HEADER} header",
            )
        return session

    def _basic_session(self, request: Request) -> Session | None:
        # Only for GET endpoints a scraper reads (Prometheus speaks basic auth): a browser
        # replays cached basic credentials cross-site, so actions never accept them (a basic
        # session has no CSRF token).
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return None
        try:
            name, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        assert self._throttle is not None
        address = client_address(request)
        wait = self._throttle.seconds_locked(name, address, LoginVia.basic)
        if wait > 0:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"too many failed logins for this user or address; wait {wait:.0f} s",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        user = self._users.authenticate(name, password)
        if user is None:
            self._throttle.failed(name, address, LoginVia.basic)
            return None
        return Session(
            token="",
            user_name=user.name,
            role=user.role,
            expires_at=float("inf"),
            credential=credential_of(user),
        )
