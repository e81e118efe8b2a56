"""Correlator throughput against raw kafka-python consumption, on one embedded broker, one run.

    python bench/correlator.py [--containers 100000] [--incidents 5000]

Prints JSON: table memory for the containers, access events/s through the whole correlator
loop (consume, decode, join, classify, publish with acknowledgement, commit) and raw
kafka-python records/s over the same access topic, each per wall second and per CPU second of
this process; records/s of the same consumer checking every record as the correlator does;
alerts/s of the loop's own publishing (its `publish` calls, timed: encode, chain, sign, send,
wait for every acknowledgement); the loop's ceiling from those two (reading, checking and
publishing with no correlating); and the machine's load averages before and after.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import (  # noqa: E402
    Stopwatch,
    load_average,
    night_size,
    publish,
    raw_consume,
    sign_as_every_role,
)
from config.kafka import Kafka  # noqa: E402
from streams.alerts import Alert  # noqa: E402
from streams.broker.embedded import EmbeddedBroker  # noqa: E402
from streams.correlator.loop import Correlator  # noqa: E402
from streams.dead_letter import DeadLetter  # noqa: E402
from streams.record_check import RecordCheck  # noqa: E402
from streams.topics import ACCESS, create_topics  # noqa: E402
from tests.fixtures.port_story import port_night, story_site  # noqa: E402


def read_past(correlator: Correlator) -> int:
    """Access records the correlator has stepped past. Not the records polled: the first
    poll after an assignment is dropped, and the gained partitions read again from their
    committed offsets."""
    access = correlator.access
    return sum(access.position(partition) for partition in access.assignment())


class TimedCorrelator(Correlator):
    """The correlator, with the wall seconds of its `publish` calls added up: the loop's
    own publishing, with whatever the loop left cached (each container's encoding)."""

    publish_seconds = 0.0

    def publish(self, alerts: Sequence[Alert], rejects: Sequence[DeadLetter]) -> None:
        started = time.perf_counter()
        super().publish(alerts, rejects)
        self.publish_seconds += time.perf_counter() - started


def main() -> int:
    sign_as_every_role()
    load_before = load_average()
    args = night_size(__doc__, containers=100_000, incidents=5_000, blocks=200)

    night = port_night(7, args.containers, args.incidents, blocks=args.blocks)
    container_events = [e for e in night if e.schema_name == "container-event"]
    access_events = [e for e in night if e.schema_name == "access-event"]
    with EmbeddedBroker(data_dir=None, memory=True) as broker:
        kafka = Kafka(bootstrap_servers=[broker.bootstrap], topic_prefix="bench.")
        create_topics(kafka)
        publish(kafka, access_events)

        correlator = TimedCorrelator(story_site(kafka, args.blocks), kafka, group_id="bench")
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for event in container_events:  # the terminal topic's worth, straight into the table
            correlator.engine.on_container_event(event)
        table_bytes = sum(
            s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename")
        )
        tracemalloc.stop()

        correlator.catch_up()
        started = None
        while read_past(correlator) < len(access_events):
            records = correlator.access.poll(timeout_ms=500, max_records=1000)
            if records and started is None:
                # The group join is not the correlator's speed.
                started = (time.perf_counter(), time.process_time())
            correlator.step(records)
        assert started is not None
        correlated = len(access_events) / (time.perf_counter() - started[0])
        correlated_cpu = len(access_events) / (time.process_time() - started[1])
        alerts = sum(
            sample.value
            for metric in correlator.metrics.registry.collect()
            for sample in metric.samples
            if sample.name == "quaywatch_correlator_alerts_total"
        )
        correlator.close()
        raw_watch = Stopwatch()
        raw = raw_consume(kafka, [ACCESS], len(access_events), 1000, raw_watch)
        raw_cpu = len(access_events) / raw_watch.cpu_s
        # What any correlator does before correlating: read each record and check it (chain,
        # signature, schema, model), all of it in Python: the ceiling of the loop's speed.
        check = RecordCheck.for_site(story_site(kafka, args.blocks).signing)
        checked = raw_consume(
            kafka, [ACCESS], len(access_events), 1000, check=lambda r: check.messages(ACCESS, r)
        )
    # The loop with no correlating: each access event read and checked, and its share of
    # the loop's publishing.
    ceiling = 1 / (1 / checked + correlator.publish_seconds / len(access_events))
    print(
        json.dumps(
            {
                "containers_in_table": len(correlator.engine.table),
                "container_events": len(container_events),
                "yard_blocks": args.blocks,
                "table_bytes": table_bytes,
                "table_bytes_per_container": round(table_bytes / len(correlator.engine.table)),
                "access_events": len(access_events),
                "alerts_published": alerts,
                "correlator_access_events_per_s": round(correlated, 1),
                "raw_kafka_python_records_per_s": round(raw, 1),
                "correlator_vs_raw": round(correlated / raw, 3),
                "read_and_checked_records_per_s": round(checked, 1),
                "correlator_vs_read_and_checked": round(correlated / checked, 3),
                "publishing_alerts_per_s": round(alerts / correlator.publish_seconds, 1),
                "read_check_publish_ceiling_access_events_per_s": round(ceiling, 1),
                "correlator_vs_ceiling": round(correlated / ceiling, 3),
                "correlator_access_events_per_cpu_s": round(correlated_cpu, 1),
                "raw_kafka_python_records_per_cpu_s": round(raw_cpu, 1),
                "correlator_vs_raw_cpu": round(correlated_cpu / raw_cpu, 3),
                "load_average_before": load_before,
                "load_average_after": load_average(),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
