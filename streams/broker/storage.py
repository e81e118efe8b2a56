"""The broker's S3 storage: nanio, plus the conditional writes Tansu's offsets depend on.

Tansu keeps each partition's high watermark in an object and updates it optimistically: a
PUT with `If-None-Match: *` (create) or `If-Match: <etag>` (update), expecting 412 when the
object changed. nanio 0.1.7 ignores both headers, so after a restart Tansu "creates" the
watermark afresh, hands out offset 0 again and overwrites the stored records. This server
is nanio's own app with those two preconditions enforced on PUT.

Run as `python -m streams.broker.storage --data-dir D --host H --port P`, with nanio's
NANIO_ACCESS_KEY and NANIO_SECRET_KEY in the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class ConditionalPut:
    """ASGI middleware: a PUT whose If-None-Match / If-Match does not hold gets 412.

    Check and write run under one lock per object, so two writers holding the same etag
    cannot both succeed.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        if_none_match = headers.get(b"if-none-match")
        if_match = headers.get(b"if-match")
        bucket, _, key = scope.get("path", "").lstrip("/").partition("/")
        if scope["type"] != "http" or scope["method"] != "PUT" or not key:
            await self.app(scope, receive, send)
            return
        if if_none_match is None and if_match is None:
            await self.app(scope, receive, send)
            return
        async with self._locks[f"{bucket}/{key}"]:
            current = _current_etag(scope, bucket, key)
            if not _holds(current, if_none_match, if_match):
                await _precondition_failed(send, f"{bucket}/{key}")
                return
            await self.app(scope, receive, send)


def _holds(current: str | None, if_none_match: bytes | None, if_match: bytes | None) -> bool:
    """Whether a write may go ahead, given the object's current etag (None: absent)."""
    if (
        if_none_match is not None
        and current is not None
        and (if_none_match.strip() == b"*" or _etag(if_none_match) == current)
    ):
        return False
    return if_match is None or (current is not None and _etag(if_match) == current)


def _etag(value: bytes | str) -> str:
    text = value.decode() if isinstance(value, bytes) else value
    return text.strip().removeprefix("W/").strip('"')


def _current_etag(scope: Scope, bucket: str, key: str) -> str | None:
    from nanio.errors import S3Error

    storage = scope["app"].state.storage
    try:
        return _etag(storage.head_object(bucket, key).etag)
    except S3Error:
        return None


async def _precondition_failed(send: Send, resource: str) -> None:
    from nanio.errors import PreconditionFailed

    error = PreconditionFailed(resource=resource)
    body = error.to_xml()
    await send(
        {
            "type": "http.response.start",
            "status": error.http_status,
            "headers": [
                (b"content-type", b"application/xml"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def build_app(data_dir: Path) -> App:
    from nanio.app import build_app as build_nanio_app
    from starlette.middleware import Middleware

    os.environ["NANIO_DATA_DIR"] = str(data_dir)
    app = build_nanio_app()
    # Innermost, after nanio's signature check: unsigned requests learn nothing from a 412.
    app.user_middleware.append(Middleware(ConditionalPut))
    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(
        build_app(args.data_dir.resolve()),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
