"""/healthz follows the broker: 503 with the reason once it is stopped, 200 once it is back.

The broker is this test's own, on a fixed port, so that stopping it touches no other test
and a restart comes back where the processes' bootstrap address points.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from config.kafka import Kafka
from streams.broker.embedded import EmbeddedBroker, free_port
from streams.health import BrokerProbe, HealthServer
from streams.topics import create_topics
from tests.integration.quaywatch_processes import (
    Process,
    get,
    health,
    start_services,
    wait_for,
    write_site,
)

pytestmark = pytest.mark.integration

# The probe caches for 5 s and gives up on a round trip after 3 s.
SETTLE_S = 45


@pytest.fixture
def own_broker() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(data_dir=None, port=free_port(), memory=True).start()
    try:
        yield broker
    finally:
        broker.stop()


def answers(processes: list[Process], status: int) -> bool:
    return all((found := health(p)) is not None and found[0] == status for p in processes)


def test_processes_turn_unhealthy_without_the_broker_and_healthy_when_it_is_back(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    kafka = Kafka(bootstrap_servers=[own_broker.bootstrap], topic_prefix="restart.")
    create_topics(kafka)
    site_path = write_site(tmp_path, kafka)
    processes = list(start_services(site_path, tmp_path).values())
    try:
        wait_for("healthy processes", lambda: answers(processes, 200), 90, *processes)

        own_broker.stop()
        wait_for("503 without the broker", lambda: answers(processes, 503), SETTLE_S, *processes)
        for process in processes:
            status, body = health(process)  # type: ignore[misc]
            assert body["status"] == "unhealthy", process.name
            assert own_broker.bootstrap in body["reason"], f"{process.name}: {body}"

        own_broker.start()
        wait_for("200 with the broker back", lambda: answers(processes, 200), SETTLE_S, *processes)
    finally:
        for process in processes:
            process.stop()


def test_probe_answers_within_its_deadline_and_caches(own_broker: EmbeddedBroker) -> None:
    probe = BrokerProbe(Kafka(bootstrap_servers=[own_broker.bootstrap]), cache_s=60)
    server = HealthServer(CollectorRegistry(), probe, "127.0.0.1", 0).start()
    try:
        assert probe() is None
        own_broker.stop()
        started = time.monotonic()
        assert probe() is None, "a cached answer is not asked again within cache_s"
        assert time.monotonic() - started < 0.5
        probe.cache_s = 0
        status, body = get(f"{server.url}/healthz")
        assert time.monotonic() - started < probe.timeout_s + 2
        assert status == 503 and own_broker.bootstrap in json.loads(body)["reason"]
    finally:
        server.stop()
