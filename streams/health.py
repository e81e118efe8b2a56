"""`/metrics` and `/healthz` for every quaywatch process, on its metrics port.

Healthy means the process's Kafka settings (addresses, TLS, SASL) get an answer from the
broker. The probe uses its own short-lived admin client rather than the process's producer
or consumer: kafka-python clients are not thread-safe, and a probe must not disturb the
loop it reports on. Answers are cached for a few seconds, so a tight liveness probe or
several scrapers cost one metadata round trip per period, not one per request.

    server = serve_health(registry, BrokerProbe(site.kafka), "127.0.0.1", 9102)
    ...
    server.stop()
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from config.kafka import Kafka
from streams.kafka import admin, answer_within

log = logging.getLogger(__name__)

# What a health check returns: None when healthy, else why not, in words for the operator.
Problem = Callable[[], str | None]


class BrokerProbe:
    """Whether the broker answers a metadata request with these settings; cached `cache_s`."""

    def __init__(self, kafka: Kafka, timeout_s: float = 2.0, cache_s: float = 5.0) -> None:
        self.kafka = kafka
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._problem: str | None = None
        self._pending: threading.Thread | None = None
        self._answer: list[str | None] = []

    def __call__(self) -> str | None:
        with self._lock:
            now = time.monotonic()
            if self._checked_at is None or now - self._checked_at >= self.cache_s:
                self._problem = self._check()
                self._checked_at = time.monotonic()
            return self._problem

    def _check(self) -> str | None:
        # kafka-python's own timeouts do not bound everything: a TLS client facing a
        # plaintext port waits for a handshake that never comes. The round trip therefore
        # runs on its own thread, and at most one is ever outstanding.
        servers = ",".join(self.kafka.bootstrap_servers)
        if self._pending is None or not self._pending.is_alive():
            answer: list[str | None] = []
            self._answer = answer
            self._pending = threading.Thread(
                target=lambda: answer.append(self._round_trip(servers)),
                name="health-probe",
                daemon=True,
            )
            self._pending.start()
        self._pending.join(self.timeout_s + 1.0)
        if self._answer:
            return self._answer[0]
        return f"Kafka at {servers} gave no answer within {self.timeout_s + 1.0:.0f} s"

    def _round_trip(self, servers: str) -> str | None:
        timeout_ms = int(self.timeout_s * 1000)
        try:
            client = admin(self.kafka, client_id="quaywatch-health", **answer_within(timeout_ms))
        except (KafkaError, OSError) as error:
            return f"Kafka at {servers} unreachable: {error!r}"
        try:
            client.describe_cluster()
        except (KafkaError, OSError) as error:
            return f"Kafka at {servers} does not answer metadata requests: {error!r}"
        finally:
            client.close()
        return None


def health_answer(problem: str | None) -> tuple[HTTPStatus, dict[str, str]]:
    """The status and JSON body of /healthz, the same in every process and the console."""
    if problem is None:
        return HTTPStatus.OK, {"status": "ok"}
    return HTTPStatus.SERVICE_UNAVAILABLE, {"status": "unhealthy", "reason": problem}


class HealthServer:
    """A small threaded HTTP server: GET /metrics (Prometheus text) and GET /healthz."""

    def __init__(self, registry: CollectorRegistry, problem: Problem, host: str, port: int):
        self.registry = registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(HTTPStatus.OK, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    status, body = health_answer(problem())
                    self._send(status, json.dumps(body).encode(), "application/json")
                else:
                    self._send(HTTPStatus.NOT_FOUND, b"/metrics or /healthz\n", "text/plain")

            def _send(self, status: HTTPStatus, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                # Probes and scrapes come every few seconds; they are not worth a log line.
                log.debug("%s " + format, self.address_string(), *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health-http", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("metrics on %s/metrics, health on %s/healthz", self.url, self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve_health(
    registry: CollectorRegistry, problem: Problem, host: str, port: int
) -> HealthServer | None:
    """Serve /metrics and /healthz on host:port in the background; port 0 turns both off."""
    if not port:
        return None
    return HealthServer(registry, problem, host, port).start()
