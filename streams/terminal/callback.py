"""The HTTP endpoint for DCSA subscription callbacks (FastAPI under uvicorn): a signed POST of a
JSON array of events onto the `terminal` topic, counts back.

Only the site's callback path answers: HEAD (DCSA checks a callback URL before subscribing)
and POST. A POST is refused before anything is published unless it names a subscription of the
site and carries its `Notification-Signature` over the exact body (401); its declared or read
length must be within the limit (400, 413), and it must arrive within the read deadline.
The bodies being read or judged at any one time hold at most BODIES_AT_ONCE times the limit
between them; a body that would take more answers 503, and the sender delivers it again.

The answer comes only after the broker acknowledged every event and dead letter, so a 200
means nothing is lost; a broker failure answers 503 and the sender delivers again (event ids
are kept, so a redelivery is recognised downstream). Parsing a body runs on a worker thread,
next to other senders' bodies; only publishing waits its turn, so each subscription's batches
reach the topic in the order they arrived.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from uuid import UUID

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from kafka.errors import KafkaError
from prometheus_client import Gauge
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from config.terminal import DcsaCallback
from streams.listening import listening_socket
from streams.terminal.events import FeedItem
from streams.terminal.feed_text import NotText, feed_text
from streams.terminal.metrics import Refusal, TerminalMetrics
from streams.terminal.publish import Published
from streams.terminal.read_deadline import deadline_protocol
from streams.terminal.signature import (
    SIGNATURE_HEADER,
    SUBSCRIPTION_HEADER,
    Refused,
    SubscriptionKeys,
)

log = logging.getLogger(__name__)

BODIES_AT_ONCE = 4  # the memory of callback bodies: at most this many of the largest at once
LISTEN_BACKLOG = 2048  # connections the kernel queues before accept, as uvicorn's default
MAX_HEAD_BYTES = 64 * 1024  # request line and headers; a DCSA callback needs a few hundred
_DIGITS = re.compile(r"[0-9]{1,20}")

Read = Callable[[str], list[FeedItem]]
Publish = Callable[[list[FeedItem]], Published]
Turn = asyncio.Future[None]  # set when a batch's publishing is over, however it ended


class BodyRefused(Exception):
    """A body the endpoint will not read, signed or not; the status it answers with."""

    def __init__(self, status: HTTPStatus, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class BodyBudget:
    """Bytes of callback bodies held at once, over all connections, and the gauge showing it."""

    def __init__(self, limit: int, gauge: Gauge) -> None:
        self.limit = limit
        self.held = 0
        self._gauge = gauge

    @contextmanager
    def holding(self) -> Iterator[Callable[[int], None]]:
        """`add(n)` for each n bytes read; all are given back when the block ends."""
        held = 0

        def add(size: int) -> None:
            nonlocal held
            if self.held + size > self.limit:
                raise BodyRefused(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    Refusal.busy,
                    f"the endpoint holds {self.held} bytes of other callbacks; deliver again",
                )
            self.held += size
            held += size
            self._gauge.set(self.held)

        try:
            yield add
        finally:
            self.held -= held
            self._gauge.set(self.held)


async def read_body(request: Request, max_bytes: int, hold: Callable[[int], None]) -> bytes:
    """The body, refused by its declared length before reading, or as soon as it grows too long
    (a chunked body declares none); `hold` is told of every chunk read."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not _DIGITS.fullmatch(declared):
            raise BodyRefused(
                HTTPStatus.BAD_REQUEST,
                Refusal.bad_length,
                f"Content-Length must be a number of bytes, got {declared[:40]!r}",
            )
        if int(declared) > max_bytes:
            raise BodyRefused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                Refusal.too_large,
                f"Content-Length {declared} is over this endpoint's {max_bytes} bytes; "
                "send the events in smaller batches",
            )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        hold(len(chunk))
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise BodyRefused(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                Refusal.too_large,
                f"the body is over this endpoint's {max_bytes} bytes; "
                "send the events in smaller batches",
            )
    return b"".join(chunks)


class ArrivalOrder:
    """Per subscription, publishing takes turns in the order the bodies arrived."""

    def __init__(self) -> None:
        self._last: dict[UUID, Turn] = {}

    def ticket(self, subscription_id: UUID) -> tuple[Turn | None, Turn]:
        """The turn before this one (None: none pending) and this one, to be set when done."""
        mine: Turn = asyncio.get_running_loop().create_future()
        previous = self._last.get(subscription_id)
        self._last[subscription_id] = mine
        return previous, mine

    def done(self, subscription_id: UUID, mine: Turn) -> None:
        mine.set_result(None)
        if self._last.get(subscription_id) is mine:
            del self._last[subscription_id]


