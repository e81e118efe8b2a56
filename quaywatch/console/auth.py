"""Console sessions and the role guard every non-public endpoint depends on."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from quaywatch.console.users import Role, User, UserStore

SESSION_COOKIE = "quaywatch_session"


@dataclass(frozen=True)
class Session:
    token: str
    user_name: str
    role: Role
    expires_at: float  # on the store's clock (seconds)


class SessionStore:
    """Sessions held in memory: a restart logs everyone out, which a console can afford, and no
    session secret has to be kept anywhere. Sessions expire a fixed time after login."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"session lifetime must be above 0 seconds, got {ttl_seconds}")
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, user: User) -> Session:
        session = Session(
            token=secrets.token_urlsafe(32),
            user_name=user.name,
            role=user.role,
            expires_at=self._clock() + self.ttl_seconds,
        )
        with self._lock:
            self._drop_expired()
            self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires_at <= self._clock():
                del self._sessions[token]
                return None
            return session

    def close(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def close_user(self, user_name: str) -> None:
        """End every session of a user, e.g. one removed from the users file."""
        with self._lock:
            self._sessions = {t: s for t, s in self._sessions.items() if s.user_name != user_name}

    def _drop_expired(self) -> None:
        now = self._clock()
        self._sessions = {t: s for t, s in self._sessions.items() if s.expires_at > now}


class RoleGuard:
    """A FastAPI dependency that admits a session holding one of `roles`.

    No session (or an expired one) is 401, a session with another role is 403. The roles are
    kept on the object so that tests can enumerate the app's routes and check each one
    refuses exactly the roles it does not name.
    """

    def __init__(
        self, sessions: SessionStore, users: UserStore, *roles: Role, basic_auth: bool = False
    ) -> None:
        if not roles:
            raise ValueError("a guard needs at least one role; use the public list for none")
        self.roles = frozenset(roles)
        self.basic_auth = basic_auth
        self._sessions = sessions
        self._users = users

    def __call__(self, request: Request) -> Session:
        session = self._sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is not None and session.user_name not in self._users.users():
            # Removed with `quaywatch users remove` while logged in.
            self._sessions.close_user(session.user_name)
            session = None
        if session is None and self.basic_auth:
            session = self._basic_session(request.headers.get("authorization", ""))
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
        return session

    def _basic_session(self, authorization: str) -> Session | None:
        # Only for GET endpoints a scraper reads (Prometheus speaks basic auth): a browser
        # replays cached basic credentials cross-site, so actions never accept them.
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return None
        try:
            name, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user = self._users.authenticate(name, password)
        if user is None:
            return None
        return Session(token="", user_name=user.name, role=user.role, expires_at=float("inf"))
