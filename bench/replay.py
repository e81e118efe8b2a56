"""Audit replay throughput against raw kafka-python consumption, on one embedded broker, one run.

    python bench/replay.py [--containers 20000] [--incidents 3000]

Publishes a made-up port night through the chained producer (so the records carry the chain
headers an audit reads), then measures, over the same topics: a bare kafka-python consumer
reading every record, the audit's full replay (read the log, decode, correlate, diff), its
reading of the log alone, and the chain verification. Prints JSON: each figure per wall second,
the replay and its baseline also per CPU second of this process, and the machine's load
averages before and after.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
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
from streams.audit.records import TimeRange, read_log  # noqa: E402
from streams.audit.replay import compare, histories, replay_alerts  # noqa: E402
from streams.audit.verify import check_chains  # noqa: E402
from streams.broker.embedded import EmbeddedBroker  # noqa: E402
from streams.signing import KeyRing  # noqa: E402
from streams.terminal.events import ContainerEvent  # noqa: E402
from streams.topics import ACCESS, ALERTS, TERMINAL, create_topics  # noqa: E402
from tests.fixtures.port_story import port_night, story_site  # noqa: E402


def main() -> int:
    sign_as_every_role()
    load_before = load_average()
    args = night_size(__doc__, containers=20_000, incidents=3_000, blocks=100)
    events = port_night(
        seed=7, containers=args.containers, incidents=args.incidents, blocks=args.blocks
    )
    with EmbeddedBroker(data_dir=None, memory=True) as broker:
        kafka = Kafka(bootstrap_servers=[broker.bootstrap], topic_prefix="bench.", partitions=3)
        create_topics(kafka)
        site = story_site(kafka, blocks=args.blocks)
        started_at = datetime.now(UTC) - timedelta(seconds=1)
        publish(kafka, events)
        window = TimeRange(started_at, datetime.now(UTC) + timedelta(seconds=1))

        raw_watch = Stopwatch()
        raw_per_s = raw_consume(kafka, [ACCESS, TERMINAL], len(events), 5000, raw_watch)

        with Stopwatch() as replaying:
            started = time.perf_counter()
            log = read_log(kafka, [ACCESS, TERMINAL, ALERTS])
            read_s = time.perf_counter() - started
            alerts = replay_alerts(site, log, window, progress=False).alerts
            diff = compare({}, histories(alerts))
        replay_s = replaying.wall_s

        started = time.perf_counter()
        findings = check_chains(log, window, KeyRing.from_config(site.signing))
        verify_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "events": len(events),
                "access_events": sum(not isinstance(e, ContainerEvent) for e in events),
                "alerts_replayed": len(alerts),
                "alert_ids": len(diff.added),
                "raw_kafka_python_records_per_s": round(raw_per_s),
                "replay_events_per_s": round(len(events) / replay_s),
                "replay_read_s": round(read_s, 2),
                "replay_read_records_per_s": round(log.size / read_s),
                "replay_total_s": round(replay_s, 2),
                "replay_vs_raw": round(len(events) / replay_s / raw_per_s, 3),
                "raw_kafka_python_records_per_cpu_s": round(len(events) / raw_watch.cpu_s),
                "replay_events_per_cpu_s": round(len(events) / replaying.cpu_s),
                "replay_vs_raw_cpu": round(raw_watch.cpu_s / replaying.cpu_s, 3),
                "chain_verify_records_per_s": round(log.size / verify_s),
                "chain_findings": len(findings),
                "load_average_before": load_before,
                "load_average_after": load_average(),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
