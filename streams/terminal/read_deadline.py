"""uvicorn's h11 protocol with a deadline on each request: head and body must arrive in time.

uvicorn times out only the idle wait between two requests of a kept-alive connection, and any
byte cancels that; a sender that trickles a header or a body a byte a second holds its
connection (and a place under the concurrency limit) for as long as it likes. Here every
connection has `read_timeout_s` to deliver a whole request, from the moment it connected or
was last answered; the clock stops when the request's last body byte arrived (the answer may
take as long as publishing takes). A late sender gets 408 if nothing was answered yet, and is
disconnected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from uvicorn.protocols.http.h11_impl import H11Protocol

_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 40\r\n\r\nthe request did not arrive in time; bye\n"
)
assert len(_TIMEOUT_ANSWER.partition(b"\r\n\r\n")[2]) == 40


def deadline_protocol(read_timeout_s: float, on_timeout: Callable[[], None]) -> type[H11Protocol]:
    """An h11 protocol for `uvicorn.Config(http=...)`; `on_timeout` counts each late sender."""

    class DeadlineH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _answered: object = None  # the request cycle last answered when the clock started

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            super().handle_events()
            cycle = self.cycle
            if cycle is not None and cycle is not self._answered and not cycle.more_body:
                self._disarm()  # the whole of a new request is in

        def on_response_complete(self) -> None:
            # Armed first: a pipelined request already buffered is handled inside, and disarms.
            self._arm()
            super().on_response_complete()

        def _arm(self) -> None:
            self._disarm()
            self._answered = self.cycle
            self._deadline = self.loop.call_later(read_timeout_s, self._too_late)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_late(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            on_timeout()
            cycle = self.cycle
            if cycle is None or cycle is self._answered or not cycle.response_started:
                self.transport.write(_TIMEOUT_ANSWER)
            self.transport.close()

    return DeadlineH11Protocol
