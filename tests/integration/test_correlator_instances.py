"""Three correlator processes over twelve access partitions, one of them killed again and again
while a night streams in with the terminal feed's batches late and shuffled: the alert log is
the one a single uninterrupted correlator writes, revision by revision, body by body."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from config.correlation import Correlation
from config.kafka import Kafka
from streams.access import AccessEvent
from streams.alerts import Alert
from streams.broker.embedded import EmbeddedBroker
from streams.correlator.engine import alert_id_for
from streams.reader import TopicReader
from streams.terminal.events import ContainerEvent
from streams.terminal.publish import publish_feed_items
from streams.topics import ALERTS
from tests.fixtures.broker import fresh_topics
from tests.fixtures.port_story import (
    StoryWriters,
    access_event,
    port_night,
    produce,
    story_site,
)
from tests.integration.test_correlator_restarts import stop

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BLOCKS = 30
PARTITIONS = 12
# About 20,000 events: 12,000 access events and 8,000 container events.
NIGHT = port_night(seed=11, containers=4300, incidents=4000, blocks=BLOCKS)
FEED_WINDOW = timedelta(minutes=2)  # the terminal sends what it recorded every two minutes
LATE_SHARE = 0.15  # of its batches arrive one to three hours late
STREAM_SECONDS = 60.0  # the night's six hours, streamed this fast
KILLS = 5
# An alert's body as published, less what differs between any two runs: when it was handed to
# Kafka, and the hash of a site file that names another topic prefix.
RUN_SPECIFIC = ("published_at", "config_hash")
AlertLog = dict[tuple[str, int], str]


@dataclass
class Delivery:
    """What reaches quaywatch at one moment of the night: a terminal batch, ingested then, or
    the access events a camera sends until the next delivery."""

    at: datetime
    container_events: list[ContainerEvent]
    access_events: list[AccessEvent]


def deliveries(seed: int = 5) -> list[Delivery]:
    """The night in order of arrival: access events when seen, container events in batches per
    feed window, each sent shuffled at the window's end, some of them hours late."""
    rng = random.Random(seed)
    batches: dict[int, list[ContainerEvent]] = {}
    start = NIGHT[0].event_time
    for event in NIGHT:
        if isinstance(event, ContainerEvent):
            # The adapter's reading: stamped when the batch is published, not before.
            event = event.model_copy(update={"ingested_at": None})
            batches.setdefault(int((event.recorded_at - start) / FEED_WINDOW), []).append(event)
    arrivals: list[tuple[datetime, list[ContainerEvent]]] = []
    for window, batch in batches.items():
        sent = start + (window + 1) * FEED_WINDOW
        if rng.random() < LATE_SHARE:
            sent += timedelta(hours=rng.uniform(1, 3))
        rng.shuffle(batch)
        arrivals.append((sent, batch))
    arrivals.sort(key=lambda arrival: arrival[0])
    access = [event for event in NIGHT if isinstance(event, AccessEvent)]
    schedule: list[Delivery] = []
    for sent, batch in arrivals:
        schedule.append(Delivery(sent, batch, []))
    schedule.insert(0, Delivery(start - FEED_WINDOW, [], []))
    index = 0
    for event in access:
        while index + 1 < len(schedule) and schedule[index + 1].at <= event.event_time:
            index += 1
        schedule[index].access_events.append(event)
    # The next morning someone walks through every zone: each access partition is read past
    # the night, so every alert of the night is judged to the end of its grace period.
    morning = schedule[-1].at + timedelta(days=1)
    schedule.append(Delivery(morning, [], [sweep(zone, morning) for zone in ZONES]))
    return schedule


ZONES = [f"zone-B{n}" for n in range(BLOCKS + 1)]


def sweep(zone: str, at: datetime) -> AccessEvent:
    blocks = [zone.removeprefix("zone-")] if zone != f"zone-B{BLOCKS}" else []
    return access_event(zone, at, f"morning-{zone}", blocks)


SCHEDULE = deliveries()
MORNING = {alert_id_for(f"morning-{zone}") for zone in ZONES}


def deliver(client: StoryWriters, delivery: Delivery) -> None:
    """The terminal batch through the feed adapter's publish path, ingested at its moment of
    the night and acknowledged, then the camera's access events."""
    if delivery.container_events:
        at = delivery.at
        publish_feed_items(client.terminal, delivery.container_events, "dcsa", clock=lambda: at)
    if delivery.access_events:
        produce(client, list(delivery.access_events))


