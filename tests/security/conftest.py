"""One real `quaywatch terminal serve` per test module, on the session broker, and the checks
every attack test makes: what reached the topics, what the process counted, how big it grew."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from stdnum import iso6346

from config.kafka import Kafka
from streams.broker.embedded import EmbeddedBroker
from streams.reader import TopicReader
from streams.terminal.signature import SIGNATURE_HEADER, SUBSCRIPTION_HEADER
from streams.topics import TERMINAL
from tests.fixtures.broker import fresh_topics
from tests.integration.dcsa_callbacks import CallbackEndpoint, start_callback_endpoint
from tests.integration.quaywatch_processes import LOOPBACK, get
from tests.unit.test_terminal_adapters import dcsa_discharge

pytestmark = pytest.mark.integration

_serials = itertools.count(100001)
# What the endpoint may grow to under attack; idle it holds about 100 MiB.
RSS_BOUND = 256 * 1024 * 1024


def new_container_number() -> str:
    """A container number no other post of the session uses, with its right check digit."""
    prefix = f"QWTU{next(_serials):06d}"
    return prefix + iso6346.calc_check_digit(prefix)


def discharge_batch(container_number: str) -> bytes:
    """A DCSA callback body: the discharge of `container_number`."""
    return json.dumps(
        [dcsa_discharge(equipmentReference=container_number, eventID=container_number)]
    ).encode()


@dataclass
class Target:
    endpoint: CallbackEndpoint
    kafka: Kafka

    def published_until(self, container_number: str, timeout_s: float = 30) -> list[str]:
        """Container numbers on `terminal`, from the start until `container_number` shows up:
        anything published before it was acknowledged before it, so is readable by then."""
        reader = TopicReader(self.kafka, [TERMINAL]).wait_for_partitions()
        seen: list[str] = []
        deadline = time.monotonic() + timeout_s
        try:
            while container_number not in seen and time.monotonic() < deadline:
                seen += [
                    TERMINAL.decode(r.record.value).container_number
                    for r in reader.poll(timeout_ms=200)
                ]
            seen += [
                TERMINAL.decode(r.record.value).container_number
                for r in reader.poll(timeout_ms=200)
            ]
        finally:
            reader.close()
        assert container_number in seen, f"{container_number} never reached the topic: {seen}"
        return seen

    def metric(self, name: str) -> dict[tuple[str, ...], float]:
        """The samples of one metric on the process's /metrics, by their label values."""
        status, text = get(f"{self.endpoint.process.url}/metrics")
        assert status == 200, text
        return {
            tuple(sample.labels.values()): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        }

    def refusals(self) -> dict[str, float]:
        """quaywatch_terminal_callbacks_refused_total by reason."""
        refused = self.metric("quaywatch_terminal_callbacks_refused_total")
        return {reason: value for (reason,), value in refused.items()}

    def rss_bytes(self) -> int:
        """Resident memory of the endpoint process, from /proc/PID/status."""
        status = Path(f"/proc/{self.endpoint.process.popen.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1]) * 1024


def connect(target: Target) -> socket.socket:
    return socket.create_connection((LOOPBACK, target.endpoint.port), timeout=10)


def head(target: Target, *headers: str) -> bytes:
    lines = [f"POST {target.endpoint.path} HTTP/1.1", f"Host: {LOOPBACK}", *headers, "", ""]
    return "\r\n".join(lines).encode()


def signed_head(target: Target, body: bytes, *headers: str) -> bytes:
    signed = target.endpoint.signed_headers(body)
    return head(
        target,
        f"{SUBSCRIPTION_HEADER}: {signed[SUBSCRIPTION_HEADER]}",
        f"{SIGNATURE_HEADER}: {signed[SIGNATURE_HEADER]}",
        *headers,
    )


def status_of(connection: socket.socket) -> int:
    """The status code the endpoint answers on this connection."""
    answer = b""
    while b"\r\n" not in answer:
        received = connection.recv(4096)
        if not received:
            raise AssertionError(f"the endpoint closed the connection after {answer!r}")
        answer += received
    return int(answer.split(b" ", 2)[1])


@pytest.fixture(scope="module")
def target(
    broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Target]:
    """The endpoint of a fresh site; a module's `ENDPOINT_SETTINGS` go in terminal.callback."""
    kafka = fresh_topics(broker.bootstrap)
    settings = getattr(request.module, "ENDPOINT_SETTINGS", {})
    endpoint = start_callback_endpoint(tmp_path_factory.mktemp("endpoint"), kafka, **settings)
    try:
        yield Target(endpoint, kafka)
    finally:
        endpoint.process.stop()
