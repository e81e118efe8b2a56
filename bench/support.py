"""What the benches share: the size of the night they run, the bare kafka-python reading each
figure is held against, the roles' signing keys their producers sign with, and how loaded the
machine was while they ran."""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from config.kafka import Kafka
from streams.access import AccessEvent
from streams.signing import make_role_keys, role_key_environment
from streams.terminal.events import ContainerEvent
from streams.topics import Topic
from tests.fixtures.port_story import StoryWriters, produce


def sign_as_every_role() -> None:
    """Keys for every writer role in a temporary folder, given to this process's producers as a
    deployment would (the stories' sites trust them)."""
    directory = Path(tempfile.mkdtemp(prefix="bench-keys-"))
    make_role_keys(directory)
    os.environ.update(role_key_environment(directory))


def publish(kafka: Kafka, events: Sequence[ContainerEvent | AccessEvent]) -> None:
    """Put a night's events on their topics, signed as their roles, in large batches."""
    client = StoryWriters(kafka, linger_ms=20, batch_size=256 * 1024)
    produce(client, list(events))
    client.close()


def night_size(
    description: str | None, containers: int, incidents: int, blocks: int
) -> argparse.Namespace:
    """How large a made-up port night the bench runs: the defaults given, or the command line's."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--containers", type=int, default=containers)
    parser.add_argument("--incidents", type=int, default=incidents)
    parser.add_argument("--blocks", type=int, default=blocks)
    return parser.parse_args()


@dataclass
class Stopwatch:
    """Wall and CPU seconds of this process (all its threads: the Kafka clients' too) over a
    stretch: on a loaded, shared machine the CPU figure says more than the wall one."""

    wall_s: float = 0.0
    cpu_s: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall_s += time.perf_counter() - self._wall
        self.cpu_s += time.process_time() - self._cpu


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    return [round(load, 2) for load in os.getloadavg()]


PYTHON_DEFAULT_THRESHOLDS = (700, 10, 10)


def raw_consume(
    kafka: Kafka,
    topics: Sequence[Topic],
    total: int,
    max_records: int,
    watch: Stopwatch | None = None,
    check: Callable[[list[ConsumerRecord]], object] | None = None,
) -> float:
    """Records/s of a bare kafka-python consumer reading `topics` from the start; `watch`, when
    given, takes the reading's wall and CPU seconds; `check`, when given, is called with every
    poll's records. It reads with the interpreter's default collector thresholds, whatever the
    correlator measured before it set for its own loop, so that the baseline is the same bare
    consumer in every run."""
    tuned = gc.get_threshold()
    gc.set_threshold(*PYTHON_DEFAULT_THRESHOLDS)
    try:
        return _raw_consume(kafka, topics, total, max_records, watch, check)
    finally:
        gc.set_threshold(*tuned)


def _raw_consume(
    kafka: Kafka,
    topics: Sequence[Topic],
    total: int,
    max_records: int,
    watch: Stopwatch | None,
    check: Callable[[list[ConsumerRecord]], object] | None,
) -> float:
    reader = KafkaConsumer(bootstrap_servers=kafka.bootstrap_servers)
    reader.assign(
        [TopicPartition(kafka.topic(topic), p) for topic in topics for p in range(kafka.partitions)]
    )
    reader.seek_to_beginning()
    count, stretch = 0, Stopwatch()
    with stretch:
        while count < total:
            polled = reader.poll(timeout_ms=500, max_records=max_records)
            count += sum(len(records) for records in polled.values())
            if check is not None:
                check([record for records in polled.values() for record in records])
    reader.close()
    if watch is not None:
        watch.wall_s, watch.cpu_s = stretch.wall_s, stretch.cpu_s
    return count / stretch.wall_s