def _refusal(status: HTTPStatus, message: str) -> JSONResponse:
    # A refused sender may still be sending; closing stops the endpoint reading the rest.
    return JSONResponse({"error": message}, status_code=status, headers={"Connection": "close"})


def callback_app(
    keys: SubscriptionKeys,
    read: Read,
    publish: Publish,
    metrics: TerminalMetrics,
    limits: DcsaCallback,
) -> FastAPI:
    """The endpoint's web app: `read` judges a body into feed items, `publish` sends them and
    returns once the broker acknowledged them."""
    app = FastAPI(title="quaywatch DCSA callbacks", docs_url=None, redoc_url=None, openapi_url=None)
    order = ArrivalOrder()
    budget = BodyBudget(BODIES_AT_ONCE * limits.max_body_bytes, metrics.callback_body_bytes)

    @app.head(limits.path)
    def callback_url_check() -> Response:
        return Response(status_code=HTTPStatus.NO_CONTENT)

    @app.post(limits.path)
    async def take_callback(request: Request) -> Response:
        with budget.holding() as hold:
            return await judge_and_publish(request, hold)

    async def judge_and_publish(request: Request, hold: Callable[[int], None]) -> Response:
        try:
            claim = keys.claim(
                request.headers.get(SUBSCRIPTION_HEADER), request.headers.get(SIGNATURE_HEADER)
            )
            body = await read_body(request, limits.max_body_bytes, hold)
            claim.verify(body)
        except Refused as refused:
            metrics.refused(refused.reason)
            log.warning("callback from %s refused: %s", request.client, refused)
            return _refusal(HTTPStatus.UNAUTHORIZED, str(refused))
        except BodyRefused as refused:
            metrics.refused(refused.reason)
            return _refusal(refused.status, str(refused))
        except ClientDisconnect:
            return Response(status_code=HTTPStatus.BAD_REQUEST)  # nobody is left to read it
        try:
            text = feed_text(body)
        except NotText as refused:
            # Signed, but not a DCSA document: refused whole rather than read as mojibake.
            metrics.refused(Refusal.not_text)
            return _refusal(HTTPStatus.BAD_REQUEST, f"body refused, {refused}")
        previous, mine = order.ticket(claim.subscription_id)
        try:
            items = await run_in_threadpool(read, text)
            if previous is not None:
                await asyncio.shield(previous)
            published = await run_in_threadpool(publish, items)
        except KafkaError as error:
            log.error("cannot publish a callback batch: %s", error)
            return JSONResponse(
                {"error": f"the broker did not take the batch ({error}); deliver it again"},
                status_code=HTTPStatus.SERVICE_UNAVAILABLE,
            )
        finally:
            order.done(claim.subscription_id, mine)
        return JSONResponse(
            {"accepted": published.container_events, "rejected": published.rejected}
        )

    return app


class CallbackServer:
    """The app under uvicorn on `host:port` (port 0 picks a free one), bound at construction."""

    def __init__(
        self,
        app: FastAPI,
        host: str,
        port: int,
        limits: DcsaCallback,
        on_slow: Callable[[], None],
    ) -> None:
        self._socket = listening_socket(host, port, "DCSA callbacks")
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                http=deadline_protocol(limits.read_timeout_seconds, on_slow),
                limit_concurrency=limits.max_connections,
                backlog=LISTEN_BACKLOG,
                h11_max_incomplete_event_size=MAX_HEAD_BYTES,
                timeout_keep_alive=5,
                timeout_graceful_shutdown=5,
                log_level="warning",
                access_log=False,
                lifespan="off",  # no hooks; with it on, Ctrl-C logs a cancelled-task traceback
            )
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def started(self) -> bool:
        return self._server.started

    def stop(self) -> None:
        """Ask a server serving on another thread to finish (a signal does it on the main one)."""
        self._server.should_exit = True

    def serve(self) -> None:
        """Serve on this thread until SIGINT or SIGTERM, or stop()."""
        try:
            self._server.run(sockets=[self._socket])
        except KeyboardInterrupt:
            pass  # uvicorn stops on the signal, then raises it again: the normal way to stop
        finally:
            self._socket.close()
