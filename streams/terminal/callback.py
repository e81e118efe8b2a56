"""An HTTP endpoint for DCSA subscription callbacks: POST a JSON array of events, get counts back.

The answer comes only after the broker acknowledged every event and dead letter, so a 200
means nothing is lost; a broker failure answers 503 and the sender delivers again (event ids
are kept, so a redelivery is recognised downstream).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kafka.errors import KafkaError

from streams.terminal.publish import Published

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024

Ingest = Callable[[str], Published]


def callback_server(host: str, port: int, ingest: Ingest) -> ThreadingHTTPServer:
    """A server (not yet serving) that hands each POST body to `ingest`, one at a time."""
    lock = threading.Lock()  # one producer, and batches stay in the order they came

    class CallbackHandler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # DCSA checks a callback URL with HEAD before subscribing
            self.send_response(HTTPStatus.NO_CONTENT)
            self.end_headers()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            try:
                with lock:
                    published = ingest(body)
            except KafkaError as error:
                log.error("cannot publish a callback batch: %s", error)
                self._answer(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(error)})
                return
            self._answer(
                HTTPStatus.OK,
                {"accepted": published.container_events, "rejected": published.rejected},
            )

        def _answer(self, status: HTTPStatus, body: dict[str, object]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return ThreadingHTTPServer((host, port), CallbackHandler)
