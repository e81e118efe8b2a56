"""Correlator throughput against raw kafka-python consumption, on one embedded broker, one run.

    python bench/correlator.py [--containers 100000] [--incidents 5000]

Prints JSON: table memory for the containers, access events/s through the whole correlator
loop (consume, decode, join, classify, publish with acknowledgement, commit) and raw
kafka-python records/s over the same access topic, each per wall second and per CPU second of
this process; records/s of the same consumer checking every record as the correlator does;
alerts/s of the correlator's producer sending its alerts again, a turn's worth at a time,
each turn acknowledged; the loop's ceiling from those two (reading, checking and publishing
with no correlating); and the machine's load averages before and after.
"""

from __future__ import annotations

import json
import math
import sys
import time
import tracemalloc
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
from config.signing import WriterRole  # noqa: E402
from streams.alerts import Alert  # noqa: E402
from streams.broker.embedded import EmbeddedBroker  # noqa: E402
from streams.chained_producer import ChainedProducer  # noqa: E402
from streams.correlator.loop import Correlator, alert_outgoing, send_acknowledged  # noqa: E402
from streams.kafka import BURST_PRODUCER  # noqa: E402
from streams.record_check import RecordCheck  # noqa: E402
from streams.topics import ACCESS, ALERTS, create_topics  # noqa: E402
from tests.fixtures.port_story import port_night, story_site  # noqa: E402


def read_past(correlator: Correlator) -> int:
    """Access records the correlator has stepped past. Not the records polled: the first
    poll after an assignment is dropped, and the gained partitions read again from their
    committed offsets."""
    access = correlator.access
    return sum(access.position(partition) for partition in access.assignment())


def publish_again(kafka: Kafka, alerts: list[Alert], per_turn: int) -> float:
    """Alerts/s of the correlator's producer sending `alerts` to fresh topics with the loop's
    own functions: stamped, encoded, chained, signed, `per_turn` at a time, each turn
    acknowledged before the next."""
    again = kafka.model_copy(update={"topic_prefix": "bench-again."})
    create_topics(again)
    producer = ChainedProducer(again, WriterRole.correlator, **BURST_PRODUCER)
    started = time.perf_counter()
    for first in range(0, len(alerts), per_turn):
        send_acknowledged(producer, [alert_outgoing(a) for a in alerts[first : first + per_turn]])
    per_s = len(alerts) / (time.perf_counter() - started)
    producer.close()
    return per_s


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

        correlator = Correlator(story_site(kafka, args.blocks), kafka, group_id="bench")
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for event in container_events:  # the terminal topic's worth, straight into the table
            correlator.engine.on_container_event(event)
        table_bytes = sum(
            s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename")
        )
        tracemalloc.stop()

        correlator.catch_up()
        started, turns = None, 0
        while read_past(correlator) < len(access_events):
            records = correlator.access.poll(timeout_ms=500, max_records=1000)
            if records and started is None:
                # The group join is not the correlator's speed.
                started = (time.perf_counter(), time.process_time())
            turns += bool(records)
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
        published: list[Alert] = []
        raw_consume(
            kafka,
            [ALERTS],
            int(alerts),
            1000,
            check=lambda r: published.extend(check.messages(ALERTS, r)),
        )
        sent_again = publish_again(kafka, published, math.ceil(len(published) / turns))
    # The loop with no correlating: each access event read and checked, and its share of
    # the alerts sent and acknowledged.
    ceiling = 1 / (1 / checked + len(published) / len(access_events) / sent_again)
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
                "alerts_sent_again_per_s": round(sent_again, 1),
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
