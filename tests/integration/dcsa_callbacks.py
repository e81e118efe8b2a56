"""A real `quaywatch terminal serve` for tests: a site with one DCSA subscription whose secret
the test makes and hands over in a variable, and a publisher's client that signs its posts."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

from config.kafka import Kafka
from config.loading import load_site
from streams.terminal.signature import SIGNATURE_HEADER, SUBSCRIPTION_HEADER, new_secret, sign
from tests.integration.quaywatch_processes import LOOPBACK, Process, start, wait_for, write_site

SECRET_ENV = "QUAYWATCH_TEST_DCSA_SECRET"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> dict[str, object]:
        return json.loads(self.body)


@dataclass
class CallbackEndpoint:
    process: Process
    port: int
    path: str
    subscription_id: UUID
    secret: str

    def signed_headers(self, body: bytes, secret: str | None = None) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            SUBSCRIPTION_HEADER: str(self.subscription_id),
            SIGNATURE_HEADER: sign(body, secret or self.secret),
        }

    def request(
        self,
        method: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        path: str | None = None,
        timeout: float = 20,
    ) -> Answer:
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=timeout)
        try:
            connection.request(method, path or self.path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, response.read())
        finally:
            connection.close()

    def post_signed(self, body: bytes, timeout: float = 20) -> Answer:
        return self.request("POST", body, self.signed_headers(body), timeout=timeout)


def start_callback_endpoint(directory: Path, kafka: Kafka, **callback: object) -> CallbackEndpoint:
    """The endpoint of a fresh site on loopback, answering HEAD; `callback` adds site settings."""
    subscription_id, secret = uuid4(), new_secret()
    subscriptions = [{"id": str(subscription_id), "secret_env": SECRET_ENV}]
    site_path = write_site(directory, kafka, callback={"subscriptions": subscriptions, **callback})
    site = load_site(site_path)
    process = start(
        "terminal",
        ["terminal", "serve", "--config", str(site_path)],
        site.metrics.terminal_port,
        directory,
        env={SECRET_ENV: secret},
    )
    endpoint = CallbackEndpoint(
        process,
        site.terminal.callback.port,
        site.terminal.callback.path,
        subscription_id,
        secret,
    )

    def answers_head() -> bool:
        try:
            return endpoint.request("HEAD", timeout=2).status == 204
        except OSError:
            return False

    wait_for("the callback endpoint", answers_head, 60, process)
    return endpoint
