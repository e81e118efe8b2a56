"""Login throttling: failed logins counted per user name and per client address, and a
temporary lockout after too many, for the login form and the /metrics basic auth alike.

A locked name or address is refused before its password is checked, so the right password
does not get in during the lock, and a guesser learns nothing and costs no argon2 time.
Unknown names are counted and locked like known ones: the answer never says which exist.
A good login does not clear the count: Prometheus logs in every few seconds, and a clearing
would give a guesser a fresh allowance against the scraper's password after every scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from config.console import LoginThrottle as ThrottleSettings
from streams.metrics import ProcessMetrics

log = logging.getLogger(__name__)

# Longer names are counted by their first this many characters (a name is at most 32).
NAME_KEY_LENGTH = 64
# Names and addresses remembered at most; beyond it the ones without a recent failure go first,
# so a spray of made-up names cannot grow the console without bound.
MAX_TRACKED = 10_000


class LoginVia(StrEnum):
    form = "form"  # the login page
    basic = "basic"  # HTTP basic auth on /metrics


class LockScope(StrEnum):
    user = "user"
    address = "address"


class _Failures:
    """Failure times and lock ends of one kind of key (user names, or addresses)."""

    def __init__(self, limit: int, window: float, lockout: float) -> None:
        self.limit, self.window, self.lockout = limit, window, lockout
        self.failures: dict[str, deque[float]] = {}
        self.locked_until: dict[str, float] = {}

    def seconds_locked(self, key: str, now: float) -> float:
        until = self.locked_until.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self.locked_until[key]
            return 0.0
        return until - now

    def fail(self, key: str, now: float) -> int:
        """Record a failure; the failures within the window, or 0 when this one locks the key."""
        times = self.failures.setdefault(key, deque())
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            del self.failures[key]
            self.locked_until[key] = now + self.lockout
            return 0
        self._bound(now)
        return len(times)

    def _bound(self, now: float) -> None:
        if len(self.locked_until) > MAX_TRACKED:
            self.locked_until = {k: t for k, t in self.locked_until.items() if t > now}
        if len(self.failures) <= MAX_TRACKED:
            return
        stale = [k for k, times in self.failures.items() if times[-1] <= now - self.window]
        for key in stale:
            del self.failures[key]
        while len(self.failures) > MAX_TRACKED:
            del self.failures[next(iter(self.failures))]


class LoginThrottle:
    """Decides whether a login may be tried, and records how it went."""

    def __init__(
        self,
        settings: ThrottleSettings,
        metrics: ProcessMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._by = {
            LockScope.user: _Failures(
                settings.user_failures, settings.window_seconds, settings.lockout_seconds
            ),
            LockScope.address: _Failures(
                settings.address_failures, settings.window_seconds, settings.lockout_seconds
            ),
        }
        self.failures = metrics.counter(
            "login_failures",
            "Logins refused, by way in (form, basic) and reason (wrong_password, locked)",
            ["via", "reason"],
        )
        self.lockouts = metrics.counter(
            "login_lockouts", "User names or client addresses locked out, by scope", ["scope"]
        )
        for via in LoginVia:
            for reason in ("wrong_password", "locked"):
                self.failures.labels(via=via.value, reason=reason)
        for scope in LockScope:
            self.lockouts.labels(scope=scope.value)

    def seconds_locked(self, user_name: str, address: str, via: LoginVia) -> float:
        """Seconds until a login of `user_name` from `address` may be tried; 0 means now."""
        user_name = user_name[:NAME_KEY_LENGTH]
        now = self._clock()
        with self._lock:
            wait = max(
                self._by[LockScope.user].seconds_locked(user_name, now),
                self._by[LockScope.address].seconds_locked(address, now),
            )
        if wait > 0:
            self.failures.labels(via=via.value, reason="locked").inc()
            log.warning(
                "console: login of user %r from %s via %s refused: locked for %.0f s more",
                user_name,
                address,
                via.value,
                wait,
            )
        return wait

    def failed(self, user_name: str, address: str, via: LoginVia) -> None:
        user_name = user_name[:NAME_KEY_LENGTH]
        now = self._clock()
        with self._lock:
            counts = {
                LockScope.user: self._by[LockScope.user].fail(user_name, now),
                LockScope.address: self._by[LockScope.address].fail(address, now),
            }
        self.failures.labels(via=via.value, reason="wrong_password").inc()
        log.warning(
            "console: failed login of user %r from %s via %s", user_name, address, via.value
        )
        for scope, count in counts.items():
            if count == 0:
                self.lockouts.labels(scope=scope.value).inc()
                who = f"user {user_name!r}" if scope is LockScope.user else f"address {address}"
                limit = (
                    self.settings.user_failures
                    if scope is LockScope.user
                    else self.settings.address_failures
                )
                log.warning(
                    "console: %s locked out for %.0f s after %d failed logins in %.0f s "
                    "(the last of user %r from %s)",
                    who,
                    self.settings.lockout_seconds,
                    limit,
                    self.settings.window_seconds,
                    user_name,
                    address,
                )
