"""What every request to the console passes before the app sees it: the body-size limit, the
origin of state-changing requests, and the headers every answer carries.

One ASGI middleware, outside routing and body parsing: a body over the limit is refused while it
streams (and at once when its Content-Length says so), so an anonymous 50 MB POST is never
buffered; a POST, PUT, PATCH or DELETE from a foreign page is refused before any handler runs.
The CSRF token (bound to the session) is checked by the role guard, which knows the session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Page assets and content-named snapshots may be cached; every other answer is no-store.
CACHEABLE_PATHS = ("/static", "/snapshots")
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_COOKIE = "quaywatch_csrf"  # readable by the page's script, which sends it back as:
CSRF_HEADER = "x-csrf-token"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` even on
    # the page's own POSTs, and the origin check below could not tell them from a foreign page.
    "Referrer-Policy": "same-origin",
}


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from the session's secret, so it needs no storage,
    survives a restart with the session, and tells nothing about the session token itself."""
    return hmac.new(session_token.encode(), b"quaywatch console csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, sent: str | None) -> bool:
    return (
        bool(session_token) and bool(sent) and hmac.compare_digest(csrf_token(session_token), sent)
    )


class RequestGuard:
    """ASGI middleware: body limit, origin check, security and cache headers (HSTS under TLS)."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        tls: bool,
        allowed_origins: frozenset[str] = frozenset(),
        hsts_seconds: int = 0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.scheme = "https" if tls else "http"
        self.allowed_origins = allowed_origins
        headers = dict(SECURITY_HEADERS)
        if tls and hsts_seconds > 0:
            headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}"
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send, cacheable=scope["path"].startswith(CACHEABLE_PATHS))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope["method"], headers)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        await self.app(scope, self._counted(receive), send)

    def _refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str] | None:
        length = headers.get("content-length")
        if length is not None:
            if not re.fullmatch(r"[0-9]+", length):
                return 400, f"Content-Length {length[:40]!r} is not a number of bytes"
            # More digits than any limit has is too large without reading it as a number.
            if len(length) > 18 or int(length) > self.max_body_bytes:
                return 413, (
                    f"request body of {length[:40]} bytes; the console takes at most "
                    f"{self.max_body_bytes}"
                )
        if method in STATE_CHANGING_METHODS:
            return self._origin_refusal(headers)
        return None

    def _origin_refusal(self, headers: dict[str, str]) -> tuple[int, str] | None:
        own = f"{self.scheme}://{headers.get('host', '')}".lower()
        allowed = self.allowed_origins | {own}
        origin = headers.get("origin")
        if origin is not None:
            if origin.rstrip("/").lower() in allowed:
                return None
            return 403, f"cross-origin request from {origin[:100]!r} refused; the console is {own}"
        referer = headers.get("referer")
        if referer is not None:
            parts = urlsplit(referer)
            if f"{parts.scheme}://{parts.netloc}".lower() in allowed:
                return None
            return 403, f"request from page {referer[:100]!r} refused; the console is {own}"
        # A browser names the origin of every POST; a request naming none is not the page's.
        return 403, "a state-changing request must name its Origin (or Referer)"

    def _counted(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # Raised inside the handler reading the body; the app's error handler
                    # answers it, and nothing past the limit has been kept.
                    raise HTTPException(
                        413,
                        detail=f"request body over {self.max_body_bytes} bytes; refused",
                        headers={"Connection": "close"},
                    )
            return message

        return counted

    def _with_headers(self, send: Send, cacheable: bool) -> Send:
        headers = self.headers if cacheable else [*self.headers, (b"cache-control", b"no-store")]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in headers if name not in present
                ]
            await send(message)

        return with_headers


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The unread body is not worth reading: the connection ends with the answer.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