def start_correlator(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`quaywatch correlate` in a consumer group of its site file's own (the site id is the
    same in every test on this broker)."""
    group = f"{config.parent.name}-correlators"
    command = [sys.executable, "-m", "quaywatch", "correlate", "--config", str(config)]
    with log.open("ab") as output:
        return subprocess.Popen(
            [*command, "--group-id", group, "--metrics-port", "0"],
            cwd=REPO,
            stdout=output,
            stderr=output,
        )


def site_file(directory: Path, kafka: Kafka) -> Path:
    # A partition's alerts are judged as far as its access events go: the morning's, not a
    # quiet spell of the stream (a machine too busy to send for a while). Checkpoints every
    # thousand records: the restarts start from one.
    correlation = Correlation(
        grace_seconds=120, quiet_partition_seconds=60, checkpoint_every_records=1000
    )
    site = story_site(kafka, BLOCKS, correlation)
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(site.model_dump(mode="json")))
    return path


def alert_log(
    kafka: Kafka,
    expected: AlertLog | None = None,
    timeout_s: float = 300,
    same_body_again: bool = False,
) -> AlertLog:
    """Every (alert id, revision) on the alerts topic with its body, once the morning's alerts
    are out and nothing new came for a few seconds (and it is the `expected` log, when one is
    given, or the timeout passed); fails on one published twice (a crash repeats none, with
    the same body or another), or, with `same_body_again`, on one published twice with two
    different bodies."""
    reader = TopicReader(kafka, [ALERTS]).wait_for_partitions()
    bodies: dict[tuple[str, int], list[str]] = {}
    started = last_change = time.monotonic()

    def done() -> bool:
        if time.monotonic() - started > timeout_s:
            return True
        if time.monotonic() - last_change < 3 or not {k for k, _ in bodies} >= MORNING:
            return False
        return expected is None or {k: v[0] for k, v in bodies.items()} == expected

    try:
        while not done():
            for received in reader.poll(timeout_ms=200):
                alert: Alert = received.message()
                body = alert.model_dump(mode="json", exclude=set(RUN_SPECIFIC))
                bodies.setdefault((alert.alert_id, alert.revision), []).append(
                    json.dumps(body, sort_keys=True)
                )
                last_change = time.monotonic()
    finally:
        reader.close()
    twice = {key: versions for key, versions in bodies.items() if len(versions) > 1}
    if same_body_again:
        twice = {key: versions for key, versions in twice.items() if len(set(versions)) > 1}
    assert not twice, f"published more than once: {sorted(twice)[:5]}"
    return {key: versions[0] for key, versions in bodies.items()}


def differences(expected: AlertLog, got: AlertLog) -> str:
    missing = sorted(expected.keys() - got.keys())
    extra = sorted(got.keys() - expected.keys())
    changed = sorted(k for k in expected.keys() & got.keys() if expected[k] != got[k])
    first = changed[0] if changed else None
    detail = f"\nexpected {expected[first]}\ngot      {got[first]}" if first else ""
    return f"missing {missing[:5]}, extra {extra[:5]}, different {changed[:5]}{detail}"


class Victim:
    """The correlator killed with SIGKILL, each time at a random moment once it owns access
    partitions (mid-poll, mid-publish, before a commit), and started again at once."""

    def __init__(self, log: Path, process: subprocess.Popen[bytes], rng: random.Random) -> None:
        self.log, self.process, self.rng = log, process, rng
        self.kills = 0
        self._owned_before = 0
        self._turns_left: int | None = None

    def now_and_then(self, config: Path, until: int) -> None:
        if self.kills >= until:
            return
        if self._turns_left is None:
            owned = self.log.read_text().count("owning access partitions")
            if owned == self._owned_before:
                return  # still starting: reading the topics, joining the group
            self._owned_before = owned
            self._turns_left = self.rng.randint(2, 25)
        self._turns_left -= 1
        if self._turns_left > 0:
            return
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.kills += 1
        self._turns_left = None
        self.process = start_correlator(config, self.log)


@pytest.fixture(scope="module")
def uninterrupted(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> AlertLog:
    """The log of one correlator that reads the whole night, delivered before it starts."""
    kafka = fresh_topics(broker.bootstrap, partitions=PARTITIONS)
    directory = tmp_path_factory.mktemp("one-correlator")
    client = StoryWriters(kafka, linger_ms=20)
    for delivery in SCHEDULE:
        deliver(client, delivery)
    client.close()
    process = start_correlator(site_file(directory, kafka), directory / "correlator.log")
    try:
        log = alert_log(kafka)
    finally:
        stop(process)
    assert log, (directory / "correlator.log").read_text()[-3000:]
    return log


def test_the_night_is_twenty_thousand_events_with_late_shuffled_terminal_batches() -> None:
    events = sum(len(d.container_events) + len(d.access_events) for d in SCHEDULE)
    assert 19_000 <= events <= 21_000
    late = [
        event
        for delivery in SCHEDULE
        for event in delivery.container_events
        if delivery.at - event.recorded_at > timedelta(hours=1)
    ]
    assert len(late) > 500


def test_three_correlators_one_killed_five_times_publish_the_log_of_one(
    broker: EmbeddedBroker, tmp_path: Path, uninterrupted: AlertLog
) -> None:
    kafka = fresh_topics(broker.bootstrap, partitions=PARTITIONS)
    config = site_file(tmp_path, kafka)
    logs = [tmp_path / f"correlator-{n}.log" for n in range(3)]
    processes = [start_correlator(config, log) for log in logs]
    rng = random.Random(3)
    total = sum(len(d.container_events) + len(d.access_events) for d in SCHEDULE)
    client = StoryWriters(kafka, linger_ms=5)
    victim = Victim(logs[0], processes[0], rng)
    try:
        for delivery in SCHEDULE:
            deliver(client, delivery)
            events = len(delivery.container_events) + len(delivery.access_events)
            time.sleep(STREAM_SECONDS * events / total)
            victim.now_and_then(config, until=KILLS)
        deadline = time.monotonic() + 300
        while victim.kills < KILLS and time.monotonic() < deadline:  # a slow machine
            time.sleep(0.2)
            victim.now_and_then(config, until=KILLS)
        processes[0] = victim.process
        log = alert_log(kafka, uninterrupted)
    finally:
        client.close()
        processes[0] = victim.process
        for process in processes:
            stop(process)
    kills = victim.kills
    assert kills == KILLS
    tails = "\n".join(path.read_text()[-1500:] for path in logs)
    assert log == uninterrupted, differences(uninterrupted, log) + "\n" + tails


STALLS = 2
# Past the consumer group's session timeout: the others are given its partitions meanwhile.
STALL_SECONDS = 10.0


def test_a_correlator_stalled_past_its_session_timeout_publishes_the_log_of_one(
    broker: EmbeddedBroker, tmp_path: Path, uninterrupted: AlertLog
) -> None:
    """One of three correlators is stopped (SIGSTOP: a frozen machine) twice for longer than
    the session timeout. Woken, it has lost its partitions to the others: it must publish
    nothing they publish differently and rebuild whatever it is given back. What it had in
    flight when frozen may go out after the new owner's identical revision, so the same body
    twice is allowed here, and two bodies for one revision are not."""
    kafka = fresh_topics(broker.bootstrap, partitions=PARTITIONS)
    config = site_file(tmp_path, kafka)
    logs = [tmp_path / f"correlator-{n}.log" for n in range(3)]
    processes = [start_correlator(config, log) for log in logs]
    total = sum(len(d.container_events) + len(d.access_events) for d in SCHEDULE)
    stall_at = {len(SCHEDULE) * n // (STALLS + 1) for n in range(1, STALLS + 1)}
    client = StoryWriters(kafka, linger_ms=5)
    stalls = 0
    try:
        for number, delivery in enumerate(SCHEDULE):
            deliver(client, delivery)
            events = len(delivery.container_events) + len(delivery.access_events)
            time.sleep(STREAM_SECONDS * events / total)
            if number in stall_at:
                os.kill(processes[1].pid, signal.SIGSTOP)
                time.sleep(STALL_SECONDS)
                os.kill(processes[1].pid, signal.SIGCONT)
                stalls += 1
        log = alert_log(kafka, uninterrupted, same_body_again=True)
    finally:
        client.close()
        for process in processes:
            stop(process)
    assert stalls == STALLS
    stalled = logs[1].read_text()
    assert "lost access partitions" in stalled or "membership of the consumer group in doubt" in (
        stalled
    ), stalled[-3000:]
    tails = "\n".join(path.read_text()[-1500:] for path in logs)
    assert log == uninterrupted, differences(uninterrupted, log) + "\n" + tails
