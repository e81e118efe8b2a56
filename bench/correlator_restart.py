"""A correlator restarted after weeks of history: how long until it correlates again, and how
much memory it holds, against bare kafka-python reading the same topics, on one embedded broker.

    python bench/correlator_restart.py [--container-events 1000000] [--alerts 50000]

Four simulated weeks of terminal news (container visits: discharge, customs selection,
inspection, release, gate-out, each batch ingested as it comes) and of alerts are put on their
topics. A first `quaywatch correlate` process starts with no checkpoint, reads all of it, and
writes a checkpoint of its container table; it is stopped, and a second one is started, as a
restart after weeks of running. Each is sent one new access event once started. Prints JSON:
seconds from each process start to its access event's alert on the alerts topic (`ready_s` of the
restart, target at most 30; `first_start_ready_s`, the baseline, reading the whole history), each
process's peak resident memory (`peak_rss_mb` of the restart, target at most 300), and the seconds
a bare kafka-python consumer takes to read the same history (`raw_read_s`).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import raw_consume, sign_as_every_role  # noqa: E402
from config.correlation import Correlation  # noqa: E402
from config.kafka import Kafka  # noqa: E402
from config.signing import WriterRole  # noqa: E402
from streams.alerts import Alert  # noqa: E402
from streams.broker.embedded import EmbeddedBroker  # noqa: E402
from streams.chain import ChainedProducer  # noqa: E402
from streams.correlator.checkpoint import load_latest  # noqa: E402
from streams.correlator.engine import alert_id_for  # noqa: E402
from streams.reader import TopicReader  # noqa: E402
from streams.record_check import RecordCheck  # noqa: E402
from streams.terminal.events import ContainerActivity, ContainerEvent  # noqa: E402
from streams.topics import ALERTS, TERMINAL, create_topics  # noqa: E402
from tests.fixtures.port_story import (  # noqa: E402
    STORY_START,
    StoryWriters,
    access_event,
    container_event,
    container_number,
    first_revision,
    produce,
    story_site,
)

REPO = Path(__file__).resolve().parents[1]
WEEKS = 4
BLOCKS = 200
VISIT = (  # what happens to a container in the yard, and how long after its discharge
    (ContainerActivity.selected_for_inspection, timedelta(hours=2)),
    (ContainerActivity.seal_removed, timedelta(hours=5)),
    (ContainerActivity.resealed, timedelta(hours=6)),
    (ContainerActivity.released, timedelta(hours=7)),
    (ContainerActivity.gated_out, timedelta(days=2)),
)


def weeks_of_news(count: int, rng: random.Random) -> list[ContainerEvent]:
    """About `count` container events over four weeks, ending at STORY_START, each ingested
    when it happened."""
    events: list[ContainerEvent] = []
    span = WEEKS * 7 * 86400
    serial = 0
    while len(events) < count:
        number = container_number(serial % 999_999, owner="QWR")
        serial += 1
        discharged = STORY_START - timedelta(seconds=rng.uniform(2 * 86400, span))
        block = f"B{serial % BLOCKS}"
        visit = [container_event(number, ContainerActivity.discharged, discharged, block)]
        for activity, after in VISIT[0 if rng.random() < 0.3 else 4 :]:
            visit.append(container_event(number, activity, discharged + after))
        events += visit
    events.sort(key=lambda event: event.event_time)
    return events[:count]


def weeks_of_alerts(count: int, rng: random.Random, config_hash: str) -> list[Alert]:
    """`count` alerts of the past four weeks, one revision each, as a correlator publishes them."""
    alerts = []
    for serial in range(count):
        seen = STORY_START - timedelta(seconds=rng.uniform(3600, WEEKS * 7 * 86400))
        alerts.append(first_revision(f"weeks-{serial}", serial % BLOCKS, seen, config_hash))
    alerts.sort(key=lambda alert: alert.event_time)
    return alerts


def publish_history(kafka: Kafka, news: list[ContainerEvent], alerts: list[Alert]) -> None:
    writers = StoryWriters(kafka, linger_ms=20, batch_size=256 * 1024)
    produce(writers, news)
    writers.close()
    correlator = ChainedProducer(kafka, WriterRole.correlator, linger_ms=20, batch_size=256 * 1024)
    futures = [correlator.send(ALERTS, alert.stamped()) for alert in alerts]
    correlator.flush()
    for future in futures:
        future.get(timeout=60)
    correlator.close()


def alert_of(kafka: Kafka, alert_id: str, timeout_s: float) -> float | None:
    """When the alert appeared on the alerts topic (time.monotonic), None if not in time."""
    reader = TopicReader(kafka, [ALERTS]).wait_for_partitions()
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for received in reader.poll(timeout_ms=200):
                if ALERTS.decode(received.record.value).alert_id == alert_id:
                    return time.monotonic()
    finally:
        reader.close()
    return None


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--container-events", type=int, default=1_000_000)
    parser.add_argument("--alerts", type=int, default=50_000)
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for ready")
    parser.add_argument(
        "--first-timeout", type=float, default=3600, help="seconds the first start may take"
    )
    args = parser.parse_args()
    sign_as_every_role()
    rng = random.Random(7)
    with EmbeddedBroker(data_dir=None, memory=True) as broker, tempfile.TemporaryDirectory() as d:
        kafka = Kafka(bootstrap_servers=[broker.bootstrap], topic_prefix="restart.")
        create_topics(kafka)
        site = story_site(kafka, BLOCKS, Correlation(grace_seconds=120))
        site_path = Path(d) / "site.yaml"
        site_path.write_text(yaml.safe_dump(site.model_dump(mode="json")))
        news = weeks_of_news(args.container_events, rng)
        alerts = weeks_of_alerts(args.alerts, rng, site.config_hash())
        publish_history(kafka, news, alerts)
        history = len(news) + len(alerts)
        started_raw = time.perf_counter()
        raw_consume(kafka, [TERMINAL, ALERTS], history, max_records=5000)
        raw_read_s = time.perf_counter() - started_raw

        first = start(kafka, site_path, Path(d) / "first.log", STORY_START, args.first_timeout)
        # The first process checkpoints its table once it has read the history; the restart
        # is measured from that checkpoint.
        checkpointed = checkpoint_of(kafka, RecordCheck.for_site(site.signing), len(news))
        first.stop()
        an_hour_later = STORY_START + timedelta(hours=1)
        restart = start(kafka, site_path, Path(d) / "restart.log", an_hour_later, args.timeout)
        restart.stop()
        restored = "state restored from checkpoint" in restart.log.read_text()
    print(
        json.dumps(
            {
                "container_events": len(news),
                "alerts": len(alerts),
                "checkpoint_written_s": checkpointed,
                "restored_from_checkpoint": restored,
                "ready_s": restart.ready_s,
                "ready_target_s": 30,
                "peak_rss_mb": restart.peak_rss_mb,
                "peak_rss_target_mb": 300,
                "first_start_ready_s": first.ready_s,
                "first_start_peak_rss_mb": first.peak_rss_mb,
                "raw_read_s": round(raw_read_s, 1),
            },
            indent=2,
        )
    )
    return 0 if restart.ready_s is not None and restored else 1


@dataclass
class Started:
    """A correlator process, how long it took to raise its first alert, and its memory."""

    process: subprocess.Popen[bytes]
    log: Path
    ready_s: float | None = None
    peak_rss_mb: float | None = None

    def stop(self) -> None:
        self.peak_rss_mb = round(peak_rss_mb(self.process.pid), 1)
        self.process.terminate()
        self.process.wait(timeout=60)


def checkpoint_of(kafka: Kafka, check: RecordCheck, terminal_records: int) -> float | None:
    """Seconds until a checkpoint covering every terminal record is on its topic."""
    began = time.monotonic()
    while time.monotonic() - began < 1800:
        loaded = load_latest(kafka, check)
        if loaded and sum(loaded.offsets["terminal"].values()) >= terminal_records:
            return round(time.monotonic() - began, 1)
        time.sleep(2)
    return None


def start(kafka: Kafka, site_path: Path, log: Path, at: datetime, timeout_s: float) -> Started:
    """Start `quaywatch correlate`, send an access event seen `at`, and wait for its alert."""
    incident = f"person-at-{at.isoformat()}"
    command = [sys.executable, "-m", "quaywatch", "correlate", "--config", str(site_path)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--metrics-port", "0"], cwd=REPO, stdout=output, stderr=output
        )
    started = Started(process, log)
    began = time.monotonic()
    writers = StoryWriters(kafka)
    produce(writers, [access_event("zone-B1", at, incident, ["B1"])])
    writers.close()
    seen = alert_of(kafka, alert_id_for(incident), timeout_s)
    if seen is not None:
        started.ready_s = round(seen - began, 1)
    return started


if __name__ == "__main__":
    sys.exit(main())
