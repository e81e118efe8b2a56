"""Producers publish the heads of their chains on `chain-heads`: every so many acknowledged
records, some seconds after a record not yet in a head, and when they stop cleanly; each head
names the last acknowledged sequence and link hash of every chain, signed like any record."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from config.kafka import Kafka
from config.signing import Signing, WriterRole
from streams.audit.records import read_log
from streams.chain import ChainedProducer, chain_end
from streams.chain_heads import ChainHead
from streams.publisher import Publisher
from streams.record_check import RecordCheck
from streams.topics import ACCESS, CHAIN_HEADS, TERMINAL
from tests.fixtures.port_story import STORY_START, access_event, container_event, night_yard

pytestmark = pytest.mark.integration


def heads_and_ends(kafka: Kafka, signing: Signing) -> tuple[list[ChainHead], dict]:
    """The checked heads on `chain-heads`, in order, and where each chain on the topics ends."""
    log = read_log(kafka)
    check = RecordCheck.for_site(signing)
    heads = [check.placed_message(CHAIN_HEADS, r.placed()) for r in log.topic(CHAIN_HEADS)]
    ends: dict[tuple[str, int, str], tuple[int, str]] = {}
    for record in log.all_records():
        if record.topic != CHAIN_HEADS.name:
            end = chain_end(record.placed())
            ends[(end.topic, end.partition, end.producer_id)] = (end.sequence, end.link_hash)
    return heads, ends


def states(head: ChainHead) -> dict[tuple[str, int, str], tuple[int, str]]:
    return {(c.topic, c.partition, c.producer_id): (c.sequence, c.link_hash) for c in head.chains}


def wait_for_heads(kafka: Kafka, signing: Signing, count: int) -> list[ChainHead]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        heads, _ = heads_and_ends(kafka, signing)
        if len(heads) >= count:
            return heads
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} chain heads after 30 s: {heads}")


def test_a_head_every_n_records_and_a_final_one_at_close(
    kafka_settings: Kafka, role_keys: Signing
) -> None:
    feed = ChainedProducer(
        kafka_settings, WriterRole.terminal, head_every_records=4, head_every_seconds=3600
    )
    events = [container_event(e.container_number, e.activity, e.event_time) for e in night_yard()]
    assert len(events) >= 8
    for event in events[:8]:
        feed.send(TERMINAL, event.stamped()).get(timeout=30)

    heads = wait_for_heads(kafka_settings, role_keys, 2)
    assert [sum(c.count for c in head.chains) for head in heads] == [4, 8]
    _, ends = heads_and_ends(kafka_settings, role_keys)
    assert states(heads[-1]) == ends  # every chain, up to its last record
    assert not any(head.final for head in heads)

    for event in events[8:]:
        feed.send(TERMINAL, event.stamped())
    feed.close()

    heads, ends = heads_and_ends(kafka_settings, role_keys)
    assert heads[-1].final and states(heads[-1]) == ends
    assert sum(c.count for c in heads[-1].chains) == len(events)
    assert {head.producer_id for head in heads} == {feed.chain.producer_id}


def test_a_head_some_seconds_after_the_last_record(
    kafka_settings: Kafka, role_keys: Signing
) -> None:
    feed = ChainedProducer(
        kafka_settings, WriterRole.terminal, head_every_records=1000, head_every_seconds=0.5
    )
    try:
        [first, *_] = night_yard()
        feed.send(TERMINAL, first.stamped()).get(timeout=30)

        [head] = wait_for_heads(kafka_settings, role_keys, 1)
    finally:
        feed.close()
    _, ends = heads_and_ends(kafka_settings, role_keys)
    assert states(head) == ends and not head.final


def test_the_spooling_publisher_publishes_its_heads_at_close(
    kafka_settings: Kafka, role_keys: Signing, tmp_path: Path
) -> None:
    publisher = Publisher(kafka_settings, tmp_path / "spool", 1 << 20, client_id="worker-heads")
    for second in range(5):
        publisher.publish(
            ACCESS, access_event(f"zone-B{second % 2}", STORY_START, f"p{second}", ["B0"])
        )
    assert publisher.flush(timeout_s=30)
    publisher.close()

    heads, ends = heads_and_ends(kafka_settings, role_keys)
    assert heads[-1].final and states(heads[-1]) == ends
    assert sum(c.count for c in heads[-1].chains) == 5
    assert publisher.counters.delivered == 5  # heads are not events
